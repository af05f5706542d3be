"""Every route of the table × every kind of caller: allowed or denied as its Access and the object rules say.

ROWS has one row per route of `all_routes()`; the first test fails when a route is added without its row.
Each request names an object of tree A / project P (see `_full_env`) with a sensible body. Allowed means any
answer but 401/403 (the handler ran; it may still refuse the body); denied means 401 or 403 with the
documented `{"error": {type, message, details}}` body, type InvalidAuthentication or PermissionDenied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from runner.api.core.access import Access
from runner.api.core.routing import Routes
from runner.api.routes import all_routes
from tests.api._full_env import CALLERS, Api, World

EVERYONE = frozenset(CALLERS)
LIVE = frozenset({"user", "tree", "other_tree", "other_project"})
LIVE_JOBS = frozenset({"tree", "other_tree", "other_project"})
READS_P = frozenset({"user", "tree", "other_tree"})
WRITES_WA = frozenset({"user", "tree"})  # also: may act on tree A's jobs
USER = frozenset({"user"})
SELF = frozenset({"tree"})
DENIALS = {"InvalidAuthentication", "PermissionDenied"}

Body = Callable[[World], dict[str, Any]]


def _empty(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Row:
    """What a route declares, who may call it, and the request made of it (target: a World id name)."""

    access: Access
    allowed: frozenset[str]
    target: str | None = None
    body: Body = _empty


def _data_rows(klass: str) -> dict[tuple[str, str], Row]:
    """The rows of a data class's routes: reads of the closed object in P, writes of the open one in WA."""
    readable, writable = f"{klass}_p", f"{klass}_w"
    writes: dict[str, Body] = {
        "addTags": lambda w: {"tags": ["t"]}, "removeTags": lambda w: {"tags": ["t"]},
        "addTypes": lambda w: {"types": ["t"]}, "removeTypes": lambda w: {"types": ["t"]},
        "rename": lambda w: {"name": "renamed"}, "setDetails": lambda w: {"details": {"k": 1}},
        "setProperties": lambda w: {"properties": {"k": "v"}}, "setVisibility": lambda w: {"hidden": True},
        "close": _empty,
    }
    rows = {("POST", f"/{klass}-xxxx/{m}"): Row(Access.ANY, WRITES_WA, writable, b) for m, b in writes.items()}
    for method in ("describe", "getDetails", "listProjects"):
        rows[("POST", f"/{klass}-xxxx/{method}")] = Row(Access.ANY, READS_P, readable)
    rows[("POST", f"/{klass}/new")] = Row(Access.ANY, WRITES_WA, body=lambda w: {"project": w.WA, "name": "n"})
    return rows


def _container_rows(klass: str, target: str, reads: frozenset[str], writes: frozenset[str]) -> dict[tuple[str, str], Row]:
    bodies: dict[str, tuple[frozenset[str], Body]] = {
        "describe": (reads, _empty), "listFolder": (reads, _empty),
        "clone": (WRITES_WA, lambda w: {"objects": [], "folders": ["/d"], "project": w.WA, "destination": "/"}),
        "move": (writes, lambda w: {"objects": [], "destination": "/"}),
        "newFolder": (writes, lambda w: {"folder": "/new/one", "parents": True}),
        "renameFolder": (writes, lambda w: {"folder": "/d", "name": "e"}),
        "removeFolder": (writes, lambda w: {"folder": "/d"}),
        "removeObjects": (writes, lambda w: {"objects": []}),
    }
    return {("POST", f"/{klass}-xxxx/{m}"): Row(Access.ANY, who, target, body) for m, (who, body) in bodies.items()}


ROWS: dict[tuple[str, str], Row] = {
    **_data_rows("file"), **_data_rows("record"),
    ("POST", "/file-xxxx/upload"): Row(Access.ANY, WRITES_WA, "file_w", lambda w: {"index": 1}),
    ("POST", "/file-xxxx/download"): Row(Access.ANY, READS_P, "file_p"),
    **_container_rows("project", "P", READS_P, USER), **_container_rows("container", "WA", WRITES_WA, WRITES_WA),
    ("POST", "/project/new"): Row(Access.USER, USER, body=lambda w: {"name": "new"}),
    # Jobs have VIEW in P at most: too little to change it; Q (job_c runs in it) refuses destroy without
    # terminateJobs, so the user's row answers InvalidState and the world stays whole.
    ("POST", "/project-xxxx/update"): Row(Access.ANY, USER, "P", lambda w: {"description": "d"}),
    ("POST", "/project-xxxx/destroy"): Row(Access.ANY, USER, "Q"),
    ("POST", "/project-xxxx/addTags"): Row(Access.ANY, USER, "P", lambda w: {"tags": ["t"]}),
    ("POST", "/project-xxxx/removeTags"): Row(Access.ANY, USER, "P", lambda w: {"tags": ["t"]}),
    ("POST", "/project-xxxx/setProperties"): Row(Access.ANY, USER, "P", lambda w: {"properties": {"k": "v"}}),
    ("POST", "/system/findProjects"): Row(Access.ANY, LIVE),
    ("POST", "/system/whoami"): Row(Access.ANY, LIVE),
    ("POST", "/user-local/describe"): Row(Access.ANY, LIVE),
    ("POST", "/system/findGlobalWorkflows"): Row(Access.ANY, LIVE),
    ("POST", "/system/greet"): Row(Access.PUBLIC, EVERYONE, body=lambda w: {"client": "dxclient", "version": "v0"}),
    # Apps: making and changing them is the developer's (the user's); reading and running them, anyone's. The
    # path names app-xxxx, an app of no version here: an admitted caller is answered ResourceNotFound.
    ("POST", "/app/new"): Row(Access.USER, USER, body=lambda w: {"name": "an_app", "version": "0.0.1"}),
    **{("POST", f"/app-xxxx/{m}"): Row(Access.USER, USER, body=lambda w: {"tags": ["t"]}) for m in (
        "update", "addTags", "removeTags", "publish", "delete", "addCategories", "removeCategories",
        "addDevelopers", "removeDevelopers", "addAuthorizedUsers", "removeAuthorizedUsers", "install",
        "uninstall")},
    **{("POST", f"/app-xxxx/{m}"): Row(Access.ANY, LIVE) for m in (
        "describe", "get", "listCategories", "listDevelopers", "listAuthorizedUsers")},
    ("POST", "/app-xxxx/run"): Row(Access.ANY, LIVE, body=lambda w: {"input": {}, "project": w.P}),
    ("POST", "/app-xxxx/validateBatch"): Row(Access.ANY, LIVE, body=lambda w: {"batchInput": {}}),
    ("POST", "/app-xxxx/isCompatible"): Row(Access.ANY, LIVE, body=lambda w: {"otherVersion": "app-other"}),
    ("POST", "/system/findApps"): Row(Access.ANY, LIVE, body=lambda w: {"name": "an_app"}),
    ("POST", "/applet-xxxx/listProjects"): Row(Access.ANY, READS_P, "applet"),
    ("POST", "/applet-xxxx/describe"): Row(Access.ANY, READS_P, "applet"),
    ("POST", "/applet-xxxx/get"): Row(Access.ANY, READS_P, "applet"),
    ("POST", "/applet-xxxx/validateBatch"): Row(Access.ANY, READS_P, "applet", lambda w: {"batchInput": {}}),
    # A detached run in P: the user may; no job may, having only VIEW in P (its applet asks for no more).
    ("POST", "/applet-xxxx/run"): Row(Access.ANY, USER, "applet",
                                      lambda w: {"input": {}, "project": w.P, "detach": True}),
    ("POST", "/applet/new"): Row(Access.ANY, WRITES_WA, body=lambda w: {"project": w.WA, "name": "broken"}),
    # The applet is in P: only the user may change what P shows of it; anyone who reads P may read its details.
    **{("POST", f"/applet-xxxx/{m}"): Row(Access.ANY, USER, "applet", body) for m, body in {
        "addTags": lambda w: {"tags": ["t"]}, "removeTags": lambda w: {"tags": ["t"]},
        "rename": lambda w: {"name": "renamed"}, "setProperties": lambda w: {"properties": {"k": "v"}},
        "setVisibility": lambda w: {"hidden": False}}.items()},
    ("POST", "/applet-xxxx/getDetails"): Row(Access.ANY, READS_P, "applet"),
    **{("POST", f"/job-xxxx/{m}"): Row(Access.ANY, WRITES_WA, "job_a", body) for m, body in {
        "describe": _empty, "addTags": lambda w: {"tags": ["t"]}, "removeTags": lambda w: {"tags": ["t"]},
        "setProperties": lambda w: {"properties": {"k": "v"}}, "terminate": _empty,
        "update": lambda w: {"rank": 3, "allowSSH": ["10.0.0.0/8"]}}.items()},
    ("POST", "/job-xxxx/getIdentityToken"): Row(Access.JOB_SELF, SELF, "job_a1", lambda w: {"audience": "aud"}),
    ("POST", "/job/new"): Row(Access.JOB_SELF, LIVE_JOBS, body=lambda w: {"function": "other", "input": {}}),
    ("POST", "/system/findExecutions"): Row(Access.ANY, LIVE, body=lambda w: {"rootExecution": w.job_a}),
    ("POST", "/system/describeDataObjects"): Row(Access.ANY, LIVE, body=lambda w: {"objects": [w.file_p]}),
    ("POST", "/system/findDataObjects"): Row(Access.ANY, READS_P, body=lambda w: {"scope": {"project": w.P}}),
    ("POST", "/system/resolveDataObjects"): Row(Access.ANY, READS_P,
                                                body=lambda w: {"objects": [{"project": w.P, "name": "in.txt"}]}),
    ("POST", "/runner/build"): Row(Access.USER, USER, body=lambda w: {"folder": "/nonexistent"}),
    ("POST", "/runner/sourceId"): Row(Access.USER, USER, body=lambda w: {"folder": "/nonexistent"}),
    ("POST", "/runner/buildAsset"): Row(Access.USER, USER, body=lambda w: {"source": "/nonexistent"}),
    ("POST", "/runner/importAsset"): Row(Access.USER, USER,
                                         body=lambda w: {"archive": "/nonexistent", "name": "a", "version": "1"}),
    ("POST", "/runner/host"): Row(Access.USER, USER),
    ("POST", "/runner/httpsLogin"): Row(Access.USER, USER, body=lambda w: {"job": w.job_a}),
    ("POST", "/runner/shutdown"): Row(Access.USER, USER),
    ("POST", "/runner/fsck"): Row(Access.USER, USER, body=lambda w: {"repair": False}),
    ("POST", "/runner/shell"): Row(Access.USER, USER, body=lambda w: {"job": w.job_a}),
    ("POST", "/runner/debugHold"): Row(Access.JOB_SELF, LIVE_JOBS),
    ("GET", "/runner/ping"): Row(Access.ANY, LIVE),
    ("GET", "/runner/jwks"): Row(Access.PUBLIC, EVERYONE),
    ("GET", "/runner/shell"): Row(Access.USER, USER),
    ("GET", "/runner/logs"): Row(Access.ANY, WRITES_WA),
    ("GET", "/runner/events"): Row(Access.USER, USER),
    ("GET", "/{job_id}/getLog/websocket"): Row(Access.ANY_IN_MESSAGE, WRITES_WA),
    # Signed URLs: the signature authorizes, whatever token comes with them (dxpy sends none).
    ("GET", "/runner/download/{file_id}/{name}"): Row(Access.SIGNED, EVERYONE),
    ("PUT", "/runner/upload/{file_id}/{index}"): Row(Access.SIGNED, EVERYONE),
}


async def attempt(api: Api, key: tuple[str, str], row: Row, caller: str) -> tuple[int, Any]:
    """Make the row's request as `caller`; (status, answer)."""
    world, (method, path) = api.world, key
    if method == "POST":
        if row.target is not None:
            path = path.replace(path.split("/")[1], world.ids[row.target])
        return await api.post(path, row.body(world), caller)
    if path == "/{job_id}/getLog/websocket":
        return await api.watch(world.job_a, caller)
    if path.startswith("/runner/download/"):
        return await api.send("GET", await api.signed_url("download", world.file_p, {}), caller)
    if path.startswith("/runner/upload/"):
        return await api.send("PUT", await api.signed_url("upload", world.file_w, {"index": 1}), caller, b"part")
    query = f"?job={world.job_a}&follow=0" if path in ("/runner/logs", "/runner/shell") else ""
    query = "?follow=false" if path == "/runner/events" else query
    return await api.send(method, path + query, caller)


def assert_denied(status: int, answer: Any, what: str) -> None:
    """401/403 with the documented error body (a websocket: close 1008 with {type, message})."""
    if status == 1008:
        assert answer["type"] in DENIALS and isinstance(answer["message"], str), what
        return
    assert status in (401, 403), (what, status, answer)
    error = answer["error"]
    assert error["type"] in DENIALS and isinstance(error["message"], str) and isinstance(error["details"], dict), what


def assert_allowed(status: int, answer: Any, what: str) -> None:
    """Not refused for who the caller is (the handler answered, 2xx or 4xx), and never a 500."""
    assert status not in (401, 403) and status < 1000, (what, status, answer)
    assert status < 500, (what, status, answer)
    if status >= 400:
        assert set(answer["error"]) >= {"type", "message"}, (what, answer)


def test_every_route_of_the_table_has_its_row() -> None:
    table = {(r.method, r.path): r.access for r in all_routes().table()}
    assert set(table) == set(ROWS), {"without a row": set(table) - set(ROWS), "not a route": set(ROWS) - set(table)}
    assert {key: row.access for key, row in ROWS.items()} == table


@pytest.mark.asyncio
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("key", sorted(ROWS), ids=lambda key: f"{key[0]} {key[1]}")
async def test_route_admits_exactly_its_callers(api: Api, key: tuple[str, str], caller: str) -> None:
    row = ROWS[key]
    status, answer = await attempt(api, key, row, caller)
    what = f"{key[0]} {key[1]} as {caller}"
    if caller in row.allowed:
        assert_allowed(status, answer, what)
    else:
        assert_denied(status, answer, what)


@pytest.mark.asyncio
@pytest.mark.parametrize("query", ["?expires=99999999999999", "?expires=99999999999999&signature=%C2%80",
                                   "?expires=1&signature=0"])
@pytest.mark.parametrize("method,path", [("GET", "/runner/download/{f}/in.txt"), ("PUT", "/runner/upload/{f}/1")])
async def test_a_signed_route_refuses_a_url_without_its_signature(api: Api, method: str, path: str,
                                                                  query: str) -> None:
    status, answer = await api.send(method, path.format(f=api.world.file_p) + query, "user",
                                    b"part" if method == "PUT" else None)
    assert_denied(status, answer, path)
    assert answer["error"]["type"] == "InvalidAuthentication"


def test_a_route_cannot_be_registered_without_its_access() -> None:
    routes = Routes()
    with pytest.raises(TypeError):
        routes.static("thing", "new")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="must declare its Access"):
        routes.on("thing", "describe", "any")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must declare its Access"):
        routes.raw("GET", "/x", None)  # type: ignore[arg-type]
    assert routes.table() == []
