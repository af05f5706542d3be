"""Inputs that once got a 500 or were silently accepted, now refused with the field named (found by fuzzing)."""

from __future__ import annotations

import pytest

from tests.api._full_env import Api

pytestmark = pytest.mark.asyncio
MISSING_PROJECT = "project-" + "0" * 24


async def _refused(api: Api, route: str, body: dict[str, object], status: int, kind: str, words: str) -> None:
    got, answer = await api.post(route, body, "user")
    assert (got, answer["error"]["type"]) == (status, kind), answer
    assert words in answer["error"]["message"]


async def test_find_executions_checks_each_filter(api: Api) -> None:
    route = "/system/findExecutions"
    await _refused(api, route, {"state": 5}, 422, "InvalidInput", "'state'")
    await _refused(api, route, {"state": [{"a": 1}]}, 422, "InvalidInput", "'state'")
    await _refused(api, route, {"project": {"a": 1}}, 422, "InvalidInput", "'project'")
    await _refused(api, route, {"name": 3}, 422, "InvalidInput", "'name'")
    await _refused(api, route, {"limit": 0}, 422, "InvalidInput", "'limit'")
    await _refused(api, route, {"describe": 5}, 422, "InvalidInput", "'describe'")
    await _refused(api, route, {"includeSubjobs": "no"}, 422, "InvalidInput", "'includeSubjobs'")
    status, answer = await api.post(route, {"state": ["running", "done"], "includeSubjobs": False, "limit": 2}, "user")
    assert status == 200 and len(answer["results"]) == 2


async def test_a_run_names_an_existing_project(api: Api) -> None:
    world = api.world
    before = (await api.post("/system/findExecutions", {}, "user"))[1]["results"]
    run = f"/{world.applet}/run"
    await _refused(api, run, {"input": {}, "project": MISSING_PROJECT}, 404, "ResourceNotFound", MISSING_PROJECT)
    await _refused(api, run, {"input": {}, "project": "hello"}, 422, "InvalidInput", "'project'")
    await _refused(api, run, {"input": {}, "project": 7}, 422, "InvalidInput", "'project'")
    await _refused(api, "/applet/new", {"project": MISSING_PROJECT}, 404, "ResourceNotFound", MISSING_PROJECT)
    await _refused(api, "/runner/build", {"folder": "/x", "project": ["p"]}, 422, "InvalidInput", "'project'")
    assert (await api.post("/system/findExecutions", {}, "user"))[1]["results"] == before


async def test_a_build_folder_with_a_nul_byte_is_refused(api: Api) -> None:
    await _refused(api, "/runner/build", {"folder": "/tmp/a\u0000b"}, 422, "InvalidInput", "absolute path")
