"""The engine's async driver, end to end on the fake backend: what describe shows as job trees run."""

from __future__ import annotations

import json

import pytest

from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeJob
from runner.spec.instance_types import catalog
from runner.store.jobs import get_job
from runner.store.tokens import lookup_token
from tests.engine.conftest import Make, function_of, outputs, raises, ref

pytestmark = pytest.mark.asyncio
FOREVER = {"duration_s": None}


async def test_a_job_that_outputs_ends_done_and_its_token_is_revoked(make: Make) -> None:
    h = await make()
    tokens: list[str] = []

    def script(spec: ContainerSpec) -> FakeJob:
        token = json.loads(spec.env["DX_SECURITY_CONTEXT"])["auth_token"]
        info = lookup_token(h.db, token)
        assert info is not None and info.job_id == spec.job_id and not info.revoked
        tokens.append(token)
        return outputs(spec, {"x": 1})

    h.script = script
    job_id = h.run({"n": 5})
    job = await h.ended(job_id)
    assert job["state"] == "done"
    assert h.states(job_id) == ["runnable", "running", "done"]
    assert job["output"] == {"x": 1}
    assert job["input"] == {"n": 5}
    assert job["try"] == 0 and job["failureCounts"] == {}
    assert "failureReason" not in job and "failureFrom" not in job
    assert job["startedRunning"] <= job["stoppedRunning"]
    assert len(tokens) == 1
    info = lookup_token(h.db, tokens[0])
    assert info is not None and info.revoked


async def test_a_parent_waits_on_output_for_the_child_it_references(make: Make) -> None:
    h = await make(cores=4)
    child: list[str] = []

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            child.append(h.subjob(spec, "f", {"k": 1}))
            return outputs(spec, {"from_child": ref(child[0], "x")})
        return outputs(spec, {"x": 42}, **FOREVER)

    h.script = script
    root = h.run()
    await h.until(lambda: bool(child), "the child to be created")
    waiting = await h.in_state(root, "waiting_on_output", dependsOn=[child[0]])
    assert waiting["output"] is None
    h.backend.finish(child[0])
    parent = await h.ended(root)
    assert parent["state"] == "done"
    assert h.states(root) == ["runnable", "running", "waiting_on_output", "done"]
    assert parent["output"] == {"from_child": 42}
    assert parent["dependsOn"] == []
    kid = h.describe(child[0])
    assert kid["state"] == "done" and kid["parentJob"] == root and kid["rootExecution"] == root
    assert kid["function"] == "f" and kid["input"] == {"k": 1}


async def test_a_child_waits_on_input_for_its_siblings_output(make: Make) -> None:
    h = await make(cores=4)
    jobs: dict[str, str] = {}

    def script(spec: ContainerSpec) -> FakeJob:
        function = function_of(spec)
        if function == "main":
            sib = jobs["sib"] = h.subjob(spec, "sib")
            jobs["use"] = h.subjob(spec, "use", {"a": ref(sib, "y"), "b": {"job": sib, "field": "y"},
                                                 "c": ref(sib, "y", index=1), "d": [ref(sib, "z")]})
            return outputs(spec, {})
        if function == "sib":
            return outputs(spec, {"y": [10, 20, 30], "z": "zed"}, **FOREVER)
        return outputs(spec, {})

    h.script = script
    root = h.run()
    await h.until(lambda: "use" in jobs, "the subjobs to be created")
    await h.in_state(jobs["use"], "waiting_on_input", dependsOn=[jobs["sib"]])
    h.backend.finish(jobs["sib"])
    use = await h.ended(jobs["use"])
    resolved = {"a": [10, 20, 30], "b": [10, 20, 30], "c": 20, "d": ["zed"]}
    assert use["state"] == "done"
    assert h.states(jobs["use"]) == ["waiting_on_input", "runnable", "running", "done"]
    assert use["input"] == resolved
    assert use["originalInput"]["b"] == {"job": jobs["sib"], "field": "y"}
    written = json.loads((h.home / "jobs" / jobs["use"] / "job_input.json").read_text())
    assert written == resolved
    assert (await h.ended(root))["state"] == "done"


async def test_a_failing_child_fails_its_parent_and_terminates_its_sibling(make: Make) -> None:
    h = await make(cores=8)
    jobs: dict[str, str] = {}

    def script(spec: ContainerSpec) -> FakeJob:
        function = function_of(spec)
        if function == "main":
            jobs["slow"] = h.subjob(spec, "slow")
            jobs["bad"] = h.subjob(spec, "bad")
            return outputs(spec, {})
        if function == "bad":
            return raises(spec, "AppError", "bad", **FOREVER)
        return outputs(spec, {}, **FOREVER)

    h.script = script
    root = h.run()
    await h.until(lambda: "bad" in jobs, "the subjobs to be created")
    await h.in_state(jobs["slow"], "running")
    await h.in_state(jobs["bad"], "running")
    await h.in_state(root, "waiting_on_output", dependsOn=[jobs["slow"], jobs["bad"]])
    h.backend.finish(jobs["bad"], exit_code=1)
    bad, parent, slow = [await h.ended(jobs["bad"]), await h.ended(root), await h.ended(jobs["slow"])]
    assert (bad["state"], bad["failureReason"], bad["failureMessage"]) == ("failed", "AppError", "bad")
    assert bad["failureFrom"]["id"] == jobs["bad"] and bad["failureFrom"]["function"] == "bad"
    assert h.states(jobs["bad"]) == ["runnable", "running", "failed"]
    assert (parent["state"], parent["failureReason"], parent["failureMessage"]) == ("failed", "AppError", "bad")
    assert parent["failureFrom"]["id"] == jobs["bad"]
    assert h.states(root)[-2:] == ["waiting_on_output", "failed"]
    assert slow["state"] == "terminated" and "failureReason" in slow
    assert h.states(jobs["slow"]) == ["runnable", "running", "terminating", "terminated"]
    assert jobs["slow"] in h.stopped_jobs()
    assert "stoppedRunning" in slow


@pytest.mark.parametrize(("fake", "reason", "words"), [
    (FakeJob(exit_code=3), "AppInternalError", "code 3"),
    (FakeJob(exit_code=1, oom_killed=True), "AppInsufficientResourceError", "out of memory"),
    (FakeJob(exit_code=137), "AppInsufficientResourceError", "out of memory"),
])
async def test_how_a_container_ended_names_the_failure(make: Make, fake: FakeJob, reason: str, words: str) -> None:
    h = await make()
    h.script = lambda spec: fake
    job = await h.ended(h.run())
    assert (job["state"], job["failureReason"]) == ("failed", reason)
    assert words in job["failureMessage"]
    assert job["failureFrom"]["id"] == job["id"]
    assert h.states(job["id"]) == ["runnable", "running", "failed"]


async def test_a_job_past_its_timeout_fails(make: Make) -> None:
    h = await make()
    h.script = lambda spec: FakeJob(duration_s=None)
    job_id = h.run(timeout_policy_by_executable={h.applet["id"]: {"*": {"minutes": 0.002}}})
    job = await h.ended(job_id)
    assert (job["state"], job["failureReason"]) == ("failed", "JobTimeoutExceeded")
    assert job["timeout"] == 120
    assert h.states(job_id) == ["runnable", "running", "failed"]


RESTART_TWICE = {"restartOn": {"AppInternalError": 2}, "maxRestarts": 2}


async def test_a_job_restarts_until_it_succeeds(make: Make) -> None:
    h = await make()
    tries: list[int] = []

    def script(spec: ContainerSpec) -> FakeJob:
        tries.append(get_job(h.db, spec.job_id)["try"])
        return FakeJob(exit_code=1) if tries[-1] < 2 else outputs(spec, {"x": "third time"})

    h.script = script
    job_id = h.run(execution_policy=RESTART_TWICE)
    job = await h.ended(job_id)
    assert tries == [0, 1, 2]
    assert job["state"] == "done" and job["output"] == {"x": "third time"}
    assert job["try"] == 2 and job["failureCounts"] == {"AppInternalError": 2}
    assert h.states(job_id) == ["runnable", "running", "done"]
    assert "failureReason" not in job


async def test_a_job_that_keeps_failing_fails_after_its_restarts(make: Make) -> None:
    h = await make()
    h.script = lambda spec: FakeJob(exit_code=1)
    job = await h.ended(h.run(execution_policy=RESTART_TWICE))
    assert (job["state"], job["failureReason"], job["try"]) == ("failed", "AppInternalError", 2)
    assert job["failureCounts"] == {"AppInternalError": 2}
    assert len(h.backend.created) == 3


async def test_terminate_ends_the_whole_tree(make: Make) -> None:
    h = await make(cores=8)
    child: list[str] = []

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            child.append(h.subjob(spec, "f"))
        return FakeJob(duration_s=None)

    h.script = script
    root = h.run()
    await h.until(lambda: bool(child), "the child to be created")
    await h.in_state(child[0], "running")
    # Running in the store comes just before the container exists: stop it once it does.
    await h.until(lambda: child[0] in {spec.job_id for spec in h.backend.created}, "the child's container")
    h.engine.terminate(root)
    for job_id in (root, child[0]):
        job = await h.ended(job_id)
        assert (job["state"], job["failureReason"]) == ("terminated", "Terminated")
        assert h.states(job_id) == ["runnable", "running", "terminating", "terminated"]
        assert "stoppedRunning" in job
    assert h.stopped_jobs() == {root, child[0]}
    before = [h.describe(j) for j in (root, child[0])]
    h.engine.terminate(root)
    h.engine.terminate(child[0])
    await h.engine.idle()
    assert [h.describe(j) for j in (root, child[0])] == before


async def test_terminating_an_ended_job_leaves_its_running_tree_alone(make: Make) -> None:
    h = await make(cores=8)
    child: list[str] = []

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            child.append(h.subjob(spec, "f"))
            return outputs(spec, {}, **FOREVER)
        return outputs(spec, {})

    h.script = script
    root = h.run()
    await h.until(lambda: bool(child), "the child to be created")
    await h.ended(child[0])
    h.engine.terminate(child[0])
    assert h.describe(child[0])["state"] == "done"
    assert h.states(root) == ["runnable", "running"]
    h.backend.finish(root)
    assert (await h.ended(root))["state"] == "done"


async def test_jobs_never_take_more_cores_than_the_host_has(make: Make) -> None:
    one_core = next(t.name for t in catalog().values() if t.cores == 1 and t.gpus == 0)
    h = await make(cores=2)
    at_start: list[int] = []

    def script(spec: ContainerSpec) -> FakeJob:
        # The containers whose process has not ended, this one included (a job's cores are given back
        # when its process ends, while its state may still read running).
        at_start.append(len(h.backend.running_jobs()) + 1)
        return outputs(spec, {}, duration_s=0.3)

    h.script = script
    ids = [h.run(system_requirements={"*": {"instanceType": one_core}}) for _ in range(4)]
    jobs = [await h.ended(j) for j in ids]
    assert [j["state"] for j in jobs] == ["done"] * 4
    assert {j["instanceType"] for j in jobs} == {one_core}
    assert len(at_start) == 4 and max(at_start) == 2


async def test_a_reference_to_a_missing_field_fails_the_waiting_job(make: Make) -> None:
    h = await make(cores=8)
    jobs: dict[str, str] = {}

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            sib = jobs["sib"] = h.subjob(spec, "sib")
            jobs["use"] = h.subjob(spec, "use", {"a": ref(sib, "nope")})
            return outputs(spec, {})
        return outputs(spec, {"y": 1})

    h.script = script
    root = h.run()
    await h.until(lambda: "use" in jobs, "the subjobs to be created")
    use, parent = await h.ended(jobs["use"]), await h.ended(root)
    assert (use["state"], use["failureReason"]) == ("failed", "InputError")
    assert "nope" in use["failureMessage"] and use["failureFrom"]["id"] == jobs["use"]
    assert h.states(jobs["use"])[-1] == "failed" and "running" not in h.states(jobs["use"])
    assert (parent["state"], parent["failureReason"]) == ("failed", "InputError")
    assert parent["failureFrom"]["id"] == jobs["use"]


async def test_a_master_job_missing_a_required_output_fails(make: Make) -> None:
    h = await make(output_spec=[{"name": "z", "class": "int"}])
    h.script = lambda spec: outputs(spec, {"x": 1})
    job = await h.ended(h.run())
    assert (job["state"], job["failureReason"]) == ("failed", "OutputError")
    assert "'z'" in job["failureMessage"]
    assert job["output"] is None
    assert h.states(job["id"])[:2] == ["runnable", "running"] and h.states(job["id"])[-1] == "failed"


async def test_depending_on_a_job_that_fails_fails_the_dependent(make: Make) -> None:
    h = await make(cores=8)
    h.script = lambda spec: raises(spec, "AppError", "no", **FOREVER) if spec.job_id == first else outputs(spec, {})
    first = h.run()
    await h.in_state(first, "running")
    second = h.run(depends_on=(first,))
    await h.in_state(second, "waiting_on_input", dependsOn=[first])
    h.backend.finish(first, exit_code=1)
    job = await h.ended(second)
    assert (job["state"], job["failureReason"]) == ("failed", "InputError")
    assert first in job["failureMessage"] and job["failureFrom"]["id"] == second
    assert h.states(second) == ["waiting_on_input", "failed"]
    assert (await h.ended(first))["failureReason"] == "AppError"
