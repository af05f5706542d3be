"""Why a runnable job waits, as the event stream tells it (real engine and store, fake backend): one
`job.updated` event per change of the scheduler's reason, none at a wake-up that finds the same reason,
and a clearing one just before the job runs."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeJob
from runner.spec.events import JobStateChanged, JobUpdated
from runner.store.events import read_after
from tests.engine.conftest import Harness, Make, function_of, outputs, ref

pytestmark = pytest.mark.asyncio
ONE_CORE = {"*": {"instanceType": "mem2_hdd2_x1"}}  # the applet's own instance type has 2 cores
WIDE = 200


def told(h: Harness, job_id: str) -> list[JobUpdated]:
    """The job's job.updated events that say why it waits, oldest first."""
    return [e for e in read_after(h.db, 0, kinds=("job.updated",), limit=100_000)
            if isinstance(e, JobUpdated) and e.job == job_id and "runnerWaiting" in e.changes]


def reasons(h: Harness, job_id: str) -> list[Any]:
    """What those events said, in order."""
    return [e.changes["runnerWaiting"] for e in told(h, job_id)]


async def finish(h: Harness, job_id: str) -> None:
    """End the job's fake container, once it exists."""
    await h.until(lambda: any(spec.job_id == job_id for spec in h.backend.created), f"{job_id}'s container")
    h.backend.finish(job_id)


async def test_the_reason_is_told_once_per_change_and_cleared_when_the_job_runs(make: Make) -> None:
    h = await make(cores=2)
    h.script = lambda spec: FakeJob(duration_s=None)
    holder = h.run(system_requirements=ONE_CORE)
    await h.in_state(holder, "running")
    big = h.run()  # 2 cores: one is free
    await h.until(lambda: reasons(h, big) == ["needs 2 cores; 1 free"], "the first reason told")
    event = told(h, big)[0]
    assert event.root == big and h.engine.waiting[big] == "needs 2 cores; 1 free"

    other = h.run()  # its creation wakes the scheduler up, which finds the same reason for `big`
    await h.until(lambda: reasons(h, other) == ["needs 2 cores; 1 free"], "the second job's reason")
    h.engine.wake()
    await h.until(lambda: reasons(h, other) == ["needs 2 cores; 1 free"], "another wake-up")
    assert reasons(h, big) == ["needs 2 cores; 1 free"], "a wake-up that finds the same reason tells nothing"

    small = h.run(system_requirements=ONE_CORE)  # fits the free core: the room left changes
    await h.in_state(small, "running")
    h.engine.wake()  # the plan that started it weighed `big` before it took the core: the next one tells
    await h.until(lambda: reasons(h, big)[-1:] == ["needs 2 cores; 0 free"], "the changed reason told")
    assert reasons(h, big) == ["needs 2 cores; 1 free", "needs 2 cores; 0 free"]

    for job_id in (small, holder):
        await finish(h, job_id)
    await h.in_state(big, "running")
    said = reasons(h, big)
    assert said[-1] is None, "starting clears the reason"
    assert all(a != b for a, b in itertools.pairwise(said)), f"only changes are told: {said}"
    started = next(e for e in read_after(h.db, 0, kinds=("job.state",), limit=100_000)
                   if isinstance(e, JobStateChanged) and e.job == big and e.to_state == "running")
    assert told(h, big)[-1].seq < started.seq, "cleared before the job runs"
    assert big not in h.engine.waiting  # the engine's close stops what still runs


async def test_a_wide_tree_draining_through_two_cores_tells_each_job_little(make: Make) -> None:
    h = await make(cores=2)
    children: list[str] = []

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            children.extend(h.subjob(spec, "child", system_requirements=ONE_CORE) for _ in range(WIDE))
            return outputs(spec, {"all": [ref(child, "x") for child in children]})
        return outputs(spec, {"x": 1})

    h.script = script
    root = h.run()
    assert (await h.ended(root))["state"] == "done"
    per_job = {child: reasons(h, child) for child in children}
    waited = [said for said in per_job.values() if said]
    assert len(waited) >= WIDE - 2, "all but the first two waited for a core"
    for said in waited:
        assert said[-1] is None and all(a != b for a, b in itertools.pairwise(said)), said
    told_in_all = sum(len(said) for said in waited)
    assert told_in_all <= 3 * WIDE, f"{told_in_all} events for {WIDE} jobs: the stream is flooded"
