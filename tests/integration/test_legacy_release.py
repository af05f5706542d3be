"""An applet of Ubuntu 14.04 (as DNAnexus's tutorials still have): refused at build with the fix named; with
`runner config set legacy-release nearest` it builds and runs on Ubuntu 20.04, and the build output, the job
log and the job's describe say so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.spec.releases import nearest_release
from tests.integration.helpers import TEST_APPLETS, runner_cli, wait_terminal

pytestmark = pytest.mark.docker

APPLET = TEST_APPLETS / "legacy_1404"


@pytest.fixture
def nearest(engine_home: Path) -> Iterator[None]:
    """legacy-release = nearest in the shared engine's config.toml, set back to refuse afterwards."""
    result = runner_cli(engine_home, "config", "set", "legacy-release", "nearest")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("legacy_release = nearest")
    try:
        yield
    finally:
        runner_cli(engine_home, "config", "set", "legacy-release", "refuse")


def test_a_1404_applet_is_refused_with_the_fix_named(engine_home: Path) -> None:
    result = runner_cli(engine_home, "build", str(APPLET))
    assert result.returncode == 3, result.stderr
    assert "runSpec.release: Ubuntu 14.04 is not supported" in result.stderr
    assert "`runner config set legacy-release nearest` (or RUNNER_LEGACY_RELEASE=nearest)" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_with_nearest_it_runs_on_2004_and_says_so(engine: EngineClient, engine_home: Path, nearest: None) -> None:
    assert nearest_release("14.04") == "20.04"
    built = runner_cli(engine_home, "build", str(APPLET))
    assert built.returncode == 0, built.stderr
    assert ("note: runSpec.release: Ubuntu 14.04 is not supported: this applet runs on Ubuntu 20.04, the nearest "
            "supported release (legacy-release = nearest)") in built.stderr
    applet = built.stdout.strip()
    ran = runner_cli(engine_home, "run", applet, "-i", "greeting=hi", "-y", "--brief")
    assert ran.returncode == 0, ran.stderr
    job = wait_terminal(engine, ran.stdout.split()[-1])
    assert job["state"] == "done", job.get("failureMessage")
    assert job["output"]["said"].startswith("hi from python 3.")
    assert "this applet runs on Ubuntu 20.04" in job["runnerImage"]["releaseNote"]
    assert job["runnerImage"]["image"].endswith("/runtime:ubuntu-20.04")
    log = runner_cli(engine_home, "watch", job["id"], "--no-follow")
    assert "RUNNER warning: Ubuntu 14.04 is not supported: this applet runs on Ubuntu 20.04" in log.stdout
    described = runner_cli(engine_home, "describe", job["id"])
    assert "Release" in described.stdout and "14.04" in described.stdout
    as_json = json.loads(runner_cli(engine_home, "describe", job["id"], "--json").stdout)
    assert as_json["runnerImage"]["releaseNote"] == job["runnerImage"]["releaseNote"]


def test_an_unknown_release_word_is_refused_without_a_fix(tmp_path: Path, engine_home: Path) -> None:
    folder = tmp_path / "trusty"
    folder.mkdir()
    document = json.loads((APPLET / "dxapp.json").read_text())
    document["runSpec"] = {"interpreter": "bash", "code": "main() { :; }", "distribution": "Ubuntu",
                           "release": "trusty"}
    (folder / "dxapp.json").write_text(json.dumps(document))
    result = runner_cli(engine_home, "build", str(folder), "--dry-run")
    assert result.returncode == 3
    assert "runSpec.release: 'trusty' is not an Ubuntu release of the form YY.MM" in result.stderr
