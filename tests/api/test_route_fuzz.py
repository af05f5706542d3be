"""Hostile bodies for every route of the table (hypothesis): always a 2xx or a 4xx in the documented shape,
never a 500, never a hang, and the server keeps answering.

The whole API is served on a real TCP port by a server thread (`_full_env.serve_in_thread`) over one world
that the examples keep changing (files closed, trees terminated, folders removed): later examples meet the
state earlier ones left, as a real engine would.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import requests
from aiohttp import WSMsgType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.api.routes import all_routes
from tests.api._apps_env import add_app
from tests.api._full_env import Served, build_world, serve_in_thread
from tests.api.test_authorization import ROWS

with warnings.catch_warnings():
    # hypothesis imports libcst to report a failing example, and libcst warns on import (an error under
    # `filterwarnings = error`), which would hide the example behind an INTERNALERROR: import it now, quietly.
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:
        pass

TIMEOUT_S = 30
FUZZ = settings(max_examples=250, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
POST_ROUTES = sorted(r.path for r in all_routes().table() if r.method == "POST")
# The object each class's routes name (`/{class}-xxxx/...`), by World id name.
TARGETS = {"file": ("file_w", "file_p"), "record": ("record_w", "record_p"), "project": ("P",),
           "container": ("WA",), "applet": ("applet",), "job": ("job_a", "job_a1"), "app": ("app",)}
FIELDS = sorted({
    "project", "name", "folder", "tags", "types", "properties", "details", "hidden", "input", "fields",
    "defaultFields", "describe", "objects", "folders", "destination", "recurse", "force", "parents", "index",
    "md5", "size", "duration", "preauthenticated", "filename", "rank", "allowSSH", "try", "function",
    "dependsOn", "detach", "scope", "state", "class", "limit", "starting", "visibility", "id", "rootExecution",
    "parentJob", "batchInput", "commonInput", "files", "systemRequirements", "systemRequirementsByExecutable",
    "timeoutPolicyByExecutable", "executionPolicy", "debug", "costLimit", "reuse", "ignoreReuse",
    "delayWorkspaceDestruction", "job", "audience", "subject_claims", "nonce", "only", "includeHidden",
    "modified", "created", "link", "classDescribeOptions", "io", "includeSubjobs", "executable", "originJob",
    "media", "close", "tag", "type", "runSpec", "inputSpec", "outputSpec", "access", "dxapi", "repair",
    "version", "applet", "regionalOptions", "resources", "initializeFrom", "otherVersion", "makeDefault",
    "categories", "developers", "authorizedUsers", "published", "allVersions", "billTo"})

any_text = st.text(st.characters(exclude_categories=()), max_size=40)  # lone surrogates included
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(any_text, inner, max_size=4), max_leaves=12)


def _deep(depth: int, opener: str) -> str:
    """A body whose `details` nests `depth` arrays or objects."""
    if opener == "[":
        return '{"details": ' + "[" * depth + "]" * depth + "}"
    return '{"details": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


@st.composite
def raw_bodies(draw: st.DrawFn) -> bytes:
    """A request body: arbitrary JSON (any top-level type), deep nesting, a huge string, or not JSON at all."""
    kind = draw(st.sampled_from(["json", "object", "deep", "huge", "garbage"]))
    if kind == "deep":
        return _deep(draw(st.integers(30, 3000)), draw(st.sampled_from(["[", "{"]))).encode()
    if kind == "huge":
        key = draw(st.sampled_from(["name", "folder", "function", "details", "tags"]))
        text = "x" * draw(st.integers(1000, 300_000))
        return json.dumps({key: [text] if key == "tags" else text}).encode()
    if kind == "garbage":
        return draw(st.binary(max_size=64))
    value = draw(json_values if kind == "json" else st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
    return json.dumps(value).encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One world for the module (and an app version in it), served on a real port."""
    world = build_world(tmp_path_factory.mktemp("fuzz") / "home")
    world.ids["app"] = add_app(world)
    yield from serve_in_thread(world)


def _path(served: Served, route: str, pick: int) -> str:
    klass = route.split("/")[1]
    if not klass.endswith("-xxxx"):
        return route
    choices = TARGETS[klass[: -len("-xxxx")]]
    return route.replace(klass, served.world.ids[choices[pick % len(choices)]])


def _headers(served: Served, caller: str) -> dict[str, str]:
    token = served.world.tokens[caller]
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"} if token else {}


def assert_documented(response: requests.Response, what: str) -> None:
    """A 2xx, or a 4xx whose body is `{"error": {type, message, ...}}`; never a 5xx."""
    assert response.status_code < 500, (what, response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert response.headers["Content-Type"].startswith("application/json"), (what, response.text[:300])
        error = response.json()["error"]
        assert isinstance(error["type"], str) and isinstance(error["message"], str), (what, error)


def _still_answers(served: Served) -> None:
    response = requests.get(f"{served.url}/runner/ping", headers=_headers(served, "user"), timeout=TIMEOUT_S)
    assert response.status_code == 200 and response.json()["ok"] is True


@FUZZ
@given(route=st.sampled_from(POST_ROUTES), pick=st.integers(0, 1), caller=st.sampled_from(["user", "tree"]),
       body=raw_bodies())
def test_arbitrary_bodies_get_a_documented_answer(served: Served, route: str, pick: int, caller: str,
                                                   body: bytes) -> None:
    path = _path(served, route, pick)
    response = requests.post(served.url + path, data=body, headers=_headers(served, caller), timeout=TIMEOUT_S)
    assert_documented(response, f"{path} as {caller}: {body[:200]!r}")


PER_ROUTE = settings(FUZZ, max_examples=15)
MISSING = {"missing_project": "project-" + "0" * 24, "missing_file": "file-" + "0" * 24,
           "missing_job": "job-" + "0" * 24, "missing_container": "container-" + "0" * 24}
# Values naming the world's objects (and well-formed IDs of none), resolved in the test: "@P", "@file_p", ...
id_refs = st.sampled_from(["P", "Q", "WA", "WB", "applet", "job_a", "job_b", "job_a_done", "file_p", "file_w",
                           "record_p", "record_w", *MISSING]).map(lambda name: "@" + name)
field_values = json_values | id_refs | st.lists(id_refs, max_size=3) | st.dictionaries(st.sampled_from(FIELDS),
                                                                                       id_refs, max_size=2)


def _resolve(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("@") and value[1:] in ids:
        return ids[value[1:]]
    if isinstance(value, list):
        return [_resolve(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, ids) for key, item in value.items()}
    return value


@PER_ROUTE
@pytest.mark.parametrize("route", POST_ROUTES)
@given(data=st.data(), pick=st.integers(0, 1), caller=st.sampled_from(["user", "tree"]),
       extra=st.dictionaries(any_text, json_values, max_size=2))
def test_wrong_values_in_the_fields_a_route_reads_get_a_documented_answer(
        served: Served, route: str, data: st.DataObject, pick: int, caller: str, extra: dict[str, Any]) -> None:
    """The route's sensible body (its row in test_authorization) with one to three fields replaced, keys added."""
    base = ROWS[("POST", route)].body(served.world)
    fields = st.sampled_from(sorted(base)) | st.sampled_from(FIELDS) if base else st.sampled_from(FIELDS)
    changes = data.draw(st.dictionaries(fields, field_values, min_size=1, max_size=3), label="changes")
    body = _resolve({**extra, **base, **changes}, {**served.world.ids, **MISSING})
    path = _path(served, route, pick)
    sent = json.dumps(body).encode("utf-8", "surrogatepass")
    response = requests.post(served.url + path, data=sent, headers=_headers(served, caller), timeout=TIMEOUT_S)
    assert_documented(response, f"{path} as {caller}: {body!r:.300}")


RAW_GETS = ["/runner/ping", "/runner/jwks", "/runner/shell", "/runner/logs", "/runner/download/{file_p}/x",
            "/runner/download/{file_p}/{file_p}", "/{job_a}/getLog/websocket", "/runner/upload/{file_w}/1"]


@FUZZ
@given(path=st.sampled_from(RAW_GETS), caller=st.sampled_from(["user", "tree", "none"]),
       query=st.dictionaries(st.sampled_from(["job", "tree", "follow", "signature", "expires", "size", "md5", "x"])
                             | any_text, any_text, max_size=4),
       method=st.sampled_from(["GET", "PUT", "DELETE"]), data=st.binary(max_size=256))
def test_raw_routes_answer_any_query_in_the_documented_shape(served: Served, path: str, caller: str,
                                                             query: dict[str, str], method: str,
                                                             data: bytes) -> None:
    """GET, PUT and others on the raw routes with arbitrary queries (never following a log: that waits by design)."""
    if path == "/runner/logs":
        query = {**query, "follow": "0"}
    target = served.url + path.format(**served.world.ids)
    encoded = urlencode({k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass")
                         for k, v in query.items()})
    response = requests.request(method, f"{target}?{encoded}", data=data or None, timeout=TIMEOUT_S,
                                headers={k: v for k, v in _headers(served, caller).items() if k == "Authorization"})
    if path.endswith("/websocket") and response.status_code in (101, 200):
        return  # a websocket handshake answered: its messages are tested in test_job_log_socket
    assert_documented(response, f"{method} {target}?{encoded}")


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), declare=st.booleans())
def test_part_puts_of_any_bytes_get_a_documented_answer(served: Served, data: bytes, declare: bool) -> None:
    """A signed part URL, declared with another part's size and MD5 or not, then any bytes PUT to it."""
    declared = {"size": 3, "md5": hashlib.md5(b"abc").hexdigest()} if declare else {}
    asked = requests.post(f"{served.url}/{served.world.file_w}/upload", json={"index": 2, **declared},
                          headers=_headers(served, "user"), timeout=TIMEOUT_S)
    assert_documented(asked, "upload")
    if asked.status_code != 200:
        return  # the file was closed by an earlier example: InvalidState, checked above
    response = requests.put(asked.json()["url"], data=data, timeout=TIMEOUT_S)
    assert_documented(response, f"PUT {len(data)} bytes")
    if declare and data != b"abc":
        assert response.status_code == 422 and response.json()["error"]["type"] == "InvalidInput"


async def _watch(url: str, first: str | bytes) -> tuple[int | None, str]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await (ws.send_str(first) if isinstance(first, str) else ws.send_bytes(first))
        while (received := await ws.receive(timeout=TIMEOUT_S)).type in (WSMsgType.TEXT, WSMsgType.BINARY):
            json.loads(received.data)  # every message is JSON
        return ws.close_code, received.extra or ""


@settings(FUZZ, max_examples=60)
@given(message=st.dictionaries(st.sampled_from(["access_token", "token_type", "numRecentMessages", "recurseJobs",
                                                "levels", "x"]) | any_text, json_values, max_size=5),
       token=st.sampled_from(["user", "tree", "ended", None]), raw=st.none() | any_text | st.binary(max_size=64))
def test_the_log_websocket_answers_any_opening_message(served: Served, message: dict[str, Any], token: str | None,
                                                       raw: str | bytes | None) -> None:
    """Any first message: the log and END_LOG with a normal close, or a 1008 close whose reason is {type, message}.

    `tail` is never asked for: following a running job's log waits for it by design."""
    if token is not None:
        message["access_token"] = served.world.tokens[token]
    message.pop("tail", None)
    first = raw if raw is not None else json.dumps(message)
    code, reason = asyncio.run(_watch(served.url + f"/{served.world.job_a}/getLog/websocket", first))
    assert code in (1000, 1008), (code, reason)
    if code == 1008:
        error = json.loads(reason)
        assert isinstance(error["type"], str) and isinstance(error["message"], str)


def test_the_server_still_answers_after_the_fuzzing(served: Served) -> None:
    _still_answers(served)
