"""Shared test policy: Docker tests skip on a laptop without Docker, and fail under RUNNER_REQUIRE_DOCKER=1."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_APPS = REPO_ROOT / "sample_apps"

# Tests press Ctrl+C (SIGINT) on the commands they start. A shell without job control starts background commands
# with SIGINT ignored, and an ignored signal stays ignored in every child: the commands would never see it. A
# handler, unlike SIG_IGN, is reset to the default in each child, so the children get Ctrl+C as in a terminal.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _docker_problem() -> str | None:
    import docker

    client = None
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the engine means "no Docker here"
        return f"no Docker engine answers ({type(exc).__name__}: {exc})"
    finally:
        if client is not None:
            client.close()
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests that stop the Docker engine go last, so they cannot disturb the other Docker tests.
    items.sort(key=lambda item: item.get_closest_marker("docker_outage") is not None)
    if not any(item.get_closest_marker("docker") for item in items):
        return
    problem = _docker_problem()
    if problem is None:
        return
    if os.environ.get("RUNNER_REQUIRE_DOCKER") == "1":
        raise pytest.UsageError(f"RUNNER_REQUIRE_DOCKER=1 but {problem}; run scripts/ensure-docker")
    skip = pytest.mark.skip(reason=problem)
    for item in items:
        if item.get_closest_marker("docker"):
            item.add_marker(skip)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under RUNNER_REQUIRE_DOCKER=1 a skipped test fails the run: nothing may silently not run."""
    if os.environ.get("RUNNER_REQUIRE_DOCKER") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(f"RUNNER_REQUIRE_DOCKER=1: {len(skipped)} test(s) skipped; every test must run", red=True)


@pytest.fixture(scope="session")
def client() -> Iterator[Any]:
    """One Docker client shared by every Docker test."""
    from runner.backends.docker_host import connect

    docker_client = connect()
    yield docker_client
    docker_client.close()


@pytest.fixture
def runner_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private, empty $RUNNER_HOME for one test."""
    home = tmp_path / "runner-home"
    monkeypatch.setenv("RUNNER_HOME", str(home))
    yield home
