"""Fixtures of the client tests: a canned aiohttp server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.client._server import CannedServer


@pytest.fixture
def server() -> Iterator[CannedServer]:
    """A started CannedServer, stopped after the test."""
    canned = CannedServer()
    canned.start()
    yield canned
    canned.stop()
