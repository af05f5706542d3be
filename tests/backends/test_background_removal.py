"""Removal off the job's path: with `remove_in_background`, run() returns before its container is removed."""

from __future__ import annotations

import asyncio

import pytest

from runner.backends.base import BackendError, ContainerSpec
from runner.backends.fake import FakeBackend, FakeJob

pytestmark = pytest.mark.asyncio


class GatedRemoval(FakeBackend):
    """A FakeBackend whose removals wait for `gate` (and fail when `fail` is set)."""

    def __init__(self) -> None:
        super().__init__(default=FakeJob(exit_code=4, logs=(("stdout", "out"),), duration_s=0.01))
        self.gate = asyncio.Event()
        self.fail = False

    async def _remove(self, handle: str) -> None:
        await self.gate.wait()
        if self.fail:
            raise BackendError(f"could not remove {handle}")
        await super()._remove(handle)


def spec() -> ContainerSpec:
    return ContainerSpec(job_id="job-1", tree_id="job-1", image="img", command=("true",))


async def test_run_returns_the_exit_and_every_line_while_the_removal_still_waits() -> None:
    backend = GatedRemoval()
    backend.remove_in_background = True
    lines: list[str] = []
    result = await backend.run(spec(), timeout_s=None, on_log=lambda _, line: lines.append(line),
                               stop_event=asyncio.Event())
    assert result.exit_code == 4 and lines == ["out"]
    assert backend.removed == []
    settled = asyncio.create_task(backend.settle())
    await asyncio.sleep(0)
    assert not settled.done(), "settle() waits for the removal left to the background"
    backend.gate.set()
    await settled
    assert backend.removed == ["fake-1"]


async def test_a_failed_background_removal_is_logged_and_settle_still_returns(
        caplog: pytest.LogCaptureFixture) -> None:
    backend = GatedRemoval()
    backend.remove_in_background, backend.fail = True, True
    await backend.run(spec(), timeout_s=None, on_log=lambda *_: None, stop_event=asyncio.Event())
    backend.gate.set()
    await backend.settle()
    assert backend.removed == []
    assert "could not remove fake-1" in caplog.text


async def test_without_the_setting_run_returns_only_once_removed() -> None:
    backend = GatedRemoval()
    running = asyncio.create_task(backend.run(spec(), timeout_s=None, on_log=lambda *_: None,
                                              stop_event=asyncio.Event()))
    await asyncio.sleep(0.1)
    assert not running.done()
    backend.gate.set()
    await running
    assert backend.removed == ["fake-1"]
