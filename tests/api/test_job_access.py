"""The holes a hostile job used, each closed: detached runs where it may not contribute, other trees' logs and
job settings; and what a job's applet may ask for (access.project) works as the reference says."""

from __future__ import annotations

from typing import Any

import pytest

from runner.spec.ids import new_id
from runner.store.objects import create_container, create_object
from runner.store.tokens import issue_job_token
from tests.api._full_env import Api, add_job, applet_doc

pytestmark = pytest.mark.asyncio


async def _executions(api: Api) -> list[str]:
    status, answer = await api.post("/system/findExecutions", {}, "user")
    assert status == 200
    return [r["id"] for r in answer["results"]]


def _denied(status: int, answer: Any, kind: str = "PermissionDenied") -> str:
    assert status == 401, answer
    assert answer["error"]["type"] == kind
    return str(answer["error"]["message"])


def _contributing_job(api: Api) -> tuple[str, str]:
    """A running job (and its token) in P whose applet asks for CONTRIBUTE access to its project context."""
    db, world = api.world.db, api.world
    applet = create_object(db, "applet", world.P, name="writer", state="closed",
                           doc=applet_doc({"project": "CONTRIBUTE"}), object_id=new_id("applet"))["id"]
    job = add_job(db, applet, world.P, create_container(db, "container", "workspace W"))
    return job, issue_job_token(db, job)


async def test_a_job_cannot_start_a_detached_job_where_it_may_not_contribute(api: Api) -> None:
    world, before = api.world, await _executions(api)
    run = f"/{world.applet}/run"
    message = _denied(*await api.post(run, {"input": {}, "detach": True, "project": world.Q}, "tree"))
    assert f"may not launch a detached job in {world.Q}" in message and "no access" in message
    message = _denied(*await api.post(run, {"input": {}, "detach": True}, "tree"))
    assert f"in {world.P}" in message and "VIEW access" in message
    _denied(*await api.post(run, {"input": {}, "detach": True, "project": world.WB}, "tree"))
    assert await _executions(api) == before
    status, answer = await api.post(run, {"input": {}}, "tree")  # in its own tree: allowed, as before
    assert status == 200, answer
    status, child = await api.post(f"/{answer['id']}/describe", {}, "user")
    assert child["parentJob"] == world.job_a1 and child["rootExecution"] == world.job_a


async def test_access_project_contribute_lets_a_job_detach_into_its_project_only(api: Api) -> None:
    world = api.world
    job, token = _contributing_job(api)
    world.tokens["writer"] = token
    run = f"/{world.applet}/run"
    status, answer = await api.post(run, {"input": {}, "detach": True}, "writer")
    assert status == 200, answer
    status, detached = await api.post(f"/{answer['id']}/describe", {}, "user")
    assert detached["detachedFrom"] == job and detached["project"] == world.P
    assert detached["rootExecution"] == detached["id"]
    _denied(*await api.post(run, {"input": {}, "detach": True, "project": world.Q}, "writer"))


async def test_access_project_contribute_lets_a_job_write_its_project_context(api: Api) -> None:
    world = api.world
    _, world.tokens["writer"] = _contributing_job(api)
    status, answer = await api.post("/file/new", {"project": world.P, "name": "direct.txt"}, "writer")
    assert status == 200, answer
    status, project = await api.post(f"/{world.P}/describe", {}, "writer")
    assert project["level"] == "CONTRIBUTE"
    _denied(*await api.post("/file/new", {"project": world.Q, "name": "x"}, "writer"))
    _denied(*await api.post("/file/new", {"project": world.P, "name": "x"}, "tree"))


async def test_another_trees_job_cannot_read_the_logs(api: Api) -> None:
    world = api.world
    status, records = await api.send("GET", f"/runner/logs?job={world.job_a}&follow=0", "tree")
    assert status == 200 and records[-1] == {"kind": "end", "job": world.job_a, "state": "running"}
    status, answer = await api.send("GET", f"/runner/logs?job={world.job_a}&follow=0", "other_tree")
    assert world.job_a in _denied(status, answer)
    status, answer = await api.send("GET", f"/runner/logs?job={world.job_c}&follow=0", "tree")
    _denied(status, answer)
    code, reason = await api.watch(world.job_a, "other_project")
    assert code == 1008 and reason["type"] == "PermissionDenied"


async def test_another_trees_job_cannot_change_a_jobs_settings(api: Api) -> None:
    world = api.world
    update = f"/{world.job_a}/update"
    _denied(*await api.post(update, {"allowSSH": ["0.0.0.0/0"], "rank": 1000}, "other_tree"))
    for method, body in (("addTags", {"tags": ["evil"]}), ("setProperties", {"properties": {"k": "evil"}}),
                         ("terminate", {})):
        _denied(*await api.post(f"/{world.job_a}/{method}", body, "other_project"))
    status, job = await api.post(f"/{world.job_a}/describe", {"fields": {"allowSSH": True, "rank": True,
                                                                         "tags": True, "state": True}}, "user")
    assert job == {"id": world.job_a, "allowSSH": [], "rank": 0, "tags": [], "state": "running"}
    status, answer = await api.post(update, {"allowSSH": ["10.0.0.0/8"]}, "tree")
    assert status == 200, answer
    status, job = await api.post(f"/{world.job_a}/describe", {"fields": {"allowSSH": True}}, "user")
    assert job["allowSSH"] == ["10.0.0.0/8"]


async def test_find_executions_lists_only_jobs_a_job_may_act_on(api: Api) -> None:
    world = api.world
    status, answer = await api.post("/system/findExecutions", {}, "other_tree")
    assert status == 200 and [r["id"] for r in answer["results"]] == [world.job_b]
    status, answer = await api.post("/system/findExecutions", {}, "tree")
    assert {r["id"] for r in answer["results"]} == {world.job_a, world.job_a1, world.job_a_done}


async def test_identity_tokens_only_for_the_calling_job_itself(api: Api) -> None:
    world = api.world
    _denied(*await api.post(f"/{world.job_a}/getIdentityToken", {"audience": "aud"}, "tree"),
            "InvalidAuthentication")
    _denied(*await api.post(f"/{world.job_a1}/getIdentityToken", {"audience": "aud"}, "user"))
    _denied(*await api.post("/job/new", {"function": "f", "input": {}}, "user"), "InvalidAuthentication")
    status, answer = await api.post(f"/{world.job_a1}/getIdentityToken", {"audience": "aud"}, "tree")
    assert status == 200 and answer["Token"].count(".") == 2


async def test_jwks_is_public_on_purpose(api: Api) -> None:
    status, answer = await api.send("GET", "/runner/jwks", "none")
    assert status == 200 and [key["kty"] for key in answer["keys"]] == ["RSA"]
    assert "d" not in answer["keys"][0]  # the public half only


def _ref(job_id: str) -> dict[str, Any]:
    return {"$dnanexus_link": {"job": job_id, "field": "secret"}}


async def test_a_job_uses_only_outputs_of_jobs_it_may_describe(api: Api) -> None:
    world = api.world
    for route, body in (("/job/new", {"function": "f", "input": {"x": _ref(world.job_a)}}),
                        (f"/{world.applet}/run", {"input": {"x": _ref(world.job_a)}}),
                        ("/job/new", {"function": "f", "input": {"x": [{"y": _ref(world.job_c)}]}})):
        message = _denied(*await api.post(route, body, "other_tree"))
        assert "may not use the output of" in message
    status, answer = await api.post("/job/new", {"function": "f", "input": {"x": _ref(world.job_b)}}, "other_tree")
    assert status == 200, answer
    status, answer = await api.post("/job/new", {"function": "f", "input": {"x": _ref(world.job_a)}}, "tree")
    assert status == 200, answer


async def test_depends_on_needs_view_access_to_what_it_names(api: Api) -> None:
    world = api.world
    elsewhere = create_object(api.world.db, "record", world.Q, name="q", folder="/", state="closed",
                              doc={"details": {}}, object_id=new_id("record"))["id"]
    new = {"function": "f", "input": {}}
    assert "project context" in _denied(*await api.post("/job/new", {**new, "dependsOn": [world.job_a]},
                                                         "other_project"))
    assert elsewhere in _denied(*await api.post("/job/new", {**new, "dependsOn": [elsewhere]}, "tree"))
    status, answer = await api.post("/job/new", {**new, "dependsOn": [world.job_a, world.file_p]}, "other_tree")
    assert status == 200, answer  # VIEW on P: its jobs' states and its objects
