"""An asset made by `runner asset build`, then imported under a platform record ID, used by unmodified applets."""

from __future__ import annotations

import json
import secrets
import string
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.client.files import download_file
from tests.integration.helpers import runner_cli

pytestmark = pytest.mark.docker

TOOL_ASSET = Path(__file__).resolve().parent / "assets" / "tool_asset"
USES_THE_TOOLS = 'tree --version | cut -d" " -f1,2; asset-hello; asset-made'
WHAT_THE_TOOLS_SAY = "tree v2"


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def applet_using(folder: Path, asset_depends: list[dict[str, Any]]) -> Path:
    """An applet folder whose main calls the asset's three tools and outputs what they print as `out`."""
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "code.sh").write_text(
        f'main() {{\n  out=$({USES_THE_TOOLS})\n  echo "$out"\n'
        '  dx-jobutil-add-output out "$out" --class=string\n}\n')
    (folder / "dxapp.json").write_text(json.dumps({
        "name": folder.name, "dxapi": "1.0.0", "version": "0.0.1", "inputSpec": [],
        "outputSpec": [{"name": "out", "class": "string"}],
        "runSpec": {"interpreter": "bash", "file": "src/code.sh", "distribution": "Ubuntu", "release": "24.04",
                    "assetDepends": asset_depends},
    }))
    return folder


def run_to_the_end(engine_home: Path, folder: Path) -> dict[str, Any]:
    """`runner run FOLDER --wait` (built first); the job's output."""
    return dict(json.loads(ok(runner_cli(engine_home, "run", str(folder), "--wait"))))


def test_a_built_asset_and_its_import_under_a_platform_id_give_applets_their_tools(
        engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    folder = f"/e2e-{uuid.uuid4().hex[:8]}"
    record = ok(runner_cli(engine_home, "asset", "build", str(TOOL_ASSET), "--destination",
                           f"{engine.project}:{folder}")).strip()

    wanted = {"name": "tool_asset", "version": "1.2.0", "project": engine.project, "folder": folder}
    by_name = applet_using(tmp_path / "by_name", [wanted])
    output = run_to_the_end(engine_home, by_name)
    lines = output["out"].splitlines()
    assert lines[0].startswith(WHAT_THE_TOOLS_SAY), lines
    assert lines[1:] == ["hello from the asset", "made by make"]

    # The same archive, as a user who downloaded it from the platform would import it, under the platform's ID.
    archive_id = engine.call(f"/{record}/describe", {"details": True})["details"]["archiveFileId"]["$dnanexus_link"]
    archive = download_file(engine, archive_id, tmp_path / "tool_asset.tar.gz")
    platform_id = "record-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
    ok(runner_cli(engine_home, "asset", "import", str(archive), "--name", "tool_asset_imported",
                  "--version", "1.2.0", "--release", "24.04", "--as", platform_id))
    assert platform_id in ok(runner_cli(engine_home, "asset", "list"))

    by_id = applet_using(tmp_path / "by_id", [{"id": platform_id}])
    assert run_to_the_end(engine_home, by_id) == output


def test_an_applet_naming_an_asset_nobody_made_says_how_to_make_it(engine_home: Path, tmp_path: Path) -> None:
    missing = applet_using(tmp_path / "needs_missing", [{"name": f"nobody-{uuid.uuid4().hex[:6]}", "version": "1"}])
    result = runner_cli(engine_home, "run", str(missing), "--wait")
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "runSpec.assetDepends[0]" in result.stderr
    assert "runner asset build" in result.stderr and "runner asset import" in result.stderr
    assert "Traceback" not in result.stderr
