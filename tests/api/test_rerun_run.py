"""The runner's run extensions over real HTTP on a real store: `entryPoint` starts the root job at another
entry point of the applet's code, `rerunOf` links it to the job it re-runs; both refused, naming the key,
when bad."""

from __future__ import annotations

from typing import Any

import pytest

from runner.spec.ids import new_id
from runner.store.objects import create_object
from tests.api._full_env import Api, applet_doc

pytestmark = pytest.mark.asyncio

BASH = "main() {\n  dx-jobutil-new-job square\n}\n\nsquare() {\n  echo $i\n}\nfunction gather {\n  :\n}\n"
PYTHON = ('import dxpy\n\n@dxpy.entry_point("main")\ndef main(n):\n    pass\n\n'
          '@dxpy.entry_point("square")\ndef square(i):\n    return {"square": i * i}\n\ndxpy.run()\n')
INPUT_SPEC = [{"name": "n", "class": "int"}]


def _applet(api: Api, code: str, interpreter: str = "bash") -> str:
    """An applet in P whose code defines the entry points of `code`, and whose inputSpec is main's `n`."""
    doc = applet_doc()
    doc.update({"title": "Scatter", "inputSpec": INPUT_SPEC,
                "runSpec": {"code": code, "interpreter": interpreter}})
    doc["_runner"] = {**doc["_runner"], "interpreter": interpreter}
    return str(create_object(api.world.db, "applet", api.world.P, name="scatter", state="closed", doc=doc,
                             object_id=new_id("applet"))["id"])


async def _run(api: Api, applet: str, body: dict[str, Any], caller: str = "user") -> tuple[int, Any]:
    return await api.post(f"/{applet}/run", {"project": api.world.P, **body}, caller)


async def _describe(api: Api, job: str) -> dict[str, Any]:
    status, described = await api.post(f"/{job}/describe", {}, "user")
    assert status == 200, described
    return dict(described)


@pytest.mark.parametrize("code,interpreter", [(BASH, "bash"), (PYTHON, "python3")])
async def test_a_run_at_another_entry_point_is_a_root_job_of_that_function_with_the_input_as_given(
        api: Api, code: str, interpreter: str) -> None:
    applet = _applet(api, code, interpreter)
    # square's input is not main's: the inputSpec (n, required) does not apply, as for /job/new.
    status, answer = await _run(api, applet, {"input": {"i": 3}, "entryPoint": "square"})
    assert status == 200, answer
    job = await _describe(api, answer["id"])
    assert job["function"] == "square" and job["rootExecution"] == job["id"] and job["parentJob"] is None
    assert job["input"] == job["originalInput"] == job["runInput"] == {"i": 3}
    assert job["name"] == "Scatter:square"
    assert "rerunOf" not in job


async def test_main_stays_checked_against_the_input_spec(api: Api) -> None:
    applet = _applet(api, BASH)
    status, answer = await _run(api, applet, {"input": {"i": 3}, "entryPoint": "main"})
    assert status == 422 and answer["error"]["type"] == "InvalidInput", answer
    status, answer = await _run(api, applet, {"input": {"n": 3}, "entryPoint": "main"})
    assert status == 200, answer
    assert (await _describe(api, answer["id"]))["function"] == "main"


@pytest.mark.parametrize("entry", ["nope", "Square", "gatherer"])
async def test_an_entry_point_the_code_lacks_is_refused_listing_those_it_has(api: Api, entry: str) -> None:
    status, answer = await _run(api, _applet(api, BASH), {"input": {}, "entryPoint": entry})
    assert status == 422, answer
    error = answer["error"]
    assert error["type"] == "InvalidInput" and error["details"]["field"] == "entryPoint"
    assert "entryPoint" in error["message"] and f"{entry!r}" in error["message"]
    assert "main, square, gather" in error["message"]


@pytest.mark.parametrize("entry", [3, "", None, ["main"], "a b", "$(reboot)"])
async def test_an_entry_point_that_is_no_name_is_refused(api: Api, entry: Any) -> None:
    body = {"input": {}, "entryPoint": entry} if entry is not None else {"input": {}, "entryPoint": {"x": 1}}
    status, answer = await _run(api, _applet(api, BASH), body)
    assert status == 422, answer
    assert answer["error"]["type"] == "InvalidInput" and answer["error"]["details"]["field"] == "entryPoint"


async def test_a_bad_link_in_the_input_of_another_entry_point_is_refused(api: Api) -> None:
    status, answer = await _run(api, _applet(api, BASH), {"input": {"i": {"$dnanexus_link": 7}},
                                                          "entryPoint": "square"})
    assert status == 422 and answer["error"]["type"] == "InvalidInput", answer
    assert "link" in answer["error"]["message"]


async def test_rerun_of_is_recorded_described_and_carried_by_job_created(api: Api) -> None:
    applet, old = _applet(api, BASH), api.world.job_a1
    status, answer = await _run(api, applet, {"input": {"i": 2}, "entryPoint": "square", "rerunOf": old})
    assert status == 200, answer
    new = answer["id"]
    assert (await _describe(api, new))["rerunOf"] == old
    status, only = await api.post(f"/{new}/describe", {"fields": {"rerunOf": True}}, "user")
    assert status == 200 and only == {"id": new, "rerunOf": old}
    status, lines = await api.send("GET", f"/runner/events?follow=false&root={new}&kinds=job.created", "user")
    assert status == 200
    assert [(e["job"], e["function"], e["rerun_of"]) for e in lines] == [(new, "square", old)]
    query = f"follow=false&root={api.world.job_a}&kinds=job.created"
    status, lines = await api.send("GET", f"/runner/events?{query}", "user")
    assert [e["rerun_of"] for e in lines if e["job"] == old] == [None]


@pytest.mark.parametrize("rerun_of,status,kind", [
    ("job-1", 422, "InvalidInput"), (7, 422, "InvalidInput"), ("file-" + "0" * 24, 422, "InvalidInput"),
    ("job-" + "0" * 24, 404, "ResourceNotFound"),
])
async def test_a_bad_rerun_of_is_refused_naming_it(api: Api, rerun_of: Any, status: int, kind: str) -> None:
    got, answer = await _run(api, _applet(api, BASH), {"input": {"n": 1}, "rerunOf": rerun_of})
    assert (got, answer["error"]["type"]) == (status, kind), answer
    assert "rerunOf" in answer["error"]["message"]


@pytest.mark.parametrize("target,allowed", [("job_a_done", True), ("job_a", True), ("job_b", False),
                                            ("job_c", False)])
async def test_a_job_may_name_as_rerun_of_only_a_job_it_may_describe(api: Api, target: str,
                                                                     allowed: bool) -> None:
    """From job_a1 (tree A of P): its own tree's jobs, yes; another tree's (job_b), another project's: no."""
    applet = _applet(api, BASH)
    body = {"input": {"i": 1}, "entryPoint": "square", "rerunOf": api.world.ids[target]}
    status, answer = await api.post(f"/{applet}/run", body, "tree")
    if allowed:
        assert status == 200, answer
        assert (await _describe(api, answer["id"]))["rerunOf"] == api.world.ids[target]
    else:
        assert status == 401 and answer["error"]["type"] == "PermissionDenied", answer
        assert "rerunOf" in answer["error"]["message"]
