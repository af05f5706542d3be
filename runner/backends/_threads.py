"""Blocking Docker SDK calls from the event loop.

Short calls go through `asyncio.to_thread`. Calls that block for a job's whole life (waiting for its exit,
following its logs) get a thread of their own: a few running jobs would otherwise fill the loop's default
executor and stall every other `to_thread` call of the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _succeed(future: asyncio.Future[T], result: T) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[T], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


async def in_own_thread(name: str, function: Callable[[], T]) -> T:
    """Run `function` in a new daemon thread and await its result; cancelling the await leaves it running."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def target() -> None:
        # The loop may be closed by the time the call returns (engine shutdown); then nobody is waiting.
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_fail, future, exc)
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_succeed, future, result)

    threading.Thread(target=target, name=name, daemon=True).start()
    return await future
