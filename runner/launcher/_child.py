"""Running the job's process: stdout passes straight through, stderr through a tail buffer; signals forwarded."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from types import FrameType
from typing import TYPE_CHECKING, Any

from ._outcome import LineTail

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# Background processes of the job may keep stderr open after it exits; the launcher does not wait for them.
DRAIN_S = 2.0
CHUNK = 65536

if TYPE_CHECKING:
    from collections.abc import Callable

    Handler = Callable[[int, FrameType | None], Any] | int | None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except OSError:
            return
        view = view[written:]


def _pump(source: int, target: int, tail: LineTail) -> None:
    try:
        while True:
            data = os.read(source, CHUNK)
            if not data:
                break
            _write_all(target, data)
            tail.feed(data)
    finally:
        tail.close()
        os.close(source)


def exit_status(returncode: int) -> int:
    """A shell-style exit status: 128 + N for a process killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def run_child(argv: list[str], env: Mapping[str, str], cwd: str, tail: LineTail) -> int:
    """Run `argv` in its own process group until it exits; its exit status. Signals to us go to its group."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stderr is not None
    source = os.dup(process.stderr.fileno())
    process.stderr.close()
    pump = threading.Thread(target=_pump, args=(source, 2, tail), name="stderr", daemon=True)
    pump.start()

    def forward(signum: int, frame: FrameType | None) -> None:
        try:
            os.killpg(process.pid, signum)
        except OSError:
            pass

    previous: dict[int, Handler] = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        returncode = process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    pump.join(DRAIN_S)
    return exit_status(returncode)
