"""/project-xxxx/destroy with jobs still running in the project, on the whole API with a real Engine (fake backend)."""

from __future__ import annotations

import pytest

from runner.spec.job_states import JobState
from runner.store.jobs import get_job
from tests.api._full_env import Api


@pytest.mark.asyncio
async def test_destroy_refuses_running_jobs_unless_asked_to_terminate_them(api: Api) -> None:
    world = api.world
    status, answer = await api.post(f"/{world.Q}/destroy", {}, "user")
    assert (status, answer["error"]["type"]) == (422, "InvalidState")
    assert world.job_c in answer["error"]["message"] and "terminateJobs" in answer["error"]["message"]
    assert get_job(world.db, world.job_c)["state"] == JobState.RUNNING.value
    status, answer = await api.post(f"/{world.Q}/destroy", {"terminateJobs": True}, "user")
    assert (status, answer) == (200, {})
    assert get_job(world.db, world.job_c)["state"] in (JobState.TERMINATING.value, JobState.TERMINATED.value)
    status, answer = await api.post(f"/{world.Q}/describe", {}, "user")
    assert (status, answer["error"]["type"]) == (404, "ResourceNotFound")
    # The job itself is still described, as ended jobs are on the platform.
    status, answer = await api.post(f"/{world.job_c}/describe", {}, "user")
    assert status == 200 and answer["project"] == world.Q


@pytest.mark.asyncio
async def test_a_job_may_not_destroy_its_own_project(api: Api) -> None:
    status, answer = await api.post(f"/{api.world.Q}/destroy", {"terminateJobs": True}, "other_project")
    assert (status, answer["error"]["type"]) == (401, "PermissionDenied")
    assert "ADMINISTER" in answer["error"]["message"]
