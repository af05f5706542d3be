"""Reaching the Docker engine, and what the user is told when it does not answer."""

from __future__ import annotations

import pytest

from runner.backends.docker_host import DOCKER_FIX, connect, engine_version
from runner.errors import EnvironmentProblem


def test_unreachable_engine_is_an_environment_problem_with_a_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    with pytest.raises(EnvironmentProblem) as caught:
        connect()
    assert caught.value.fix == DOCKER_FIX
    assert "unix:///nonexistent.sock" in str(caught.value)
    assert "no such file or directory" in str(caught.value)


@pytest.mark.docker
def test_engine_version_of_a_reachable_engine() -> None:
    client = connect()
    try:
        version = engine_version(client)
    finally:
        client.close()
    assert version and version != "unknown" and version[0].isdigit()
