"""The proxy's port is kept across engine restarts, so describe's URLs of running jobs stay valid."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from runner.https.proxy import PORT_FILE, HttpsProxy
from runner.https.sessions import Sessions
from runner.store.db import Database

pytestmark = pytest.mark.asyncio


async def test_a_restarted_proxy_listens_on_the_port_of_the_one_before(tmp_path: Path) -> None:
    db = Database(tmp_path / "runner.db")
    first = HttpsProxy(db, tmp_path, Sessions(60))
    port = await first.start_kept()
    await first.close()
    assert (tmp_path / PORT_FILE).read_text() == f"{port}\n"
    second = HttpsProxy(db, tmp_path, Sessions(60))
    assert await second.start_kept() == port
    await second.close()
    db.close()


async def test_a_taken_port_gives_way_to_another(tmp_path: Path) -> None:
    db = Database(tmp_path / "runner.db")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = int(squatter.getsockname()[1])
        (tmp_path / PORT_FILE).write_text(f"{taken}\n")
        proxy = HttpsProxy(db, tmp_path, Sessions(60))
        port = await proxy.start_kept()
        assert port != taken and (tmp_path / PORT_FILE).read_text() == f"{port}\n"
        await proxy.close()
    db.close()
