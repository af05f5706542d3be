"""Job reuse on the fake backend: an equal done job's output is taken at once, unless reuse is off or ignored."""

from __future__ import annotations

import asyncio

import pytest

from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeJob
from runner.config import write_setting
from runner.engine.reuse import reuse_key
from runner.store.jobs import find_jobs
from tests.engine.conftest import Harness, Make, function_of, outputs

pytestmark = pytest.mark.asyncio


def echo(spec: ContainerSpec) -> FakeJob:
    """Output what the job was asked: its job folder's input is not needed, the ID is enough."""
    return outputs(spec, {"ran": spec.job_id})


async def first_done(h: Harness, given: dict[str, object]) -> str:
    """Run the applet once to done; its ID."""
    h.script = echo
    first = h.run(given)
    assert (await h.ended(first))["state"] == "done"
    return first


async def test_with_reuse_an_equal_job_is_done_at_once_with_the_first_ones_output(make: Make) -> None:
    h = await make()
    first = await first_done(h, {"n": 1})
    second = h.run({"n": 1}, reuse=True)
    job = await h.ended(second)
    assert job["state"] == "done"
    assert job["output"] == {"ran": first}
    assert job["outputReusedFrom"] == first
    assert h.states(second) == ["runnable", "running", "done"]
    assert [spec.job_id for spec in h.backend.created] == [first]
    assert "outputReusedFrom" not in h.describe(first)


async def test_without_reuse_an_equal_job_runs_again(make: Make) -> None:
    h = await make()
    first = await first_done(h, {"n": 1})
    second = h.run({"n": 1})
    job = await h.ended(second)
    assert job["output"] == {"ran": second} != h.describe(first)["output"]
    assert "outputReusedFrom" not in job
    assert len(h.backend.created) == 2


@pytest.mark.parametrize("ignore_on", ["run", "applet"])
async def test_ignore_reuse_runs_the_job_again(make: Make, ignore_on: str) -> None:
    h = await make()
    await first_done(h, {"n": 1})
    if ignore_on == "applet":
        h.applet["ignoreReuse"] = True
        second = h.run({"n": 1}, reuse=True)
    else:
        second = h.run({"n": 1}, reuse=True, ignore_reuse=True)
    job = await h.ended(second)
    assert job["output"] == {"ran": second}
    assert job["ignoreReuse"] is True
    assert "outputReusedFrom" not in job


async def test_a_different_input_is_not_reused(make: Make) -> None:
    h = await make()
    await first_done(h, {"n": 1})
    second = h.run({"n": 2}, reuse=True)
    assert (await h.ended(second))["output"] == {"ran": second}


async def test_the_reuse_setting_applies_to_runs_that_do_not_say(make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    h = await make()
    monkeypatch.delenv("RUNNER_REUSE", raising=False)
    first = await first_done(h, {"n": 1})
    write_setting("reuse", "true", home=h.home)
    second = h.run({"n": 1})
    assert (await h.ended(second))["outputReusedFrom"] == first
    monkeypatch.setenv("RUNNER_REUSE", "false")
    third = h.run({"n": 1})
    assert (await h.ended(third))["output"] == {"ran": third}
    explicit = h.run({"n": 1}, reuse=False)
    assert "outputReusedFrom" not in await h.ended(explicit)


async def test_a_reused_root_creates_no_subjobs_and_its_reuse_names_a_job_that_ran(make: Make) -> None:
    h = await make(cores=4)

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            h.subjob(spec, "f")
        return outputs(spec, {"ran": spec.job_id})

    h.script = script
    first = h.run({"n": 1})
    assert (await h.ended(first))["state"] == "done"
    await h.until(lambda: all(j["state"] == "done" for j in find_jobs(h.db, root=first)), "the first tree to end")
    second = h.run({"n": 1}, reuse=True)
    third = h.run({"n": 1}, reuse=True)
    assert (await h.ended(second))["outputReusedFrom"] == first
    assert (await h.ended(third))["outputReusedFrom"] == first
    assert [j["id"] for j in find_jobs(h.db, root=second)] == [second]
    await asyncio.sleep(0.05)
    assert len(h.backend.created) == 2  # first's main and its subjob only


async def test_the_reuse_key_covers_applet_function_input_and_instance_type() -> None:
    job = {"applet": "applet-A", "function": "main", "instanceType": "mem1_ssd1_v2_x2"}
    key = reuse_key(job, {"a": 1, "b": [1, 2]})
    assert key == reuse_key(dict(reversed(list(job.items()))), {"b": [1, 2], "a": 1})
    assert key != reuse_key({**job, "function": "f"}, {"a": 1, "b": [1, 2]})
    assert key != reuse_key({**job, "instanceType": "mem1_ssd1_v2_x4"}, {"a": 1, "b": [1, 2]})
    assert key != reuse_key({**job, "applet": "applet-B"}, {"a": 1, "b": [1, 2]})
    assert key != reuse_key(job, {"a": 1, "b": [2, 1]})
