"""Builds refuse links out of the folder and special files, and warn about sizes: via the CLI and build_applet."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import docker
import pytest
from click.testing import CliRunner

from runner.build.applet import build_applet
from runner.cli.main import cli
from runner.errors import SpecError
from tests.conftest import REPO_ROOT

# A bound on a process that would otherwise hang for ever (what a FIFO did to `runner build`), not a speed check.
HANG_BOUND_S = 120
TOOL = "#!/bin/sh\necho tool\n"


def applet(folder: Path) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "code.sh").write_text("main() { echo hi; }\n")
    (folder / "dxapp.json").write_text(json.dumps({"name": folder.name, "runSpec": {
        "interpreter": "bash", "file": "src/code.sh", "distribution": "Ubuntu", "release": "24.04"}}))
    return folder


def dry_run_json(folder: Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["build", str(folder), "--dry-run", "--json"])
    return result.exit_code, json.loads(result.output)


def sparse(path: Path, size: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["truncate", "-s", size, str(path)], check=True)


def test_dry_run_lists_each_refused_path_and_exits_3(tmp_path: Path) -> None:
    folder = applet(tmp_path / "hostile")
    (tmp_path / "host.txt").write_text("host file\n")
    (folder / "Readme.md").symlink_to(tmp_path / "host.txt")
    os.mkfifo(folder / "Readme.developer.md")
    (folder / "resources" / "opt").mkdir(parents=True)
    (folder / "resources" / "opt" / "etc").symlink_to("/etc")
    os.mkfifo(folder / "resources" / "opt" / "pipe")
    code, report = dry_run_json(folder)
    assert code == 3 and report["valid"] is False
    assert {p["path"]: p["message"] for p in report["problems"]} == {
        "Readme.md": f"is a link to {str(tmp_path / 'host.txt')!r}, outside the applet folder",
        "Readme.developer.md": "is a FIFO (named pipe); a build reads only regular files",
        "resources/opt/etc": "is a link to '/etc', outside the applet folder",
        "resources/opt/pipe": "is a FIFO (named pipe); a build takes only files, folders and links",
    }


def test_dry_run_warns_about_a_sparse_2_gb_file_and_still_exits_0(tmp_path: Path) -> None:
    folder = applet(tmp_path / "big")
    sparse(folder / "resources" / "data" / "big.bin", "2G")
    code, report = dry_run_json(folder)
    assert code == 0 and report["valid"] is True
    warnings = {w["path"]: w["message"] for w in report["warnings"]}
    assert set(warnings) == {"resources/data/big.bin", "resources"}
    assert warnings["resources/data/big.bin"].startswith("is 2.0 GiB (2147483648 bytes)")
    text = CliRunner().invoke(cli, ["build", str(folder), "--dry-run"])
    assert text.exit_code == 0
    assert "  warning      resources: holds 2.0 GiB (2147483648 bytes) in all, over 1.0 GiB" in text.output


def test_the_installed_command_refuses_a_fifo_entry_point_without_hanging(tmp_path: Path) -> None:
    folder = applet(tmp_path / "piped")
    (folder / "src" / "code.sh").unlink()
    os.mkfifo(folder / "src" / "code.sh")
    result = subprocess.run([sys.executable, "-m", "runner", "build", str(folder), "--dry-run"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=HANG_BOUND_S, check=False)
    assert result.returncode == 3
    assert "  - runSpec.file: 'src/code.sh' is a FIFO (named pipe); a build reads only regular files" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner-home")


def build(folder: Path, home: Path, client: docker.DockerClient) -> Any:
    return build_applet(folder, home, client, progress=lambda message: None)


@pytest.mark.docker
def test_build_applet_refuses_before_storing_anything(tmp_path: Path, home: Path, client: docker.DockerClient) -> None:
    folder = applet(tmp_path / "refused")
    (folder / "Readme.md").symlink_to("/etc/hostname")
    (folder / "resources").mkdir()
    os.mkfifo(folder / "resources" / "pipe")
    with pytest.raises(SpecError) as caught:
        build(folder, home, client)
    assert {p.path: p.message for p in caught.value.problems} == {
        "Readme.md": "is a link to '/etc/hostname', outside the applet folder",
        "resources/pipe": "is a FIFO (named pipe); a build takes only files, folders and links",
    }
    assert not (home / "applets").exists() or list((home / "applets").iterdir()) == []


@pytest.mark.docker
def test_build_applet_keeps_inside_links_and_notes_a_sparse_2_gb_file(
    tmp_path: Path, home: Path, client: docker.DockerClient
) -> None:
    folder = applet(tmp_path / "kept")
    tool = folder / "resources" / "usr" / "local" / "bin" / "tool"
    tool.parent.mkdir(parents=True)
    tool.write_text(TOOL)
    (tool.parent / "alias").symlink_to("tool")
    sparse(folder / "resources" / "data" / "big.bin", "2G")
    total = 2**31 + len(TOOL)
    built = build(folder, home, client)
    try:
        assert [note for note in built.notes if note.startswith("resources")] == [
            ("resources/data/big.bin: is 2.0 GiB (2147483648 bytes) (a sparse file counts at its full size), over "
             "512.0 MiB (536870912 bytes): it is stored in the applet and unpacked in every job"),
            (f"resources: holds 2.0 GiB ({total} bytes) in all, over 1.0 GiB (1073741824 bytes): it is stored as "
             "one tar file and unpacked in every job"),
        ]
        assert built.resources_tar is not None
        with tarfile.open(built.resources_tar) as tar:
            alias, big = tar.getmember("usr/local/bin/alias"), tar.getmember("data/big.bin")
        assert alias.issym() and alias.linkname == "tool"
        assert big.isfile() and big.size == 2 * 2**30
        assert (built.folder / "dxapp.json").read_bytes() == (folder / "dxapp.json").read_bytes()
    finally:
        shutil.rmtree(built.folder)  # 2 GB on a shared disk
