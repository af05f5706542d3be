"""A real run of an app (real Docker, real dxpy in the job): its describe shows the app, its resources and its
project cache; the job reads the resources container but cannot write it, cannot read the project it was
launched from (its access asks for none), and a file it saves in the project cache is there on its next run
in that project, and not in another project's cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from tests.integration.helpers import TEST_APPLETS, build_sample, runner_cli, upload_text, wait_terminal

pytestmark = pytest.mark.docker


def _run(engine: EngineClient, engine_home: Path, target: str, *args: str) -> dict[str, Any]:
    result = runner_cli(engine_home, "run", target, "--brief", *args)
    assert result.returncode == 0, result.stderr
    return wait_terminal(engine, result.stdout.strip())


def test_an_apps_jobs_get_their_resources_and_a_cache_kept_between_runs(engine: EngineClient,
                                                                       engine_home: Path) -> None:
    reference = upload_text(engine, "reference.txt", "ACGT\n")["$dnanexus_link"]
    built = runner_cli(engine_home, "app", "build", str(TEST_APPLETS / "app_cache"), "--version", "1.0.0",
                       "--resource", reference)
    assert built.returncode == 0, built.stderr
    app_id = built.stdout.strip()
    described_app = engine.call(f"/{app_id}/describe", {})
    resources = described_app["resources"]

    first = _run(engine, engine_home, "app-app_cache")
    assert first["state"] == "done", (first.get("failureReason"), first.get("failureMessage"))
    assert first["app"] == app_id and first["resources"] == resources
    cache = first["projectCache"]
    assert cache.startswith("container-") and cache not in (resources, first["workspace"], first["project"])
    output = first["output"]
    assert output["env"] == {"resources": resources, "cache": cache}
    assert output["resources"] == ["app_cache", "reference.txt"]  # the applet, and what --resource put there
    assert output["resource_write"] == "PermissionDenied"
    assert output["project_read"] == "PermissionDenied"
    assert output["runs_before"] == 0

    second = _run(engine, engine_home, "app-app_cache/1.0.0")
    assert second["state"] == "done" and second["projectCache"] == cache
    assert second["output"]["runs_before"] == 1  # the file the first run saved in the cache

    other = engine.call("/project/new", {"name": "another project for app_cache"})["id"]
    elsewhere = _run(engine, engine_home, app_id, "--folder", f"{other}:/")
    assert elsewhere["state"] == "done" and elsewhere["projectCache"] not in (cache, None)
    assert elsewhere["output"]["runs_before"] == 0


def test_a_deleted_app_is_described_but_not_run(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "app_gone"
    shutil.copytree(TEST_APPLETS / "app_cache", folder)
    spec = json.loads((folder / "dxapp.json").read_text())
    (folder / "dxapp.json").write_text(json.dumps({**spec, "name": "app_gone"}))
    built = runner_cli(engine_home, "app", "build", str(folder), "--version", "0.9")
    assert built.returncode == 0, built.stderr
    assert runner_cli(engine_home, "app", "delete", "app-app_gone/0.9").returncode == 0
    shown = runner_cli(engine_home, "app", "describe", "app-app_gone/0.9")
    rows = dict(line.split(None, 1) for line in shown.stdout.splitlines() if line and not line[0].isspace())
    assert shown.returncode == 0 and rows["Deleted"] == "yes" and "Input" not in shown.stdout
    refused = runner_cli(engine_home, "run", "app-app_gone")
    assert refused.returncode == 1
    assert "has been deleted" in refused.stderr and "Traceback" not in refused.stderr


def test_dx_build_app_then_dx_run_and_dx_publish(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    """What `dx build --app` sends is accepted; the app runs with dx run and is published with dx publish."""
    from tests.integration.test_real_dx import dx, ok  # the real dx, in a runtime container

    build_sample(engine, "hello_bash")  # makes (or finds) the runtime image that holds dx
    folder = tmp_path / "dx_made"
    shutil.copytree(TEST_APPLETS / "app_cache", folder)
    spec = json.loads((folder / "dxapp.json").read_text())
    (folder / "dxapp.json").write_text(json.dumps({**spec, "name": "dx_made"}))
    built = json.loads(ok(dx(engine_home, engine, "build", "--app", "dx_made", "--version", "0.1.0", "-y",
                             workdir=tmp_path)).strip().splitlines()[-1])
    app_id = built["id"]
    described = engine.call("/app-dx_made/describe", {})  # dx build tagged it "default": nothing published
    assert described["id"] == app_id and described["aliases"] == ["0.1.0", "default"]
    job = ok(dx(engine_home, engine, "run", "app-dx_made", "-y", "--brief", "--wait", workdir=tmp_path)).strip()
    done = wait_terminal(engine, job.splitlines()[-1])
    assert done["state"] == "done" and done["app"] == app_id and done["output"]["resources"] == ["dx_made"]
    ok(dx(engine_home, engine, "publish", "dx_made/0.1.0", workdir=tmp_path))
    assert engine.call(f"/{app_id}/describe", {})["published"] > 0
    assert "(dx_made), v0.1.0" in ok(dx(engine_home, engine, "find", "apps", workdir=tmp_path))
