"""GET /runner/events over real HTTP on a real store: what it sends, filters, resuming, gaps, bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from runner.api.runner import events as events_route
from runner.spec.job_states import JobState
from runner.store.events import first_seq, last_seq, prune
from runner.store.jobs import transition
from tests.api._full_env import Api

pytestmark = pytest.mark.asyncio
DAY_MS = 86_400_000


async def _all(api: Api, query: str = "") -> list[dict[str, Any]]:
    status, lines = await api.send("GET", f"/runner/events?follow=false{query}", "user")
    assert status == 200, lines
    assert isinstance(lines, list)
    return lines


@asynccontextmanager
async def _follow(api: Api, query: str = "") -> AsyncIterator[aiohttp.StreamReader]:
    async with api.client.get(f"/runner/events?{query}", headers=api.headers("user")) as response:
        assert response.status == 200 and response.content_type == "application/x-ndjson"
        yield response.content


async def _next(stream: aiohttp.StreamReader, kind: str | None = None) -> dict[str, Any]:
    """The next line (of `kind`, skipping heartbeats and others)."""
    while True:
        line = await stream.readline()
        assert line, "the stream ended"
        event: dict[str, Any] = json.loads(line)
        if kind is None or event["kind"] == kind:
            return event


async def test_the_stored_events_come_in_order_with_seq_time_kind_job_and_root(api: Api) -> None:
    lines = await _all(api)
    w = api.world
    created = [e["job"] for e in lines if e["kind"] == "job.created"]
    assert created == [w.job_a, w.job_a1, w.job_a_done, w.job_b, w.job_c]
    assert [e["seq"] for e in lines] == sorted({e["seq"] for e in lines})
    assert all({"seq", "time", "kind", "job", "root"} <= set(e) for e in lines)
    done = [e for e in lines if e["kind"] == "job.state" and e["job"] == w.job_a_done]
    assert [(e["from"], e["to"], e["root"]) for e in done] == [
        ("idle", "runnable", w.job_a), ("runnable", "running", w.job_a), ("running", "done", w.job_a)]


async def test_since_resumes_after_that_event(api: Api) -> None:
    lines = await _all(api)
    middle = lines[len(lines) // 2]["seq"]
    assert await _all(api, f"&since={middle}") == [e for e in lines if e["seq"] > middle]
    assert await _all(api, f"&since={lines[-1]['seq']}") == []


async def test_root_keeps_one_tree_and_kinds_filter_by_name_or_prefix(api: Api) -> None:
    w = api.world
    tree = await _all(api, f"&root={w.job_a}")
    assert {e["job"] for e in tree} == {w.job_a, w.job_a1, w.job_a_done}
    assert {e["root"] for e in tree} == {w.job_a}
    assert {e["kind"] for e in await _all(api, "&kinds=job.created")} == {"job.created"}
    assert {e["kind"] for e in await _all(api, "&kinds=job.*,engine.started")} == {"job.created", "job.state"}


@pytest.mark.parametrize("query,message", [
    ("since=-1", "since must be an event's sequence number"),
    ("since=abc", "since must be an event's sequence number"),
    ("since=999999", "since=999999 is after the newest event"),
    ("root=project-x", "root must be a job ID"),
    ("kinds=job.exploded", "kinds: 'job.exploded' names no event kind"),
    ("follow=maybe", "follow must be true or false"),
    ("job=job-x", "unknown parameter 'job'"),
])
async def test_bad_parameters_get_invalid_input_naming_the_parameter(api: Api, query: str,
                                                                      message: str) -> None:
    status, answer = await api.send("GET", f"/runner/events?{query}", "user")
    assert status == 422, answer
    assert answer["error"]["type"] == "InvalidInput" and message in answer["error"]["message"]


async def test_a_follower_gets_new_states_and_log_lines_live_and_log_lines_are_read_back(api: Api) -> None:
    w = api.world
    newest = last_seq(w.db)
    async with _follow(api, f"since={newest}&root={w.job_a}") as stream:
        transition(w.db, w.job_a1, JobState.DONE, {"output": {"n": 1}})
        output, state = await _next(stream), await _next(stream)
        assert (output["kind"], output["output"]) == ("job.output", {"n": 1})
        assert (state["kind"], state["job"], state["to"]) == ("job.state", w.job_a1, "done")
        w.services.engine.say(w.job_b, "another tree: not sent")
        w.services.engine.say(w.job_a, "first\nsecond")
        line = await _next(stream)
        assert (line["kind"], line["job"], line["stream"]) == ("log", w.job_a, "runner")
        assert line["text"] == "first\nsecond"
    stored = await _all(api, f"&since={newest}&kinds=log")
    assert [(e["job"], e["text"]) for e in stored] == [(w.job_b, "another tree: not sent"),
                                                       (w.job_a, "first\nsecond")]


async def test_heartbeats_while_idle_carry_the_last_seq(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_route, "HEARTBEAT_S", 0.01)
    newest = last_seq(api.world.db)
    async with _follow(api, f"since={newest}") as stream:
        beat = await _next(stream)
    assert (beat["kind"], beat["seq"], sorted(beat)) == ("heartbeat", newest, ["kind", "seq", "time"])


async def test_a_since_older_than_retention_gets_a_gap_first(api: Api) -> None:
    db = api.world.db
    prune(db, max_count=3, max_age_ms=DAY_MS)
    oldest = first_seq(db)
    assert oldest is not None
    lines = await _all(api)
    assert {k: lines[0][k] for k in ("kind", "first", "last", "reason", "seq")} == \
        {"kind": "gap", "first": 1, "last": oldest - 1, "reason": "retention", "seq": oldest - 1}
    assert [e["seq"] for e in lines[1:]] == list(range(oldest, last_seq(db) + 1))


async def test_a_reader_too_slow_is_told_what_it_missed_and_goes_on(api: Api) -> None:
    w = api.world
    w.services.engine.events.maxsize = 4
    newest = last_seq(w.db)
    async with _follow(api, f"since={newest}&kinds=log") as stream:
        for n in range(50):  # written while the route cannot send: 4 fit its queue, the rest are a gap
            w.services.engine.say(w.job_a, f"line {n}")
        target = last_seq(w.db)
        seen: list[int] = []
        gaps: list[tuple[int, int]] = []
        while max([*seen, *(last for _, last in gaps), newest]) < target:
            event = await _next(stream)
            if event["kind"] == "gap":
                assert event["reason"] == "slow" and event["seq"] == event["last"]
                gaps.append((event["first"], event["last"]))
            elif event["kind"] == "log":
                seen.append(event["seq"])
        w.services.engine.say(w.job_a, "after the gap")
        after = await _next(stream, "log")
    assert len(seen) == 4 and len(gaps) == 1
    missed = [seq for first, last in gaps for seq in range(first, last + 1)]
    assert sorted(seen + missed) == list(range(newest + 1, target + 1))  # each once, none lost
    assert after["text"] == "after the gap" and after["seq"] == target + 1


async def test_the_stream_ends_when_the_engine_stops(api: Api) -> None:
    async with _follow(api, f"since={last_seq(api.world.db)}") as stream:
        await api.world.services.engine.close()
        while line := await stream.readline():
            assert json.loads(line)["kind"] in ("engine.stopping", "heartbeat")
