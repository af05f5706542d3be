"""A job's token reads its workspace and project context, writes only its workspace; the user does anything."""

from __future__ import annotations

import pytest

from tests.api._data_env import Env


@pytest.mark.asyncio
async def test_a_job_cannot_read_another_project(env: Env) -> None:
    elsewhere = await env.upload([b"secret"], project=env.other_project)
    job = env.job_token
    assert await env.fails(f"/{elsewhere}/describe", token=job) == (401, "PermissionDenied")
    assert await env.fails(f"/{elsewhere}/download", token=job) == (401, "PermissionDenied")
    assert await env.fails(f"/{env.other_project}/describe", token=job) == (401, "PermissionDenied")
    assert await env.fails(f"/{env.other_project}/listFolder", token=job) == (401, "PermissionDenied")
    assert await env.fails("/system/findDataObjects", {"scope": {"project": env.other_project}}, token=job) == (
        401, "PermissionDenied")
    assert (await env.ok("/system/findDataObjects", {}, token=job))["results"] == []
    described = await env.ok("/system/describeDataObjects", {"objects": [elsewhere]}, token=job)
    assert described == {"results": [{}]}


@pytest.mark.asyncio
async def test_a_job_reads_but_cannot_write_its_project_context(env: Env) -> None:
    job = env.job_token
    input_file = await env.upload([b"input"], name="in.txt")
    assert (await env.ok(f"/{input_file}/describe", {"project": env.workspace}, token=job))["project"] == env.project
    url = (await env.ok(f"/{input_file}/download", {}, token=job))["url"]
    assert (await env.get(url))[1] == b"input"
    assert await env.fails("/file/new", {"project": env.project, "name": "x"}, token=job) == (
        401, "PermissionDenied")
    assert await env.fails(f"/{env.project}/newFolder", {"folder": "/x"}, token=job) == (401, "PermissionDenied")
    assert await env.fails(f"/{input_file}/addTags", {"tags": ["x"]}, token=job) == (401, "PermissionDenied")
    assert await env.fails(f"/{env.project}/removeObjects", {"objects": [input_file]}, token=job) == (
        401, "PermissionDenied")
    assert await env.fails(f"/{env.project}/clone", {"objects": [input_file], "project": env.other_project},
                           token=job) == (401, "PermissionDenied")
    assert (await env.ok(f"/{env.project}/describe", {}, token=job))["level"] == "VIEW"


@pytest.mark.asyncio
async def test_a_job_writes_its_workspace(env: Env) -> None:
    job = env.job_token
    output = await env.upload([b"out", b"put"], project=env.workspace, name="out.txt", token=job)
    described = await env.ok(f"/{output}/describe", {}, token=job)
    assert described["project"] == env.workspace and described["createdBy"] == {
        "user": "user-local", "job": env.job_id, "executable": described["createdBy"]["executable"]}
    unnamed = (await env.ok("/file/new", {}, token=job))["id"]
    assert (await env.ok(f"/{unnamed}/describe", {}, token=job))["project"] == env.workspace
    input_file = await env.upload([b"input"])
    await env.ok(f"/{env.project}/clone", {"objects": [input_file], "project": env.workspace}, token=job)
    assert (await env.ok(f"/{env.workspace}/describe", {}, token=job))["level"] == "CONTRIBUTE"
    found = await env.ok("/system/findDataObjects", {"class": "file"}, token=job)
    assert found["results"] == [{"project": env.workspace, "id": output}, {"project": env.workspace, "id": unnamed},
                                {"project": env.project, "id": input_file},
                                {"project": env.workspace, "id": input_file}]


@pytest.mark.asyncio
async def test_no_token_is_invalid_authentication(env: Env) -> None:
    async with env.client.post(f"/{env.project}/describe", json={}) as response:
        assert response.status == 401
        assert (await response.json())["error"]["type"] == "InvalidAuthentication"


@pytest.mark.asyncio
async def test_a_hint_the_job_cannot_read_falls_back_to_a_copy_it_can(env: Env) -> None:
    file_id = await env.upload([b"both"], project=env.other_project)
    await env.ok(f"/{env.other_project}/clone", {"objects": [file_id], "project": env.workspace})
    job = env.job_token
    described = await env.ok(f"/{file_id}/describe", {"project": env.other_project}, token=job)
    assert described["project"] == env.workspace
    assert await env.fails(f"/{file_id}/download", {"project": env.other_project}, token=job) == (
        401, "PermissionDenied")
    assert await env.fails(f"/{file_id}/download", {"project": env.project}, token=job) == (
        404, "ResourceNotFound")
    url = (await env.ok(f"/{file_id}/download", {"project": env.workspace}, token=job))["url"]
    assert (await env.get(url))[1] == b"both"
