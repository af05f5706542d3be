"""A real engine daemon (real Docker, store and HTTP) for the TUI's Pilot tests, and a way to wait on the screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from runner.client.api import EngineClient

WAIT_STEP_S = 0.1
WAIT_STEPS = 1800


@pytest.fixture
def own_engine(tmp_path: Path, client: Any) -> Iterator[tuple[EngineClient, Path]]:
    """A client of an engine of a home of its own (none of the session's jobs; its settings may change), and that home."""
    from runner.client.engine_process import connect
    from tests.integration.helpers import engine_of_its_own

    with engine_of_its_own(tmp_path, client) as home:
        yield connect(home, start=False), home


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineClient]:
    """A client of a running engine daemon of its own home; the daemon is stopped at the end of the session."""
    from runner.client.engine_process import connect, start_engine, stop_engine

    home: Path = tmp_path_factory.mktemp("tui")
    start_engine(home)
    try:
        yield connect(home, start=False)
    finally:
        stop_engine(home)


async def until(pilot: Pilot[Any], what: str, check: Callable[[], bool]) -> None:
    """Let the app run until `check()` holds; fails naming `what` if it never does."""
    for _ in range(WAIT_STEPS):
        if check():
            return
        await pilot.pause(WAIT_STEP_S)
    raise AssertionError(f"the screen never showed {what}")
