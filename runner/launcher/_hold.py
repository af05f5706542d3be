"""Debug hold: a job that failed with a reason in RUNNER_DEBUG_ON keeps its container up until it is stopped.

The launcher tells the engine (POST /runner/debugHold with the job's own token), which moves the job to
`debug_hold`; then it sleeps until SIGTERM, so that `runner ssh JOB` can look around the failed job.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sys
from collections.abc import Mapping
from types import FrameType
from typing import Any

from . import ENV_DEBUG_ON

APP_ERROR_TYPES = ("AppError", "AppInternalError")
ANNOUNCE_TIMEOUT_S = 30.0


class _Stopped(Exception):
    """SIGTERM (or SIGINT) arrived while the job was held."""


def _say(message: str) -> None:
    sys.stderr.write(f"[applet-runner] {message}\n")
    sys.stderr.flush()


def held_reasons(environ: Mapping[str, str] | None = None) -> list[str]:
    """The failure reasons listed in RUNNER_DEBUG_ON."""
    value = (os.environ if environ is None else environ).get(ENV_DEBUG_ON, "")
    return [part.strip() for part in value.split(",") if part.strip()]


def failure_reason(error: Mapping[str, Any] | None) -> str:
    """The failure reason the engine gives an error document: its type if AppError/AppInternalError."""
    body = error.get("error") if isinstance(error, Mapping) else None
    kind = body.get("type") if isinstance(body, dict) else None
    return kind if kind in APP_ERROR_TYPES else "AppInternalError"


def announce(environ: Mapping[str, str] | None = None) -> bool:
    """Ask the engine to hold this job (POST /runner/debugHold); whether it agreed."""
    env = os.environ if environ is None else environ
    try:
        token = json.loads(env.get("DX_SECURITY_CONTEXT", "{}"))["auth_token"]
        port = int(env.get("DX_APISERVER_PORT", ""))
    except (ValueError, KeyError, TypeError) as exc:
        _say(f"cannot ask the engine for a debug hold: {exc!r}")
        return False
    connection = http.client.HTTPConnection(env.get("DX_APISERVER_HOST", "127.0.0.1"), port,
                                            timeout=ANNOUNCE_TIMEOUT_S)
    try:
        connection.request("POST", "/runner/debugHold", body=b"{}",
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        answer = response.read().decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        _say(f"the engine did not answer the debug hold request: {exc}")
        return False
    finally:
        connection.close()
    if response.status != 200:
        _say(f"the engine refused the debug hold ({response.status}): {answer.strip()}")
        return False
    return True


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped()


def wait_until_stopped() -> None:
    """Sleep until SIGTERM or SIGINT."""
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            signal.pause()
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def hold_if_listed(error: Mapping[str, Any] | None) -> None:
    """If the job's failure reason is in RUNNER_DEBUG_ON and the engine agrees, wait here until stopped."""
    reason = failure_reason(error)
    if error is None or reason not in held_reasons():
        return
    if not announce():
        return
    _say(f"the job failed with {reason}; holding its container for debugging until it is terminated")
    wait_until_stopped()
