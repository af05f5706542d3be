"""`runner.client.reruns` over real HTTP on a real store: the input a job ran with, its references resolved
from the referenced jobs' outputs, a clear refusal while one is not done, and the applet's source folder."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.client.reruns import RecordedRun, recorded_input, start_rerun
from runner.errors import InvalidState
from runner.spec.ids import new_id
from runner.store.jobs import insert_job, update_job
from runner.store.objects import create_object
from tests.api._full_env import Api, applet_doc

pytestmark = pytest.mark.asyncio


def _client(api: Api) -> EngineClient:
    return EngineClient(str(api.client.make_url("")), str(api.world.tokens["user"]), api.world.P)


def _ref(job: str, field: str, index: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"job": job, "field": field}
    return {"$dnanexus_link": {**body, **({"index": index} if index is not None else {})}}


def _job(api: Api, given: dict[str, Any], *, applet: str | None = None, function: str = "square") -> str:
    """A subjob of tree A, idle, whose input is `given` (references unresolved, as before it runs)."""
    w, job_id = api.world, new_id("job")
    insert_job(w.db, {"id": job_id, "rootExecution": w.job_a, "parentJob": w.job_a, "workspace": w.WA,
                      "project": w.P, "applet": applet or w.applet, "function": function, "name": "n",
                      "try": 0, "originalInput": given, "input": given, "runInput": given})
    return job_id


async def _recorded(api: Api, job: str) -> RecordedRun:
    with _client(api) as client:
        return await asyncio.to_thread(recorded_input, client, job)


async def test_references_resolve_from_the_outputs_of_done_jobs(api: Api) -> None:
    w = api.world
    update_job(w.db, w.job_a_done, {"output": {"squares": [0, 1, 4], "file": {"$dnanexus_link": w.file_p}}})
    job = _job(api, {"all": _ref(w.job_a_done, "squares"), "second": _ref(w.job_a_done, "squares", 1),
                     "nested": [{"f": _ref(w.job_a_done, "file")}], "plain": 7})
    recorded = await _recorded(api, job)
    resolved = {"all": [0, 1, 4], "second": 1, "nested": [{"f": {"$dnanexus_link": w.file_p}}], "plain": 7}
    assert recorded == RecordedRun(w.applet, "square", resolved, None)


@pytest.mark.parametrize("ref,says", [
    (lambda w: _ref(w.job_a, "out"), "is running, not done"),
    (lambda w: _ref(w.job_a_done, "missing"), "'missing'"),
    (lambda w: _ref(w.job_a_done, "squares", 5), "item 5"),
])
async def test_a_reference_that_cannot_resolve_yet_is_a_clear_error(api: Api, ref: Any, says: str) -> None:
    w = api.world
    update_job(w.db, w.job_a_done, {"output": {"squares": [0]}})
    job = _job(api, {"x": ref(w)})
    with pytest.raises(InvalidState, match=f"the input of {job}") as raised:
        await _recorded(api, job)
    assert says in str(raised.value)


async def test_the_source_folder_comes_from_the_applet_and_the_rerun_links_back(api: Api) -> None:
    w = api.world
    doc = applet_doc()
    doc.update({"runSpec": {"code": "main() { :; }\nsquare() { :; }\n"}})
    doc["_runner"] = {**doc["_runner"], "sourceFolder": "/src/scatter"}
    applet = create_object(w.db, "applet", w.P, name="scatter", state="closed", doc=doc,
                           object_id=new_id("applet"))["id"]
    job = _job(api, {"i": 3}, applet=applet)
    recorded = await _recorded(api, job)
    assert (recorded.folder, recorded.input, recorded.entry) == ("/src/scatter", {"i": 3}, "square")
    with _client(api) as client:
        new = await asyncio.to_thread(lambda: start_rerun(
            client, applet, entry="square", input=recorded.input, rerun_of=job,
            run_options={"tags": ["again"]}))
    status, described = await api.post(f"/{new}/describe", {}, "user")
    assert status == 200
    assert (described["function"], described["input"], described["rerunOf"], described["tags"]) == (
        "square", {"i": 3}, job, ["again"])
    assert described["rootExecution"] == new and described["project"] == w.P


async def test_a_job_without_an_applet_cannot_be_re_run(api: Api) -> None:
    w, job_id = api.world, new_id("job")
    insert_job(w.db, {"id": job_id, "rootExecution": job_id, "workspace": w.WA, "project": w.P,
                      "app": "app-x", "function": "main", "name": "n", "try": 0, "input": {}})
    with pytest.raises(InvalidState, match="no applet"):
        await _recorded(api, job_id)
