"""A parent waiting on many children: the count of what it still waits on is kept as they end, and what a user
sees is what it was when every child's end made the parent examined again (real engine, real SQLite, fake
containers): the right outputs, a failure propagating, restarts of a child, and an engine restarted mid-tree."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeJob
from runner.engine._container import Reachability
from runner.engine.driver import Engine
from runner.engine.scheduler import Resources
from runner.spec.events import JobUpdated
from runner.spec.ids import new_id
from runner.store.events import read_after
from runner.store.objects import create_object, update_object
from tests.engine.conftest import Harness, Make, function_of, outputs, raises, ref
from tests.engine.test_settled import settle

pytestmark = pytest.mark.asyncio
WIDTH = 50
RESTART_ONCE = {"restartOn": {"AppInternalError": 1}, "maxRestarts": 1}


def fan_in(h: Harness, children: list[str], width: int = WIDTH, **request: Any) -> None:
    """Script a master creating `width` children (their containers run until finished) that outputs a
    reference to each one's `x`; child i outputs i."""
    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            children.extend(h.subjob(spec, "leaf", {"i": i}, **request) for i in range(width))
            return outputs(spec, {"all": [ref(child, "x") for child in children]})
        index = children.index(spec.job_id)
        return outputs(spec, {"x": index}, duration_s=None)

    h.script = script


async def end(h: Harness, child: str, exit_code: int = 0) -> dict[str, Any]:
    """Let `child` run (the host fits a few at a time), end its container's process, wait for its end."""
    await h.in_state(child, "running")
    h.backend.finish(child, exit_code)
    return await h.ended(child)


def updates_of(h: Harness, job_id: str) -> list[JobUpdated]:
    """The job.updated events of `job_id` (what `runner watch` shows of its describe changing)."""
    return [e for e in read_after(h.db, 0, kinds=("job.updated",), limit=100_000)
            if isinstance(e, JobUpdated) and e.job == job_id]


async def test_a_parent_waiting_on_fifty_children_gets_each_ones_output_once_the_last_ends(make: Make) -> None:
    h = await make(cores=WIDTH * 2)
    children: list[str] = []
    fan_in(h, children)
    root = h.run()
    await h.until(lambda: len(children) == WIDTH, "the children to be created")
    await h.in_state(root, "waiting_on_output", dependsOn=children)
    updates_before = len(updates_of(h, root))
    for child in children[1:]:  # the first one made ends last
        await end(h, child)
    await settle(h)
    waiting = h.describe(root)
    assert waiting["state"] == "waiting_on_output" and waiting["output"] is None
    assert children[0] in waiting["dependsOn"]
    # The parent's describe is not rewritten at each child's end (one job.updated event per child before; a
    # full look, every 200 wake-ups, may bring its dependsOn up to date once).
    assert len(updates_of(h, root)) - updates_before <= 2
    await end(h, children[0])
    parent = await h.ended(root)
    assert parent["state"] == "done", parent.get("failureMessage")
    assert parent["output"] == {"all": list(range(WIDTH))}
    assert parent["dependsOn"] == []
    assert h.states(root) == ["runnable", "running", "waiting_on_output", "done"]


async def test_a_child_failing_after_others_ended_fails_the_parent_and_terminates_the_rest(make: Make) -> None:
    h = await make(cores=WIDTH * 2)
    children: list[str] = []
    fan_in(h, children)
    bad: list[str] = []
    play = h.script

    def script(spec: ContainerSpec) -> FakeJob:
        if spec.job_id in bad:
            return raises(spec, "AppError", "child 20 broke", duration_s=None)
        return play(spec)

    h.script = script
    root = h.run()
    await h.until(lambda: len(children) == WIDTH, "the children to be created")
    await h.in_state(root, "waiting_on_output", dependsOn=children)
    for child in children[:20]:
        await end(h, child)
    assert h.describe(root)["state"] == "waiting_on_output"
    bad.append(children[20])
    # The child's running container ends with the script's error: as if its process failed now.
    await h.in_state(children[20], "running")
    h.backend.finish(children[20], exit_code=1)
    parent = await h.ended(root)
    assert (parent["state"], parent["failureReason"]) == ("failed", "AppInternalError")
    assert parent["failureFrom"]["id"] == children[20]
    for child in children[21:]:
        assert (await h.ended(child))["state"] == "terminated"
    assert all(h.describe(child)["state"] == "done" for child in children[:20])


async def test_a_child_that_restarts_is_waited_for_and_its_second_try_output_is_used(make: Make) -> None:
    h = await make(cores=WIDTH * 2)
    children: list[str] = []
    fan_in(h, children, width=10)
    play, tries = h.script, dict[str, int]()

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) != "main" and spec.job_id == children[3]:
            tries[spec.job_id] = tries.get(spec.job_id, 0) + 1
            if tries[spec.job_id] == 1:
                return FakeJob(exit_code=1, duration_s=None)
        return play(spec)

    h.script = script
    root = h.run(execution_policy=RESTART_ONCE)
    await h.until(lambda: len(children) == 10, "the children to be created")
    await h.in_state(root, "waiting_on_output", dependsOn=children)
    for child in children[4:]:
        await end(h, child)
    await h.in_state(children[3], "running")
    h.backend.finish(children[3], exit_code=1)  # its first try fails; it restarts (runnable, running)
    await h.until(lambda: tries.get(children[3]) == 2, "the child's second try")
    await h.in_state(children[3], "running")
    assert h.describe(root)["state"] == "waiting_on_output"
    for child in children[:4]:
        await end(h, child)
    parent = await h.ended(root)
    assert parent["state"] == "done", parent.get("failureMessage")
    assert parent["output"] == {"all": list(range(10))}
    assert h.describe(children[3])["try"] == 1


async def test_depends_on_jobs_and_a_file_waits_for_every_one(make: Make) -> None:
    h = await make(cores=8)
    made: dict[str, str] = {}
    file_id = create_object(h.db, "file", h.project, name="gate.txt", state="open", doc={},
                            object_id=new_id("file"))["id"]

    def script(spec: ContainerSpec) -> FakeJob:
        function = function_of(spec)
        if function == "main":
            made["a"], made["b"] = h.subjob(spec, "a"), h.subjob(spec, "b")
            made["use"] = h.subjob(spec, "use", depends_on=(made["a"], made["b"], file_id))
            return outputs(spec, {})
        return outputs(spec, {"ran": function}, duration_s=None if function in ("a", "b") else 0)

    h.script = script
    root = h.run()
    await h.until(lambda: "use" in made, "the subjobs to be created")
    await h.in_state(made["use"], "waiting_on_input", dependsOn=[made["a"], made["b"], file_id])
    await end(h, made["a"])
    update_object(h.db, file_id, state="closed")
    h.engine.wake()  # as /file-xxxx/close does
    await settle(h)
    assert h.describe(made["use"])["state"] == "waiting_on_input"
    await end(h, made["b"])
    assert (await h.ended(made["use"]))["output"] == {"ran": "use"}
    assert (await h.ended(root))["state"] == "done"


def kill(engine: Engine) -> None:
    """Stop an engine's loop and background tasks as a kill -9 would: nothing it keeps in memory survives,
    nothing is written (no try of it is running at that moment)."""
    assert not engine._running
    for task in (engine._loop_task, engine._pruner, engine._sampler):
        if task is not None:
            task.cancel()


async def test_an_engine_restarted_mid_tree_counts_what_the_parent_still_waits_on_afresh(make: Make) -> None:
    h = await make(cores=WIDTH * 2)
    children: list[str] = []
    file_id = create_object(h.db, "file", h.project, name="gate.txt", state="open", doc={},
                            object_id=new_id("file"))["id"]

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            # The first 10 children run at once; the other 10 wait on an open file.
            children.extend(h.subjob(spec, "leaf", depends_on=() if i < 10 else (file_id,)) for i in range(20))
            return outputs(spec, {"all": [ref(child, "x") for child in children]})
        return outputs(spec, {"x": children.index(spec.job_id)})

    h.script = script
    root = h.run()
    await h.until(lambda: len(children) == 20, "the children to be created")
    for child in children[:10]:
        assert (await h.ended(child))["state"] == "done"
    await h.in_state(root, "waiting_on_output")
    await settle(h)
    kill(h.engine)
    await asyncio.sleep(0)
    again = Engine(h.db, h.backend, h.home, Reachability(port=2, socket_dir=h.home),
                   Resources(cores=WIDTH * 2, memory_bytes=64 << 30, gpus=0))
    h.engine = again
    try:
        await again.start()
        await settle(h)
        assert h.describe(root)["state"] == "waiting_on_output"
        assert sorted(h.describe(root)["dependsOn"]) == sorted(children[10:])
        update_object(h.db, file_id, state="closed")
        again.wake()
        parent = await h.ended(root)
        assert parent["state"] == "done", parent.get("failureMessage")
        assert parent["output"] == {"all": list(range(20))}
    finally:
        await again.close()
