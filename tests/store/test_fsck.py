"""`runner fsck` on a real SQLite file, blobs and job folders: each problem planted, reported, repaired."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

import pytest

from runner.spec.ids import new_id
from runner.store.db import Database
from runner.store.files import BlobWriter, add_part, begin_close, blob_path, finish_close, scratch_dir
from runner.store.fsck import FsckReport, run_fsck
from runner.store.jobs import insert_job
from runner.store.objects import ObjectNotFound, create_container, create_object, get_object

TTL = 24.0


@pytest.fixture
def project(db: Database) -> str:
    return create_container(db, "project", "p")


def _upload(db: Database, home: Path, project: str, parts: list[bytes], *, name: str = "f.bin",
            close: bool = True) -> str:
    file_id = str(create_object(db, "file", project, name=name)["id"])
    for index, data in enumerate(parts, start=1):
        writer = BlobWriter(home)
        writer.write(data)
        add_part(db, home, file_id, index, writer)
    if close:
        begin_close(db, file_id)
        finish_close(db, home, file_id)
    return file_id


def _job(db: Database, home: Path) -> str:
    job_id = new_id("job")
    insert_job(db, {"id": job_id, "rootExecution": job_id})
    (home / "jobs" / job_id / "work").mkdir(parents=True)
    (home / "jobs" / job_id / "job.log").write_text("2026-12-01T00:00:00.000Z runner created\n")
    return job_id


def _fsck(db: Database, home: Path, repair: bool = False) -> FsckReport:
    return run_fsck(db, home, repair=repair, ttl_hours=TTL)


def _kinds(report: FsckReport) -> list[tuple[str, str]]:
    return sorted((f.kind, f.object) for f in report.findings)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_healthy_store_is_clean(db: Database, home: Path, project: str) -> None:
    _upload(db, home, project, [b"one ", b"two"])
    _upload(db, home, project, [b"open part"], close=False, name="open.bin")
    _job(db, home)
    report = _fsck(db, home)
    assert report.findings == [] and report.document()["clean"] is True
    assert report.checked == {"files": 2, "jobs": 1, "blobs": 2}


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_closed_file_with_lost_content_is_removed(db: Database, home: Path, project: str,
                                                    damage: str) -> None:
    lost = _upload(db, home, project, [b"precious bytes"], name="lost.bin")
    kept = _upload(db, home, project, [b"other bytes"], name="kept.bin")
    blob = blob_path(home, _sha(b"precious bytes"))
    if damage == "missing":
        blob.unlink()
    else:
        blob.write_bytes(b"prec")
    report = _fsck(db, home)
    assert _kinds(report) == [("content-lost", lost)]
    finding = report.findings[0]
    assert finding.path == str(blob) and "removed from every project" in finding.repair
    assert ("is missing" if damage == "missing" else "has 4 bytes, not 14") in finding.problem

    repaired = _fsck(db, home, repair=True)
    assert [f.repaired for f in repaired.findings] == [True] and repaired.document()["clean"] is True
    with pytest.raises(ObjectNotFound):
        get_object(db, lost)
    assert not blob.exists() and get_object(db, kept)["state"] == "closed"
    assert _fsck(db, home).findings == []


def test_an_open_file_with_a_lost_part_is_removed(db: Database, home: Path, project: str) -> None:
    file_id = _upload(db, home, project, [b"part one", b"part two"], close=False)
    blob_path(home, _sha(b"part two")).unlink()
    report = _fsck(db, home)
    assert _kinds(report) == [("part-lost", file_id)] and "part 2:" in report.findings[0].problem
    _fsck(db, home, repair=True)
    assert not blob_path(home, _sha(b"part one")).exists()
    assert _fsck(db, home).findings == []


def test_unreferenced_and_stray_blobs_are_deleted(db: Database, home: Path, project: str) -> None:
    used = _upload(db, home, project, [b"in use"])
    orphan = blob_path(home, _sha(b"nobody"))
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"nobody")
    outside = home.parent / "outside.txt"
    outside.write_text("not the runner's")
    link = blob_path(home, _sha(b"a link"))
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside)
    (home / "blobs" / "notes.txt").write_text("hello")

    report = _fsck(db, home)
    assert _kinds(report) == [("blob-stray", _sha(b"a link")), ("blob-stray", "notes.txt"),
                              ("blob-unreferenced", _sha(b"nobody"))]
    assert _fsck(db, home, repair=True).document()["remaining"] == 0
    assert not orphan.exists() and not link.is_symlink() and outside.read_text() == "not the runner's"
    assert get_object(db, used)["state"] == "closed" and _fsck(db, home).findings == []


def test_scratch_leftovers_are_deleted_but_not_an_upload_in_flight(db: Database, home: Path) -> None:
    in_flight = BlobWriter(home)
    in_flight.write(b"arriving")
    os.utime(in_flight._path, (time.time() - 3600, time.time() - 3600))
    leftover = scratch_dir(home) / "part-cut"
    leftover.write_bytes(b"half")
    os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    assert _kinds(_fsck(db, home)) == [("scratch-leftover", "part-cut")]
    _fsck(db, home, repair=True)
    assert not leftover.exists() and in_flight._path.exists()
    in_flight.discard()


def test_an_abandoned_upload_is_reported_and_removed(db: Database, home: Path, project: str) -> None:
    file_id = _upload(db, home, project, [b"never closed"], close=False)
    with db.transaction() as conn:
        conn.execute("UPDATE objects SET modified = modified - ? WHERE id = ?", ((25 * 3600 * 1000), file_id))
    report = _fsck(db, home)
    assert _kinds(report) == [("upload-abandoned", file_id)]
    assert report.findings[0].path == f"{project}:/f.bin"
    _fsck(db, home, repair=True)
    assert not blob_path(home, _sha(b"never closed")).exists() and _fsck(db, home).findings == []


def test_job_folders_match_the_jobs(db: Database, home: Path) -> None:
    healthy = _job(db, home)
    no_folder = new_id("job")
    insert_job(db, {"id": no_folder, "rootExecution": no_folder})
    orphan = home / "jobs" / new_id("job")
    (orphan / "work").mkdir(parents=True)
    (orphan / "job.log").write_text("a log of a job that is gone\n")
    linked = new_id("job")
    insert_job(db, {"id": linked, "rootExecution": linked})
    elsewhere = home.parent / "elsewhere"
    elsewhere.mkdir()
    (home / "jobs" / linked).symlink_to(elsewhere)

    report = _fsck(db, home)
    assert _kinds(report) == sorted([("job-folder-orphan", orphan.name), ("job-folder-missing", no_folder),
                                     ("job-folder-not-a-folder", linked)])
    _fsck(db, home, repair=True)
    assert not orphan.exists() and (home / "jobs" / no_folder).is_dir() and elsewhere.is_dir()
    assert (home / "jobs" / linked).is_dir() and not (home / "jobs" / linked).is_symlink()
    assert (home / "jobs" / healthy / "job.log").exists() and _fsck(db, home).findings == []


def test_links_and_fifos_at_the_engines_files_are_removed_never_followed(db: Database, home: Path) -> None:
    job_id = _job(db, home)
    folder = home / "jobs" / job_id
    target = home.parent / "bashrc"
    target.write_text("the user's own file\n")
    (folder / "job.log").unlink()
    (folder / "job.log").symlink_to(target)
    os.mkfifo(folder / "output.json")
    (folder / "input").mkdir()
    (folder / "input" / "job_input.json").symlink_to(target)
    (folder / "work" / "output.json").symlink_to(target)  # the job's own folder: not the engine's business
    (folder / "error.json").mkdir()

    report = _fsck(db, home)
    assert sorted(f.path for f in report.findings) == sorted(
        str(p) for p in (folder / "job.log", folder / "output.json", folder / "error.json",
                         folder / "input" / "job_input.json"))
    assert {f.kind for f in report.findings} == {"job-file-special"}
    assert any("a FIFO, not a regular file" in f.problem for f in report.findings)

    _fsck(db, home, repair=True)
    assert target.read_text() == "the user's own file\n"
    assert sorted(p.name for p in folder.iterdir()) == ["input", "work"]
    assert (folder / "work" / "output.json").is_symlink() and _fsck(db, home).findings == []


def test_rows_that_point_nowhere_are_deleted(db: Database, home: Path, project: str) -> None:
    gone = new_id("file")
    ghost = new_id("record")
    writer = BlobWriter(home)
    writer.write(b"a part of nothing")
    with db.transaction() as conn:
        blob = writer.commit()
        conn.execute("INSERT INTO file_parts VALUES (?, 1, ?, ?, ?)",
                     (gone, blob.size, blob.md5, blob.sha256))
        conn.execute("INSERT INTO memberships VALUES (?, ?, '/', 'ghost', 0, '{}')", (project, ghost))
    homeless = create_object(db, "record", project, name="r")["id"]
    with db.transaction() as conn:
        conn.execute("DELETE FROM memberships WHERE object = ?", (homeless,))

    report = _fsck(db, home)
    assert _kinds(report) == [("membership-dangling", ghost), ("object-orphan", homeless),
                              ("part-orphan", gone)]
    _fsck(db, home, repair=True)
    assert not blob_path(home, blob.sha256).exists() and _fsck(db, home).findings == []


def test_a_corrupt_database_is_reported_and_left_for_a_backup(home: Path) -> None:
    db = Database(home / "runner.db")
    project = create_container(db, "project", "p")
    for index in range(5):
        create_object(db, "record", project, name=f"rec-{index}")
    db.close()
    _corrupt_index(home / "runner.db", "memberships_by_name", b"rec-3", b"rec-9")
    db = Database(home / "runner.db")
    try:
        report = run_fsck(db, home, repair=True, ttl_hours=TTL)
    finally:
        db.close()
    assert {f.kind for f in report.findings} == {"database"}
    assert any("missing from index memberships_by_name" in f.problem for f in report.findings)
    assert report.remaining == report.findings and "backup" in report.findings[0].repair


def _corrupt_index(path: Path, index: str, old: bytes, new: bytes) -> None:
    """Change one key inside an index's page, as a bad disk sector would."""
    with sqlite3.connect(path) as conn:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    at = data.index(old, start, start + page_size)
    data[at:at + len(old)] = new
    path.write_bytes(bytes(data))
