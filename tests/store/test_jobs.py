"""Jobs in a real SQLite file: states change only through legal transitions, each recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.spec.job_states import IllegalTransition, JobState
from runner.store.db import Database, StoreError
from runner.store.jobs import JobNotFound, find_jobs, get_job, insert_job, transition, update_job


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "runner.db")
    yield database
    database.close()


def _job(job_id: str, root: str, parent: str | None = None) -> dict[str, object]:
    return {"id": job_id, "rootExecution": root, "parentJob": parent, "function": "main", "input": {"a": 1}}


def test_a_new_job_is_idle_with_no_transitions(db: Database) -> None:
    job = insert_job(db, _job("job-1", "job-1"))
    assert job["state"] == "idle" and job["stateTransitions"] == [] and job["input"] == {"a": 1}


def test_transitions_are_recorded_in_order_with_changes(db: Database) -> None:
    insert_job(db, _job("job-1", "job-1"))
    for state in (JobState.RUNNABLE, JobState.RUNNING):
        transition(db, "job-1", state)
    job = transition(db, "job-1", JobState.DONE, {"output": {"x": 2}})
    assert [t["newState"] for t in job["stateTransitions"]] == ["runnable", "running", "done"]
    assert job["output"] == {"x": 2} and job["state"] == "done"
    assert all(isinstance(t["setAt"], int) for t in job["stateTransitions"])


def test_illegal_transition_changes_nothing(db: Database) -> None:
    insert_job(db, _job("job-1", "job-1"))
    with pytest.raises(IllegalTransition):
        transition(db, "job-1", JobState.DONE, {"output": {"x": 1}})
    job = get_job(db, "job-1")
    assert job["state"] == "idle" and "output" not in job and job["stateTransitions"] == []


def test_state_cannot_be_set_by_update(db: Database) -> None:
    insert_job(db, _job("job-1", "job-1"))
    with pytest.raises(ValueError, match="transition"):
        update_job(db, "job-1", {"state": "done"})
    assert update_job(db, "job-1", {"tags": ["t"]})["tags"] == ["t"]


def test_find_by_tree_parent_and_state(db: Database) -> None:
    insert_job(db, _job("job-r", "job-r"))
    insert_job(db, _job("job-c1", "job-r", "job-r"))
    insert_job(db, _job("job-c2", "job-r", "job-r"))
    insert_job(db, _job("job-other", "job-other"))
    transition(db, "job-c2", JobState.RUNNABLE)
    assert [j["id"] for j in find_jobs(db, root="job-r")] == ["job-r", "job-c1", "job-c2"]
    assert [j["id"] for j in find_jobs(db, parent="job-r")] == ["job-c1", "job-c2"]
    assert [j["id"] for j in find_jobs(db, states=(JobState.RUNNABLE,))] == ["job-c2"]


def test_unknown_job(db: Database) -> None:
    with pytest.raises(JobNotFound):
        get_job(db, "job-nope")


def test_the_file_survives_reopening(tmp_path: Path) -> None:
    first = Database(tmp_path / "runner.db")
    insert_job(first, _job("job-1", "job-1"))
    first.close()
    second = Database(tmp_path / "runner.db")
    assert get_job(second, "job-1")["function"] == "main"
    second.close()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "runner.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Database(path)
    assert path.read_bytes() == b"this is not sqlite" * 100
