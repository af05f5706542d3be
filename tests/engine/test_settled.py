"""The loop's advance is incremental: a wake-up examines only the waiting jobs whose record or dependencies
changed, and a job unblocked by any change still moves on (real engine, real SQLite, fake containers)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeJob
from runner.spec.ids import new_id
from runner.store.objects import create_object, update_object
from tests.engine.conftest import Harness, Make, function_of, outputs, ref

pytestmark = pytest.mark.asyncio
WIDTH = 60


def count_examinations(h: Harness) -> list[str]:
    """The job IDs the engine's advance examines, in order (a spy around the real `_progress`)."""
    examined: list[str] = []
    progress = h.engine._progress

    def spy(job: dict[str, Any]) -> bool:
        examined.append(job["id"])
        return progress(job)

    h.engine._progress = spy  # type: ignore[method-assign]
    return examined


async def settle(h: Harness) -> None:
    """Wake the loop and let it run (a job that just wrote what it waits on is examined once more, then settles)."""
    for _ in range(3):
        h.engine.wake()
        await asyncio.sleep(0.05)


async def test_waiting_jobs_are_examined_again_only_when_what_they_wait_on_changes(make: Make) -> None:
    h = await make(cores=2)
    jobs: dict[str, Any] = {"users": []}

    def script(spec: ContainerSpec) -> FakeJob:
        function = function_of(spec)
        if function == "main":
            gate = jobs["gate"] = h.subjob(spec, "gate")
            jobs["users"] = [h.subjob(spec, "use", {"x": ref(gate, "y")}) for _ in range(WIDTH)]
            return outputs(spec, {})
        if function == "gate":
            return outputs(spec, {"y": 7}, duration_s=None)
        return outputs(spec, {})

    h.script = script
    root = h.run()
    await h.until(lambda: len(jobs["users"]) == WIDTH, "the subjobs to be created")
    for user in jobs["users"]:
        await h.in_state(user, "waiting_on_input", dependsOn=[jobs["gate"]])
    await h.in_state(root, "waiting_on_output")
    await settle(h)
    examined = count_examinations(h)
    for _ in range(20):  # wake-ups with nothing changed: a log line, a heartbeat, another tree's job
        h.engine.wake()
        await settle(h)
    assert examined == [], "nothing any waiting job waits on changed"
    h.backend.finish(jobs["gate"])
    for user in jobs["users"]:
        assert (await h.ended(user))["input"] == {"x": 7}
    assert (await h.ended(root))["state"] == "done"
    assert set(jobs["users"]) <= set(examined)
    # Each waiting job is examined a few times in all (when its dependency ended, then as it moved on),
    # never once per wake-up of the whole tree.
    assert max(examined.count(user) for user in jobs["users"]) <= 3


async def test_a_job_waiting_on_a_file_moves_on_when_the_file_closes(make: Make) -> None:
    h = await make()
    h.script = lambda spec: outputs(spec, {})
    file_id = create_object(h.db, "file", h.project, name="in.txt", state="open", doc={},
                            object_id=new_id("file"))["id"]
    job = h.run({"f": {"$dnanexus_link": file_id}})
    await h.in_state(job, "waiting_on_input", dependsOn=[file_id])
    await settle(h)
    examined = count_examinations(h)
    h.engine.wake()
    await settle(h)
    assert examined == []
    update_object(h.db, file_id, state="closed")
    h.engine.wake()  # as /file-xxxx/close does
    ended = await h.ended(job)
    assert ended["state"] == "done", ended.get("failureMessage")
    assert examined[0] == job
