"""One real engine daemon (real Docker, real store, real HTTP) shared by every integration test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.client.api import EngineClient


@pytest.fixture(scope="session")
def engine_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state folder of the shared engine (short: it holds a Unix socket)."""
    return tmp_path_factory.mktemp("eng")


@pytest.fixture(scope="session")
def engine(engine_home: Path) -> Iterator[EngineClient]:
    """A client of a running engine daemon; the daemon is stopped at the end of the session."""
    from runner.client.engine_process import connect, start_engine, stop_engine

    start_engine(engine_home)
    try:
        yield connect(engine_home, start=False)
    finally:
        stop_engine(engine_home)
