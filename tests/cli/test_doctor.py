"""`runner doctor`: the facts of this host, every problem with its fix, and its exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.backends.docker_host import connect, engine_version
from runner.build.images import DEFAULT_RELEASE, runtime_image_tag
from runner.cli.doctor import doctor


def test_unreachable_docker_is_reported_with_its_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    result = CliRunner().invoke(doctor, [])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "not reachable at unix:///nonexistent.sock" in result.output
    assert "no Docker engine answers at unix:///nonexistent.sock" in result.output
    assert "fix: run scripts/ensure-docker (as root) or start your Docker engine" in result.output
    assert "CPUs" in result.output and "GPUs" in result.output and "RUNNER_HOME" in result.output


def test_unreachable_docker_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    result = CliRunner().invoke(doctor, ["--json"])
    assert result.exit_code == 1
    facts = json.loads(result.stdout)
    assert facts["docker"] == {"reachable": False, "host": "unix:///nonexistent.sock", "version": None}
    assert facts["images"] == []
    assert facts["host"]["cpus"] >= 1 and facts["host"]["memory_bytes"] > 0
    assert isinstance(facts["gpus"], list)
    [problem] = [p for p in facts["problems"] if "Docker" in p["problem"]]
    assert "scripts/ensure-docker" in problem["fix"]


def test_with_the_local_backend_docker_missing_is_said_but_is_no_problem(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    monkeypatch.setenv("RUNNER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RUNNER_BACKEND", "local")
    facts = json.loads(CliRunner().invoke(doctor, ["--json"]).stdout)
    assert facts["docker"]["reachable"] is False
    assert not [p for p in facts["problems"] if "Docker" in p["problem"]]


@pytest.mark.docker
def test_reachable_docker_reports_version_and_images() -> None:
    client = connect()
    try:
        version = engine_version(client)
    finally:
        client.close()
    result = CliRunner().invoke(doctor, ["--json"])
    facts = json.loads(result.stdout)
    assert facts["docker"]["reachable"] is True and facts["docker"]["version"] == version
    assert result.exit_code == (1 if facts["problems"] else 0)
    runtime = next(image for image in facts["images"] if image["tag"] == runtime_image_tag(DEFAULT_RELEASE))
    missing = [p for p in facts["problems"] if runtime["tag"] in p["problem"]]
    assert bool(missing) is (not runtime["present"] or runtime["up_to_date"] is False)
    assert all(p["fix"] for p in facts["problems"])

    text = CliRunner().invoke(doctor, [])
    assert text.exit_code == result.exit_code
    assert f"{version} at " in text.output
    if runtime["present"]:
        assert runtime["tag"] in text.output
        if runtime["stand_in"]:
            assert f"stand-in built from Debian {runtime['suite']}" in text.output
    assert ("Problems\n  none" in text.output) is (text.exit_code == 0)
