"""The engine's events: what a tree run on the fake backend emits; the live feed's bounded subscriptions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeJob
from runner.engine.events import QUEUE_TEXT_BYTES, EventFeed, Subscription, prune_now
from runner.spec import events as ev
from runner.store.db import Database
from runner.store.events import first_seq, read_after
from runner.store.jobs import find_jobs, insert_job
from tests.engine.conftest import Make, function_of, outputs, raises

pytestmark = pytest.mark.asyncio


def _beat(seq: int, root: str = "job-r") -> ev.Event:
    return ev.JobStateChanged(seq=seq, time=seq, job=root, root=root, from_state="idle", to_state="runnable")


async def test_a_tree_emits_created_state_output_and_log_events_that_agree_with_describe(make: Make) -> None:
    h = await make()

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            h.subjob(spec, "child")
            return outputs(spec, {"n": 1}, logs=(("stdout", "hello"), ("stderr", "careful")))
        return raises(spec, "AppError", "child broke")

    h.script = script
    subscription = h.engine.events.subscribe()
    root = h.run()
    await h.ended(root)
    received: list[ev.Event] = []
    def ended(e: ev.Event, job: str) -> bool:
        return isinstance(e, ev.JobStateChanged) and e.job == job and e.to_state == "failed"

    while not any(ended(e, root) for e in received):
        batch = await subscription.next(1.0)
        assert batch is not None
        received.extend(batch)
    jobs = find_jobs(h.db, root=root)
    child = next(j["id"] for j in jobs if j["id"] != root)
    for job in jobs:
        states = [e.to_state for e in received if isinstance(e, ev.JobStateChanged) and e.job == job["id"]]
        assert states == [t["newState"] for t in job["stateTransitions"]], job["id"]
        assert all(e.root == root for e in received if isinstance(e, ev.JobEvent))
    created = [e for e in received if isinstance(e, ev.JobCreated)]
    assert [(e.job, e.parent, e.function) for e in created] == [(root, None, "main"), (child, root, "child")]
    failed = next(e for e in received if ended(e, child))
    assert isinstance(failed, ev.JobStateChanged)
    assert (failed.reason, failed.message) == ("AppError", "child broke")
    logs = [(e.job, e.stream, e.text) for e in received if isinstance(e, ev.LogLines)]
    assert (root, "stdout", "hello") in logs and (root, "stderr", "careful") in logs
    # The store has the same events, log lines read back from job.log.
    stored = h.engine.events.read(received[0].seq - 1, limit=10_000)
    assert [e for e in stored if e.seq <= received[-1].seq] == received


async def test_the_engine_records_that_it_started_and_is_stopping(make: Make) -> None:
    h = await make()
    await h.engine.close()
    kinds = [e.kind for e in read_after(h.db, 0)]
    assert kinds == ["engine.started", "engine.stopping"]


async def test_a_full_subscription_counts_what_it_cannot_hold_into_one_gap_then_goes_on() -> None:
    subscription = Subscription(asyncio.get_running_loop(), None, None, maxsize=3)
    subscription.offer([_beat(n) for n in range(1, 11)])
    batch = await subscription.next(1.0)
    assert batch is not None
    assert [e.seq for e in batch[:3]] == [1, 2, 3]
    gap = batch[3]
    assert isinstance(gap, ev.Gap) and (gap.first, gap.last, gap.reason) == (4, 10, "slow")
    subscription.offer([_beat(11)])
    assert [e.seq for e in await subscription.next(1.0) or []] == [11]


async def test_long_log_lines_fill_a_subscription_by_their_size_not_their_count() -> None:
    subscription = Subscription(asyncio.get_running_loop(), None, None, maxsize=10_000)
    big = "x" * (QUEUE_TEXT_BYTES // 3 + 1)
    subscription.offer([ev.LogLines(seq=n, time=n, job="job-r", root="job-r", stream="stdout", text=big)
                        for n in range(1, 6)])
    batch = await subscription.next(1.0) or []
    assert [e.kind for e in batch] == ["log", "log", "gap"] and batch[2].seq == 5
    subscription.offer([ev.LogLines(seq=6, time=6, job="job-r", root="job-r", stream="stdout", text=big)])
    assert [e.seq for e in await subscription.next(1.0) or []] == [6]  # the queue was emptied: room again


async def test_filters_apply_before_the_queue_and_seen_counts_everything_offered() -> None:
    subscription = Subscription(asyncio.get_running_loop(), "job-r", frozenset({"job.state"}), maxsize=2)
    subscription.offer([_beat(1, "job-other"), _beat(2), _beat(3, "job-other"), _beat(4)])
    assert [e.seq for e in await subscription.next(1.0) or []] == [2, 4] and subscription.seen == 4
    assert await subscription.next(0.01) == []  # nothing new: the caller sends a heartbeat


async def test_a_closed_subscription_hands_over_what_it_holds_then_ends() -> None:
    subscription = Subscription(asyncio.get_running_loop(), None, None, maxsize=5)
    subscription.offer([_beat(1)])
    subscription.close()
    assert [e.seq for e in await subscription.next(1.0) or []] == [1]
    assert await subscription.next(1.0) is None


async def test_events_committed_in_another_thread_reach_the_feed_in_order(tmp_path: Path) -> None:
    db = Database(tmp_path / "runner.db")
    feed = EventFeed(db, tmp_path)
    subscription = feed.subscribe()

    def write() -> None:
        for n in range(100):
            insert_job(db, {"id": f"job-{n}", "rootExecution": f"job-{n}"})

    await asyncio.gather(asyncio.to_thread(write), asyncio.to_thread(lambda: insert_job(
        db, {"id": "job-main", "rootExecution": "job-main"})))
    received: list[int] = []
    while len(received) < 101:
        received.extend(e.seq for e in await subscription.next(1.0) or [])
    assert received == list(range(1, 102))
    db.close()


async def test_retention_follows_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(tmp_path / "runner.db")
    for n in range(10):
        insert_job(db, {"id": f"job-{n}", "rootExecution": f"job-{n}"})
    monkeypatch.setenv("RUNNER_EVENTS_MAX_COUNT", "4")
    assert prune_now(db, tmp_path) == 6 and first_seq(db) == 7
    db.close()
