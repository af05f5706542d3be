"""The one place the verbs get their engine client from, so that tests can put a fake in its stead."""

from __future__ import annotations

from runner.client import engine_process
from runner.client.api import EngineClient


def connect() -> EngineClient:
    """A client of the engine of `$RUNNER_HOME`, starting the engine when none is running."""
    return engine_process.connect()
