"""Debug hold on the fake backend: a held job keeps its container, outlives its timeout, ends terminated."""

from __future__ import annotations

import asyncio

import pytest

from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeJob
from runner.engine._container import debug_on
from tests.engine.conftest import Make, raises

pytestmark = pytest.mark.asyncio
FOREVER = {"duration_s": None}


def fails_and_waits(spec: ContainerSpec) -> FakeJob:
    """A launcher that wrote an AppError and then waits (as it does while it asks for the hold)."""
    return raises(spec, "AppError", "bad input", **FOREVER)


async def test_a_held_job_stays_up_until_terminated_then_ends_terminated(make: Make) -> None:
    h = await make()
    h.script = fails_and_waits
    job_id = h.run(debug_on=("AppError",))
    await h.in_state(job_id, "running")
    await h.until(lambda: bool(h.backend.created), "the container")
    assert h.backend.created[0].env["RUNNER_DEBUG_ON"] == "AppError"
    assert h.engine.hold(job_id)
    held = await h.in_state(job_id, "debug_hold")
    assert h.backend.running_jobs() == [job_id]
    assert held["debug"] == {"debugOn": ["AppError"]}
    assert (held["failureReason"], held["failureMessage"]) == ("AppError", "bad input")
    h.engine.terminate(job_id)
    job = await h.ended(job_id)
    assert job["state"] == "terminated" and job["failureReason"] == "Terminated"
    assert h.states(job_id) == ["runnable", "running", "debug_hold", "terminating", "terminated"]
    assert h.backend.running_jobs() == []


async def test_a_held_job_outlives_its_timeout(make: Make) -> None:
    h = await make()
    h.script = fails_and_waits
    job_id = h.run({}, debug_on=("All",), timeout_policy_by_executable={h.applet["id"]: {"*": {"minutes": 0.005}}})
    await h.in_state(job_id, "running")
    await h.until(lambda: bool(h.backend.created), "the container")
    assert h.engine.hold(job_id)
    await h.in_state(job_id, "debug_hold")
    await asyncio.sleep(0.5)
    assert h.describe(job_id)["state"] == "debug_hold"
    h.engine.terminate(job_id)
    assert (await h.ended(job_id))["state"] == "terminated"


async def test_a_job_with_debug_on_still_times_out_while_running(make: Make) -> None:
    h = await make()
    h.script = lambda spec: FakeJob(**FOREVER)
    job_id = h.run(debug_on=("AppError",), timeout_policy_by_executable={h.applet["id"]: {"*": {"minutes": 0.002}}})
    job = await h.ended(job_id)
    assert (job["state"], job["failureReason"]) == ("failed", "JobTimeoutExceeded")


async def test_the_hold_is_refused_for_an_unlisted_reason(make: Make) -> None:
    h = await make()
    h.script = fails_and_waits
    job_id = h.run(debug_on=("AppInternalError",))
    await h.in_state(job_id, "running")
    await h.until(lambda: bool(h.backend.created), "the container")
    assert not h.engine.hold(job_id)
    h.backend.finish(job_id, exit_code=1)
    job = await h.ended(job_id)
    assert (job["state"], job["failureReason"]) == ("failed", "AppError")


async def test_a_held_container_that_ends_by_itself_fails_the_job_with_its_reason(make: Make) -> None:
    h = await make()
    h.script = fails_and_waits
    job_id = h.run(debug_on=("AppError",))
    await h.in_state(job_id, "running")
    await h.until(lambda: bool(h.backend.created), "the container")
    assert h.engine.hold(job_id)
    await h.in_state(job_id, "debug_hold")
    h.backend.finish(job_id, exit_code=1)
    job = await h.ended(job_id)
    assert (job["state"], job["failureReason"], job["failureMessage"]) == ("failed", "AppError", "bad input")


async def test_all_means_every_reason() -> None:
    assert debug_on({"debug": {"debugOn": ["All"]}}) == ("AppError", "AppInternalError", "ExecutionError")
    assert debug_on({"debug": {"debugOn": ["AppError"]}}) == ("AppError",)
    assert debug_on({}) == ()
