"""Abandoned uploads in a real store with real blob files: the policy, the sweep, the start-up recovery."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from pathlib import Path

import pytest

from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.db import Database, now_ms
from runner.store.files import BlobWriter, add_part, begin_close, blob_path, list_parts, scratch_dir
from runner.store.jobs import insert_job, transition
from runner.store.objects import ObjectNotFound, create_container, create_object, get_object
from runner.store.uploads import (
    HOUR_MS,
    abandoned_uploads,
    recover_uploads,
    remove_abandoned,
    sweep_periodically,
    sweep_uploads,
)


def _part(db: Database, home: Path, file_id: str, index: int, data: bytes) -> Path:
    writer = BlobWriter(home)
    writer.write(data)
    add_part(db, home, file_id, index, writer)
    return blob_path(home, hashlib.sha256(data).hexdigest())


def _age(db: Database, file_id: str, hours: float) -> None:
    """Make the file's last activity `hours` old, as if it had been idle that long."""
    with db.transaction() as conn:
        conn.execute("UPDATE objects SET modified = ? WHERE id = ?",
                     (now_ms() - int(hours * HOUR_MS), file_id))


def _job(db: Database, root: str | None = None) -> str:
    job_id = new_id("job")
    insert_job(db, {"id": job_id, "rootExecution": root or job_id, "parentJob": root})
    return job_id


def _file(db: Database, project: str, name: str, job: str | None = None) -> str:
    created_by = {"user": "user-local", **({"job": job} if job else {})}
    return str(create_object(db, "file", project, name=name, folder="/", doc={"createdBy": created_by})["id"])


def test_an_idle_upload_of_the_user_goes_with_its_parts_and_only_unshared_blobs(db: Database,
                                                                                home: Path) -> None:
    project = create_container(db, "project", "p")
    idle, recent, closing = (_file(db, project, n) for n in ("idle.bin", "recent.bin", "closing.bin"))
    own = _part(db, home, idle, 1, b"only the idle file has these bytes")
    shared = _part(db, home, idle, 2, b"shared bytes")
    _part(db, home, recent, 1, b"shared bytes")
    begin_close(db, closing)
    for file_id in (idle, closing):
        _age(db, file_id, 30)
    _age(db, recent, 23)

    removed = sweep_uploads(db, home, ttl_hours=24)

    assert [(f.file_id, f.where) for f in removed] == [(idle, f"{project}:/idle.bin")]
    assert "no activity for 30.0 hours (open_file_ttl_hours = 24)" in removed[0].reason
    with pytest.raises(ObjectNotFound):
        get_object(db, idle)
    assert list_parts(db, idle) == []
    assert not own.exists() and shared.exists()
    assert get_object(db, recent)["state"] == "open" and get_object(db, closing)["state"] == "closing"


def test_a_part_upload_is_activity(db: Database, home: Path) -> None:
    project = create_container(db, "project", "p")
    file_id = _file(db, project, "slow.bin")
    _age(db, file_id, 30)
    _part(db, home, file_id, 1, b"still uploading")
    assert abandoned_uploads(db, ttl_hours=24) == []
    later = now_ms() + 25 * HOUR_MS
    assert [f.file_id for f in abandoned_uploads(db, ttl_hours=24, at_ms=later)] == [file_id]


def test_a_jobs_upload_goes_once_its_whole_tree_has_ended(db: Database, home: Path) -> None:
    project = create_container(db, "project", "p")
    root = _job(db)
    child = _job(db, root)
    file_id = _file(db, project, "out.bin", job=child)
    blob = _part(db, home, file_id, 1, b"half an output")
    _age(db, file_id, 1000)  # the TTL is the user's: a job's file stays while its tree runs
    transition(db, child, JobState.FAILED)
    assert abandoned_uploads(db, ttl_hours=24) == []
    transition(db, root, JobState.TERMINATED)
    removed = sweep_uploads(db, home, ttl_hours=24)
    assert [f.file_id for f in removed] == [file_id] and child in removed[0].reason
    assert not blob.exists()


def test_a_file_whose_job_is_gone_is_abandoned(db: Database) -> None:
    project = create_container(db, "project", "p")
    file_id = _file(db, project, "orphan.bin", job=new_id("job"))
    assert [f.file_id for f in abandoned_uploads(db, ttl_hours=24)] == [file_id]


def test_a_file_that_changed_after_it_was_judged_stays(db: Database, home: Path) -> None:
    project = create_container(db, "project", "p")
    file_id = _file(db, project, "busy.bin")
    _age(db, file_id, 30)
    judged = abandoned_uploads(db, ttl_hours=24)
    _part(db, home, file_id, 1, b"a part arrives in between")
    assert remove_abandoned(db, home, judged) == []
    assert get_object(db, file_id)["state"] == "open"


def test_scratch_leftovers_go_but_not_a_writer_in_flight(db: Database, home: Path) -> None:
    in_flight = BlobWriter(home)
    in_flight.write(b"being written")
    scratch = scratch_dir(home)
    old = scratch / "part-cut-mid-body"
    old.write_bytes(b"half a part")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    fresh = scratch / "part-just-started"
    fresh.write_bytes(b"")
    (scratch / "a-link").symlink_to(home / "runner.db")

    sweep_uploads(db, home, ttl_hours=24, scratch_min_age_s=600)
    assert sorted(p.name for p in scratch.iterdir()) == sorted([Path(in_flight._path).name, fresh.name])
    assert (home / "runner.db").exists()

    recover_uploads(db, home)  # at start nothing is in flight: every unheld leftover goes
    assert [p.name for p in scratch.iterdir()] == [Path(in_flight._path).name]
    in_flight.discard()


def test_recovery_at_start_reopens_closing_files_and_applies_the_ttl_setting(db: Database,
                                                                             home: Path) -> None:
    (home / "config.toml").write_text("open_file_ttl_hours = 2\n")
    project = create_container(db, "project", "p")
    cut, kept = _file(db, project, "cut.bin"), _file(db, project, "kept.bin")
    _part(db, home, cut, 1, b"the engine died closing this")
    begin_close(db, cut)
    begin_close(db, kept)
    _age(db, cut, 3)  # reopening it is no activity of its uploader: its age counts

    removed = recover_uploads(db, home)

    assert [f.file_id for f in removed] == [cut]
    assert get_object(db, kept)["state"] == "open"


@pytest.mark.asyncio
async def test_the_periodic_sweep_removes_what_goes_idle_while_the_engine_runs(db: Database,
                                                                               home: Path) -> None:
    project = create_container(db, "project", "p")
    file_id = _file(db, project, "left.bin")
    blob = _part(db, home, file_id, 1, b"the client went away")
    sweeper = asyncio.create_task(sweep_periodically(db, home, interval_s=0.01))
    try:
        await asyncio.sleep(0.05)
        assert get_object(db, file_id)["state"] == "open"  # not idle yet: the sweeps leave it
        _age(db, file_id, 30)
        deadline = time.monotonic() + 30
        while blob.exists():
            assert time.monotonic() < deadline, "no sweep removed the idle upload"
            await asyncio.sleep(0.01)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
    with pytest.raises(ObjectNotFound):
        get_object(db, file_id)
