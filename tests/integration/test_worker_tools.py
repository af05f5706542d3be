"""The job image holds the tools a platform worker has: a real job calls each one, and `runner images list
--json` and `runner doctor --json` list the image's packages as recorded at its build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.build._base import WORKER_PACKAGES
from runner.build.images import DEFAULT_RELEASE, runtime_image_tag
from runner.client.api import EngineClient
from tests.integration.helpers import run_test_applet, runner_cli, wait_terminal

pytestmark = pytest.mark.docker


def test_a_job_calls_each_standard_tool(engine: EngineClient) -> None:
    job = wait_terminal(engine, run_test_applet(engine, "worker_tools", {}))
    assert job["state"] == "done", job.get("failureMessage")
    report = dict(line.split("=", 1) for line in job["output"]["report"].splitlines())
    assert report["file"] == "application/gzip"
    assert report["bc"] == "1026.0"
    assert report["gawk"] == "300"
    assert report["zip_unzip"] == "2"
    assert report["pigz"] == "chr1,chr2"
    assert report["xz"] == report["bzip2"] == report["md5"]
    assert report["less"] == "200"
    assert report["make_gcc"] == "42"
    assert report["pip"] == "pip"
    assert report["venv"] == "True"
    assert report["time"] == "exit 0"
    assert report["wget"] == job["id"]


def _runtime_entry(entries: list[dict[str, object]]) -> dict[str, object]:
    return next(entry for entry in entries if entry["tag"] == runtime_image_tag(DEFAULT_RELEASE))


def test_images_list_and_doctor_list_the_packages(engine_home: Path) -> None:
    listed = runner_cli(engine_home, "images", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    packages = _runtime_entry(json.loads(listed.stdout))["packages"]
    assert isinstance(packages, list)
    names = {str(package).split("=", 1)[0] for package in packages}
    assert set(WORKER_PACKAGES) <= names and "python3" in names
    assert all(str(package).split("=", 1)[1] for package in packages)  # each with its version
    doctor = runner_cli(engine_home, "doctor", "--json")
    assert _runtime_entry(json.loads(doctor.stdout)["images"])["packages"] == packages
    text = runner_cli(engine_home, "doctor").stdout
    assert "packages: " in text and "gcc=" in text and "pigz=" in text
