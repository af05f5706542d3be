"""The job permissions of applets-and-entry-points.md, one test per statement, against the served API."""

from __future__ import annotations

import pytest

from tests.api._full_env import Api, api

__all__ = ["api"]
pytestmark = pytest.mark.asyncio


async def test_a_job_has_view_on_its_project_context_and_contribute_on_its_workspace(api: Api) -> None:
    """"the generated job has VIEW access to the project context and CONTRIBUTE access to the workspace only"."""
    world = api.world
    levels = {c: (await api.post(f"/{c}/describe", {}, "tree"))[1].get("level") for c in (world.P, world.WA)}
    assert levels == {world.P: "VIEW", world.WA: "CONTRIBUTE"}
    status, answer = await api.post(f"/{world.Q}/describe", {}, "tree")
    assert (status, answer["error"]["type"]) == (401, "PermissionDenied")


async def test_a_detached_launch_needs_contribute_in_its_project(api: Api) -> None:
    """"To launch the detached job, creator job must have CONTRIBUTE or higher access to the project in which
    the detached job is launched"."""
    world = api.world
    for body in ({"input": {}, "detach": True}, {"input": {}, "detach": True, "project": world.Q}):
        status, answer = await api.post(f"/{world.applet}/run", body, "tree")
        assert (status, answer["error"]["type"]) == (401, "PermissionDenied")


async def test_job_tag_routes_are_for_jobs_sharing_the_workspace_or_the_parents(api: Api) -> None:
    """"the request can also be made by jobs sharing the same workspace as the specified job or the same
    workspace as the parent job of the specified job"."""
    world = api.world
    assert (await api.post(f"/{world.job_a}/addTags", {"tags": ["t"]}, "tree"))[0] == 200
    status, answer = await api.post(f"/{world.job_a}/addTags", {"tags": ["t"]}, "other_tree")
    assert (status, answer["error"]["type"]) == (401, "PermissionDenied")


async def test_job_new_and_identity_tokens_answer_as_documented(api: Api) -> None:
    """/job/new: "InvalidAuthentication (... the auth token used is not a token issued to a job)";
    getIdentityToken: PermissionDenied for a non-job token, InvalidAuthentication for another job's token."""
    world = api.world
    expected = [("/job/new", "user", "InvalidAuthentication"),
                (f"/{world.job_a1}/getIdentityToken", "user", "PermissionDenied"),
                (f"/{world.job_a1}/getIdentityToken", "other_tree", "InvalidAuthentication")]
    for route, caller, kind in expected:
        status, answer = await api.post(route, {"function": "f", "input": {}, "audience": "a"}, caller)
        assert (status, answer["error"]["type"]) == (401, kind), route
