"""dxpy's log sockets: records below warning are relayed to stderr, the rest are left to dxpy's stderr handler."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from runner.launcher._dxlog import _format, start_log_sockets


def record(level: int, msg: str) -> bytes:
    return json.dumps({"source": "DX_APP", "timestamp": 0, "level": level, "msg": msg}).encode()


def test_info_and_debug_records_become_stderr_lines() -> None:
    assert _format(record(6, "reading input")) == "INFO: reading input"
    assert _format(record(7, "details")) == "DEBUG: details"


def test_warning_and_worse_are_not_repeated_and_garbage_is_ignored() -> None:
    assert _format(record(4, "careful")) is None
    assert _format(record(3, "broken")) is None
    assert _format(b"not json") is None


def test_a_datagram_sent_to_the_bulk_socket_reaches_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sockets = start_log_sockets(str(tmp_path / "log"))
    try:
        assert sorted(p.name for p in (tmp_path / "log").iterdir()) == ["bulk", "priority"]
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sender.connect(str(tmp_path / "log" / "bulk"))
        sender.send(record(6, "hello from dxpy"))
        sender.close()
        seen = ""
        for _ in range(100):
            seen += capsys.readouterr().err
            if "hello from dxpy" in seen:
                break
            time.sleep(0.02)
        assert "INFO: hello from dxpy" in seen
    finally:
        for sock in sockets:
            sock.close()
