"""execDepends that cannot work here fail at build, on one message with the reason and the way out (never a
traceback, never mid-job): a git package, a pip pin with no wheel for the image's Python, an apt package that
does not exist, a package manager the runner does not install from."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import runner_cli

pytestmark = pytest.mark.docker


def applet(folder: Path, depends: list[dict[str, Any]], network: bool = True) -> Path:
    """A bash applet in `folder` with these execDepends (and network access, which they need)."""
    folder.mkdir()
    (folder / "dxapp.json").write_text(json.dumps({
        "name": folder.name, "runSpec": {
            "interpreter": "bash", "code": "main() { echo never; }", "distribution": "Ubuntu", "release": "24.04",
            "execDepends": depends},
        "access": {"network": ["*"]} if network else {}}))
    return folder


def refused(engine_home: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    result = runner_cli(engine_home, "build", str(folder))
    assert result.returncode != 0 and result.stdout == ""
    assert "Traceback" not in result.stderr
    return result


def test_a_git_package_names_the_clone_to_vendor(tmp_path: Path, engine_home: Path) -> None:
    folder = applet(tmp_path / "gitdep", [{"name": "samtools", "package_manager": "git", "tag": "1.3.1",
                                           "url": "https://github.com/samtools/samtools.git",
                                           "destdir": "/home/dnanexus", "build_commands": "make samtools"}])
    result = refused(engine_home, folder)
    assert result.returncode == 3
    assert "runSpec.execDepends[0]: git packages are cloned from the network when a job starts" in result.stderr
    assert ("git clone --depth 1 --branch 1.3.1 https://github.com/samtools/samtools.git "
            "resources/home/dnanexus/samtools") in result.stderr
    assert "make samtools" in result.stderr


def test_a_pip_pin_without_a_wheel_names_package_version_and_python(tmp_path: Path, engine_home: Path) -> None:
    # pysam 0.15.4 (2019) has wheels up to CPython 3.8; the 24.04 image's python3 is 3.12 (3.13 on a stand-in).
    folder = applet(tmp_path / "oldpysam", [{"name": "pysam", "package_manager": "pip", "version": "0.15.4"}])
    result = refused(engine_home, folder)
    assert result.returncode == 3
    assert "runSpec.execDepends[0]: pip package pysam==0.15.4 has no wheel for Python 3.1" in result.stderr
    assert "versions that do: " in result.stderr and "pin one of them" in result.stderr


def test_an_apt_package_that_does_not_exist_is_named(tmp_path: Path, engine_home: Path) -> None:
    folder = applet(tmp_path / "noapt", [{"name": "no-such-package-for-runner-tests"}], network=False)
    result = refused(engine_home, folder)
    assert result.returncode == 3
    assert ("runSpec.execDepends[0]: apt package no-such-package-for-runner-tests does not exist in Ubuntu 24.04"
            in result.stderr)
    assert "E: Unable to locate package no-such-package-for-runner-tests" in result.stderr


def test_an_unsupported_package_manager_says_what_to_do(tmp_path: Path, engine_home: Path) -> None:
    folder = applet(tmp_path / "gemdep", [{"name": "tree"}, {"name": "rake", "package_manager": "gem"}])
    result = refused(engine_home, folder)
    assert result.returncode == 3
    assert "runSpec.execDepends[1]: rake (gem): packages of gem are not installed by this runner" in result.stderr
    assert "install it from the job's code" in result.stderr
