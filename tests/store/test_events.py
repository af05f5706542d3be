"""The event kinds, and the outbox in a real SQLite file: each change writes its event in its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.config import SettingError, parse_value
from runner.spec import events as ev
from runner.spec.job_states import IllegalTransition, JobState
from runner.store.db import Database, now_ms
from runner.store.events import LogRef, first_seq, last_seq, prune, read_after, record_log, record_now
from runner.store.jobs import insert_job, transition, update_job

DAY_MS = 86_400_000
SAMPLES: list[ev.Event] = [
    ev.JobCreated(seq=1, time=5, job="job-a", root="job-a", parent=None, name="hello", executable="applet-x",
                  function="main", instance_type="mem1_ssd1_v2_x2", resources={"cores": 2, "gpus": 0}, rank=3,
                  created=5),
    ev.JobStateChanged(seq=2, time=6, job="job-b", root="job-a", from_state="running", to_state="failed",
                       try_=1, reason="AppError", message="boom"),
    ev.JobUpdated(seq=3, time=7, job="job-a", root="job-a", changes={"tags": ["t"], "rank": 9}),
    ev.JobOutput(seq=4, time=8, job="job-a", root="job-a", output={"n": 1}),
    ev.JobUsage(seq=5, time=9, job="job-a", root="job-a", cpu_percent=12.5, memory_bytes=1 << 20),
    ev.LogLines(seq=6, time=10, job="job-a", root="job-a", stream="stdout", text="a\nb"),
    ev.AppletBuilt(seq=7, time=11, applet="applet-x", name="hello", project="project-p"),
    ev.AppletFailed(seq=8, time=12, folder="/src/hello", message="no dxapp.json"),
    ev.EngineStarted(seq=9, time=13, pid=42, version="0.1"),
    ev.EngineStopping(seq=10, time=14, reason="asked"),
    ev.BackendDown(seq=11, time=15, message="Docker does not answer"),
    ev.BackendUp(seq=12, time=16),
    ev.Gap(seq=20, time=17, first=13, last=20, reason="slow"),
    ev.Heartbeat(seq=20, time=18),
]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "runner.db")
    yield database
    database.close()


RESOURCES = {"cores": 2.0, "memoryBytes": 4 << 30, "gpus": 0, "diskBytes": 50 * 10**9}


def _job(job_id: str, root: str, parent: str | None = None) -> dict[str, Any]:
    return {"id": job_id, "rootExecution": root, "parentJob": parent, "function": "main", "name": "hello",
            "applet": "applet-x", "instanceType": "mem1_ssd1_v2_x2", "_resources": RESOURCES, "rank": 1,
            "tags": [], "timeout": 600_000}


def _stored(db: Database, since: int = 0, **filters: Any) -> list[Any]:
    return read_after(db, since, **filters)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.kind)
def test_every_kind_goes_to_json_and_back(event: ev.Event) -> None:
    document = event.to_json()
    assert document["kind"] == event.kind and document["seq"] == event.seq and document["time"] == event.time
    assert ev.event_from_json(document) == event


def test_job_events_carry_job_and_root_and_python_keywords_have_their_json_names() -> None:
    document = SAMPLES[1].to_json()
    assert (document["job"], document["root"]) == ("job-b", "job-a")
    assert (document["from"], document["to"], document["try"]) == ("running", "failed", 1)
    assert "job" not in SAMPLES[6].to_json()


@pytest.mark.parametrize("document,error", [
    ([], "must be a JSON object"),
    ({"kind": "job.exploded", "seq": 1, "time": 1}, "unknown event kind 'job.exploded'"),
    ({"kind": "job.output", "seq": 1, "time": 1, "job": "j", "root": "j"}, "needs `output`"),
    ({"kind": "heartbeat", "seq": "7", "time": 1}, "`seq` of a heartbeat event must be an integer"),
])
def test_an_object_that_is_not_an_event_is_refused_by_name(document: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("(", r"\(").replace("`", "`")):
        ev.event_from_json(document)


def test_kinds_are_named_exactly_or_by_prefix() -> None:
    assert ev.kind_matcher(("job.*", "log")) == {"job.created", "job.state", "job.updated", "job.output",
                                                 "job.usage", "log"}
    with pytest.raises(ValueError, match="'jobs' names no event kind"):
        ev.kind_matcher(("jobs",))


def test_creating_and_moving_a_job_records_its_events_in_order(db: Database) -> None:
    insert_job(db, _job("job-r", "job-r"))
    insert_job(db, _job("job-c", "job-r", "job-r"))
    transition(db, "job-c", JobState.RUNNABLE)
    transition(db, "job-c", JobState.RUNNING)
    transition(db, "job-c", JobState.FAILED, {"failureReason": "AppError", "failureMessage": "boom"})
    stored = _stored(db)
    assert [e.kind for e in stored] == ["job.created", "job.created", "job.state", "job.state", "job.state"]
    assert [e.seq for e in stored] == sorted(e.seq for e in stored)
    created = stored[1]
    assert isinstance(created, ev.JobCreated)
    assert (created.job, created.root, created.parent, created.name, created.executable, created.function,
            created.instance_type, created.resources, created.rank, created.timeout) == \
        ("job-c", "job-r", "job-r", "hello", "applet-x", "main", "mem1_ssd1_v2_x2", RESOURCES, 1, 600_000)
    failed = stored[-1]
    assert isinstance(failed, ev.JobStateChanged)
    assert (failed.from_state, failed.to_state, failed.reason, failed.message) == \
        ("running", "failed", "AppError", "boom")
    assert stored[2].reason is None  # only a failure says why


def test_a_refused_transition_leaves_no_event(db: Database) -> None:
    insert_job(db, _job("job-r", "job-r"))
    with pytest.raises(IllegalTransition):
        transition(db, "job-r", JobState.DONE, {"output": {"x": 1}})
    assert [e.kind for e in _stored(db)] == ["job.created"]


def test_visible_changes_are_job_updated_and_output_is_job_output(db: Database) -> None:
    insert_job(db, _job("job-r", "job-r"))
    update_job(db, "job-r", {"tags": ["a"], "_private": 1, "rank": 1})  # rank unchanged: not reported
    update_job(db, "job-r", {"_rawOutput": {"x": 1}})  # nothing describe shows
    for state in (JobState.RUNNABLE, JobState.RUNNING):
        transition(db, "job-r", state)
    transition(db, "job-r", JobState.DONE, {"output": {"x": 1}})
    kinds = [(e.kind, getattr(e, "changes", getattr(e, "output", None))) for e in _stored(db, 1)]
    assert kinds == [("job.updated", {"tags": ["a"]}), ("job.state", None), ("job.state", None),
                     ("job.output", {"x": 1}), ("job.state", None)]


def test_filters_by_tree_and_kind(db: Database) -> None:
    insert_job(db, _job("job-r", "job-r"))
    insert_job(db, _job("job-o", "job-o"))
    transition(db, "job-o", JobState.RUNNABLE)
    assert [e.job for e in _stored(db, root="job-o")] == ["job-o", "job-o"]
    assert [e.kind for e in _stored(db, root="job-o", kinds={"job.state"})] == ["job.state"]
    assert _stored(db, kinds=set()) == []


def test_a_log_event_refers_to_the_bytes_of_job_log(db: Database) -> None:
    insert_job(db, _job("job-r", "job-r"))
    live = record_log(db, "job-r", "stdout", 1234, (10, 52), "one\ntwo")
    assert (live.root, live.text) == ("job-r", "one\ntwo")
    ref = _stored(db, kinds={"log"})[0]
    assert ref == LogRef(live.seq, 1234, "job-r", "job-r", "stdout", 10, 52)


def test_listeners_hear_of_events_only_once_committed(db: Database) -> None:
    heard: list[list[Any]] = []
    db.listeners.append(heard.append)
    insert_job(db, _job("job-r", "job-r"))
    with pytest.raises(IllegalTransition):
        transition(db, "job-r", JobState.DONE)
    assert [[e.kind for e in batch] for batch in heard] == [["job.created"]]
    assert heard[0][0].seq == last_seq(db)


def test_sequence_numbers_grow_across_restarts_and_after_everything_was_pruned(tmp_path: Path) -> None:
    first = Database(tmp_path / "runner.db")
    for n in range(3):
        insert_job(first, _job(f"job-{n}", f"job-{n}"))
    assert prune(first, max_count=1, max_age_ms=DAY_MS) == 2
    assert prune(first, max_count=1, max_age_ms=-DAY_MS) == 1  # everything is older than tomorrow
    assert (first_seq(first), last_seq(first)) == (None, 3)
    first.close()
    again = Database(tmp_path / "runner.db")
    event = record_now(again, ev.EngineStarted(seq=0, time=now_ms(), pid=1, version="v"))
    assert event.seq == 4 and [e.seq for e in _stored(again)] == [4]
    again.close()


def test_pruning_by_count_keeps_the_newest(db: Database) -> None:
    for n in range(5):
        insert_job(db, _job(f"job-{n}", f"job-{n}"))
    prune(db, max_count=2, max_age_ms=DAY_MS)
    assert [e.job for e in _stored(db)] == ["job-3", "job-4"] and first_seq(db) == 4


@pytest.mark.parametrize("key,value,expected", [("events_max_count", "5000", 5000),
                                                ("events_max_age_days", "0.5", 0.5)])
def test_retention_settings_parse(key: str, value: str, expected: float) -> None:
    assert parse_value(key, value) == expected


@pytest.mark.parametrize("value", ["1.5", "0", "lots"])
def test_a_retention_count_must_be_a_whole_positive_number(value: str) -> None:
    with pytest.raises(SettingError, match="events_max_count must be"):
        parse_value("events_max_count", value)
