"""The launcher's debug hold: which failures are held, the announcement to the engine, the wait for SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from runner.launcher import ENV_DEBUG_ON
from runner.launcher._hold import announce, failure_reason, held_reasons, hold_if_listed, wait_until_stopped


def test_the_reasons_come_from_the_environment() -> None:
    assert held_reasons({ENV_DEBUG_ON: "AppError, AppInternalError"}) == ["AppError", "AppInternalError"]
    assert held_reasons({}) == []


def test_an_error_documents_reason_is_its_type_or_app_internal_error() -> None:
    assert failure_reason({"error": {"type": "AppError", "message": "m"}}) == "AppError"
    assert failure_reason({"error": {"type": "Weird", "message": "m"}}) == "AppInternalError"
    assert failure_reason(None) == "AppInternalError"


@pytest.fixture
def engine_stub() -> Iterator[dict[str, Any]]:
    seen: dict[str, Any] = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
            length = int(self.headers.get("Content-Length") or 0)
            seen.update(path=self.path, auth=self.headers.get("Authorization"), body=self.rfile.read(length))
            self.send_response(seen["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen["env"] = {"DX_APISERVER_HOST": "127.0.0.1", "DX_APISERVER_PORT": str(server.server_address[1]),
                   "DX_SECURITY_CONTEXT": json.dumps({"auth_token_type": "Bearer", "auth_token": "tok"})}
    yield seen
    server.shutdown()
    server.server_close()


def test_the_hold_is_announced_with_the_jobs_token(engine_stub: dict[str, Any]) -> None:
    assert announce(engine_stub["env"])
    assert (engine_stub["path"], engine_stub["auth"], engine_stub["body"]) == ("/runner/debugHold", "Bearer tok", b"{}")


def test_a_refused_hold_is_not_held(engine_stub: dict[str, Any], capfd: pytest.CaptureFixture[str]) -> None:
    engine_stub["status"] = 422
    assert not announce(engine_stub["env"])
    assert "refused" in capfd.readouterr().err


def test_an_unlisted_failure_is_not_announced(engine_stub: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    engine_stub["status"] = 422  # were it held by mistake, the refusal ends the hold instead of a hang
    for name, value in {**engine_stub["env"], ENV_DEBUG_ON: "AppInternalError"}.items():
        monkeypatch.setenv(name, value)
    hold_if_listed({"error": {"type": "AppError", "message": "m"}})
    hold_if_listed(None)
    assert "path" not in engine_stub
    hold_if_listed({"error": {"type": "Weird", "message": "m"}})  # AppInternalError: listed, so announced
    assert engine_stub["path"] == "/runner/debugHold"
    assert "refused" in capfd.readouterr().err


def test_the_wait_ends_at_sigterm() -> None:
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM))
    before = signal.getsignal(signal.SIGTERM)
    timer.start()
    wait_until_stopped()
    assert signal.getsignal(signal.SIGTERM) == before
