"""The API's limits (runner.api.core.limits) and error bodies: every refusal is a 4xx naming the field, in the
documented `{"error": {type, message, details}}` shape, aiohttp's own answers included; never a 500."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from runner.api.core.limits import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_LIST_ITEMS,
    MAX_NAME_CHARS,
    MAX_PATH_CHARS,
)
from tests.api._full_env import Api

pytestmark = pytest.mark.asyncio


async def _raw(api: Api, method: str, path: str, data: bytes | str, caller: str = "user") -> tuple[int, Any]:
    """Send `data` as it is (no JSON encoding by the client); (status, JSON answer)."""
    headers = {**api.headers(caller), "Content-Type": "application/json"}
    payload = io.BytesIO(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    async with api.client.request(method, path, data=payload, headers=headers) as response:
        assert response.content_type == "application/json", await response.text()
        return response.status, await response.json()


def _error(status: int, answer: Any, expected_status: int, kind: str) -> dict[str, Any]:
    assert status == expected_status, answer
    error: dict[str, Any] = answer["error"]
    assert error["type"] == kind and isinstance(error["message"], str) and isinstance(error["details"], dict)
    return error


def _nested(depth: int) -> str:
    return '{"name": "x", "details": ' + "[" * depth + "]" * depth + "}"


async def test_nesting_is_bounded_at_the_documented_depth(api: Api) -> None:
    new = "/record/new"
    deepest_allowed: Any = []
    for _ in range(MAX_JSON_DEPTH - 2):
        deepest_allowed = [deepest_allowed]
    status, answer = await api.post(new, {"project": api.world.P, "details": deepest_allowed}, "user")
    assert status == 200, answer
    error = _error(*await _raw(api, "POST", new, _nested(MAX_JSON_DEPTH + 1)), 422, "InvalidInput")
    assert error["details"]["field"].startswith("details[0][0]") and str(MAX_JSON_DEPTH) in error["message"]
    for depth in (900, 100_000):  # deeper than Python's own recursion limit
        error = _error(*await _raw(api, "POST", f"/{api.world.job_a}/describe", _nested(depth)), 422, "InvalidInput")
        assert "nested" in error["message"]


async def test_a_lone_surrogate_is_refused_naming_the_field(api: Api) -> None:
    world = api.world
    body = '{"project": "%s", "name": "bad \\ud800 name"}' % world.P
    error = _error(*await _raw(api, "POST", "/file/new", body), 422, "InvalidInput")
    assert error["details"]["field"] == "name" and "surrogate" in error["message"]
    body = '{"properties": {"k\\udfff": "v"}}'
    error = _error(*await _raw(api, "POST", f"/{world.job_a}/setProperties", body), 422, "InvalidInput")
    assert error["details"]["field"] == "properties.k\udfff"
    body = '{"input": {}, "project": "%s", "tags": ["\\ud83d"]}' % world.P
    error = _error(*await _raw(api, "POST", f"/{world.applet}/run", body), 422, "InvalidInput")
    assert error["details"]["field"] == "tags[0]"
    status, answer = await _raw(api, "POST", "/file/new", '{"project": "%s", "name": "\\ud83d\\ude00"}' % world.P)
    assert status == 200, answer  # a surrogate pair is a real character (U+1F600)


async def test_names_paths_and_arrays_are_bounded(api: Api) -> None:
    world = api.world
    new_file = {"project": world.P}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("/file/new", {**new_file, "name": "n" * (MAX_NAME_CHARS + 1)}, "name"),
        ("/file/new", {**new_file, "name": "ok", "folder": "/" + "f" * MAX_PATH_CHARS}, "folder"),
        ("/file/new", {**new_file, "name": "ok", "tags": ["t" * (MAX_NAME_CHARS + 1)]}, "tags[0]"),
        (f"/{world.P}/removeObjects", {"objects": [world.file_p] * (MAX_LIST_ITEMS + 1)}, "objects"),
        (f"/{world.P}/move", {"folders": ["/" + "d" * MAX_PATH_CHARS], "destination": "/"}, "folders[0]"),
        ("/system/findDataObjects", {"scope": {"project": world.P, "folder": "/" + "x" * MAX_PATH_CHARS}},
         "scope.folder"),
    ]
    for route, body, field in cases:
        error = _error(*await api.post(route, body, "user"), 422, "InvalidInput")
        assert error["details"]["field"] == field, (route, error)
    status, answer = await api.post("/file/new", {**new_file, "name": "n" * MAX_NAME_CHARS}, "user")
    assert status == 200, answer


async def test_a_body_over_the_limit_is_413_in_the_documented_shape(api: Api) -> None:
    body = json.dumps({"name": "x", "details": {"blob": "b" * MAX_BODY_BYTES}})
    error = _error(*await _raw(api, "POST", "/file/new", body), 413, "InvalidInput")
    assert str(MAX_BODY_BYTES) in error["message"]
    status, answer = await api.post(f"/{api.world.job_a}/describe", {}, "user")
    assert status == 200  # and the server carries on


async def test_a_relative_folder_is_refused_everywhere_a_folder_is_taken(api: Api) -> None:
    world = api.world
    before = (await api.post("/system/findExecutions", {}, "user"))[1]["results"]
    for route, body in ((f"/{world.applet}/run", {"input": {}, "project": world.P, "folder": "out"}),
                        ("/file/new", {"project": world.P, "folder": "relative/dir"}),
                        (f"/{world.P}/newFolder", {"folder": "x"}),
                        (f"/{world.P}/listFolder", {"folder": "d"})):
        error = _error(*await api.post(route, body, "user"), 422, "InvalidInput")
        assert "must start with '/'" in error["message"], route
    assert (await api.post("/system/findExecutions", {}, "user"))[1]["results"] == before


async def test_aiohttps_own_answers_have_the_documented_shape(api: Api) -> None:
    _error(*await _raw(api, "POST", "/no/such/path", "{}"), 404, "ResourceNotFound")
    async with api.client.get("/no/such/path") as response:  # every path takes a POST: 405, not 404
        _error(response.status, await response.json(), 405, "ResourceNotFound")
    async with api.client.get(f"/{api.world.job_a}/describe") as response:
        error = _error(response.status, await response.json(), 405, "ResourceNotFound")
        assert "POST" in response.headers["Allow"] and "405" in error["message"]
    async with api.client.delete("/runner/ping") as response:
        _error(response.status, await response.json(), 405, "ResourceNotFound")
    _error(*await _raw(api, "POST", "/file/new", "{not json"), 400, "InvalidJSON")
    _error(*await _raw(api, "POST", "/file/new", "[1, 2]"), 422, "InvalidInput")
    _error(*await _raw(api, "POST", "/file/new", b"\xff\xfe"), 400, "InvalidJSON")
    _error(*await _raw(api, "POST", "/file/new", "1" * 5000), 400, "InvalidJSON")
