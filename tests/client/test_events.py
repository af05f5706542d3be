"""`follow_events`: typed events from the real route, and what it does when a connection breaks or is refused.

The engine restarted for real mid-stream is tests/integration/test_events.py; here the route is served by a
real server over a real store (`serve_in_thread`), and broken connections by a canned server.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from runner.client.api import EngineClient
from runner.client.events import EventQuery, follow_events
from runner.errors import ApiError, EnvironmentProblem, InvalidInput
from runner.spec import events as ev
from runner.store.events import last_seq
from tests.api._full_env import Served, build_world, serve_in_thread
from tests.client._server import CannedServer


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from serve_in_thread(build_world(tmp_path / "home"))


def _client(served: Served) -> EngineClient:
    return EngineClient(served.url, str(served.world.tokens["user"]))


def test_the_stored_events_come_typed_and_in_order(served: Served) -> None:
    with _client(served) as client:
        events = list(follow_events(client, EventQuery(follow=False)))
        query = EventQuery(root=served.world.job_a, kinds=("job.created",), follow=False)
        tree = list(follow_events(client, query))
    assert [e.seq for e in events] == list(range(1, last_seq(served.world.db) + 1))
    assert all(isinstance(e, (ev.JobCreated, ev.JobStateChanged)) for e in events)
    assert [e.job for e in tree if isinstance(e, ev.JobCreated)] == [
        served.world.job_a, served.world.job_a1, served.world.job_a_done]


def test_bad_parameters_raise_the_engines_invalid_input(served: Served) -> None:
    with _client(served) as client, pytest.raises(InvalidInput, match="names no event kind"):
        list(follow_events(client, EventQuery(kinds=("jobz",), follow=False)))


def _events_route(server: CannedServer, answers: list[tuple[list[int], bool]]) -> None:
    """Each request gets the next answer: job.state events of those seqs, then (if asked) a cut connection."""

    @server.route("GET", "/runner/events")
    async def events(request: web.Request) -> web.StreamResponse:
        seqs, cut = answers.pop(0)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for seq in seqs:
            event = ev.JobStateChanged(seq=seq, time=seq, job="job-a", root="job-a", from_state="idle",
                                       to_state="runnable")
            await response.write(json.dumps(event.to_json()).encode() + b"\n")
        await response.write(b'{"kind": "heartbeat", "seq": 0, "time": 0}\n{"kind": "job.st')  # half a line
        if cut and request.transport is not None:
            request.transport.abort()
        return response


def test_a_broken_stream_is_resumed_after_the_last_event_without_repeats(server: CannedServer) -> None:
    # The second answer repeats 3 (as an engine resuming from its store may), the third ends the test.
    _events_route(server, [([1, 2, 3], True), ([3, 4], True), ([5], True)])
    with EngineClient(server.url, "t") as client:
        stream = follow_events(client, EventQuery(since=0, kinds=("job.*",)))
        seqs = [next(stream).seq for _ in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert [r["query"]["since"] for r in server.requests] == ["0", "3", "4"]
    assert server.requests[1]["query"]["kinds"] == "job.*"


def test_heartbeats_are_yielded_only_when_asked_for(server: CannedServer) -> None:
    _events_route(server, [([1], True)])
    with EngineClient(server.url, "t") as client:
        stream = follow_events(client, heartbeats=True)
        assert [type(next(stream)) for _ in range(2)] == [ev.JobStateChanged, ev.Heartbeat]


def test_an_engine_that_stays_away_is_an_environment_problem_naming_the_last_event() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with EngineClient(f"http://127.0.0.1:{port}", "t") as client, \
            pytest.raises(EnvironmentProblem, match=r"has not answered for 0.5 s \(last event 7\)"):
        list(follow_events(client, EventQuery(since=7), reconnect_for_s=0.5))


def test_a_line_that_is_not_an_event_is_an_api_error(server: CannedServer) -> None:
    @server.route("GET", "/runner/events")
    async def events(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b'{"kind": "job.exploded", "seq": 1, "time": 1}\n',
                            content_type="application/x-ndjson")

    with EngineClient(server.url, "t") as client, \
            pytest.raises(ApiError, match="unknown event kind 'job.exploded'"):
        list(follow_events(client, EventQuery(follow=False)))
