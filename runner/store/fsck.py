"""`runner fsck`: the store checked against itself, `blobs/` and the job folders; what is wrong, and repairs.

Each problem is a `Finding`: its kind, the object (a file, job or blob), the path concerned, what is wrong
and what `repair` does about it. The repairs, chosen for what a user needs afterwards:

- a closed file whose content blob is missing or of the wrong size has lost its content: the file is removed
  from every project (serving wrong bytes, or failing every download and every job that reads it, would be
  worse; the finding names `project:/folder/name` so it can be uploaded again); an open file with a lost
  part cannot be completed and goes the same way;
- blobs nothing uses, stray entries in `blobs/` and `blobs/tmp/` leftovers no writer holds are deleted;
- abandoned uploads (runner.store.uploads) are removed with their parts;
- part rows of no open file, objects in no container and memberships of no object are deleted; an applet
  in no container that an unfinished job runs is kept for it (runner.store.kept) and is no problem, one
  kept for jobs that have all ended (an engine stopped between the two) is deleted;
- a job folder with no job is deleted (nothing can show it any more); a job with no folder gets an empty one
  (its log is lost); an engine-owned file in a job folder that is not a regular file (a link, a FIFO) is
  removed, the link itself and never what it points to (runner.store._fsck_jobs);
- SQLite's `integrity_check` and `foreign_key_check` are reported and never repaired here: restore the
  database from a backup (`sqlite3 runner.db .recover` salvages what it can).

Blobs are deleted only inside a transaction that finds nothing using them (`release_blobs`), so a check
running beside uploads never deletes a blob an upload has just stored.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runner.store import _fsck_jobs, kept
from runner.store._fsck_model import Finding
from runner.store.db import Database
from runner.store.files import (
    BLOBS,
    blob_path,
    drop_files,
    release_blobs,
    remove_scratch,
    scratch_dir,
    scratch_leftovers,
)
from runner.store.uploads import abandoned_uploads, remove_abandoned

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A PUT in flight holds its scratch file's lock; the grace only covers the instant before it takes it.
SCRATCH_GRACE_S = 60.0
LOST_FILE = "the file is removed from every project (its content is lost: upload it again)"

__all__ = ["Finding", "FsckReport", "run_fsck"]


@dataclass(slots=True)
class FsckReport:
    """What one check found (and, with repair, fixed), and how much it looked at."""

    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    repair: bool = False

    @property
    def remaining(self) -> list[Finding]:
        """The problems still there."""
        return [f for f in self.findings if not f.repaired]

    def add(self, kind: str, object_id: str, path: str, problem: str, repair: str) -> None:
        """Record a problem."""
        self.findings.append(Finding(kind, object_id, path, problem, repair))

    def document(self) -> dict[str, Any]:
        """The JSON answer of POST /runner/fsck."""
        return {"clean": not self.remaining, "repair": self.repair, "checked": dict(self.checked),
                "problems": [asdict(f) for f in self.findings], "remaining": len(self.remaining),
                "repaired": sum(1 for f in self.findings if f.repaired)}


def _database(db: Database, report: FsckReport) -> None:
    rows = db.query("PRAGMA integrity_check")
    messages = [str(r[0]) for r in rows if str(r[0]) != "ok"]
    messages += [f"row {r[1]} of {r[0]} refers to a missing row of {r[2]}"
                 for r in db.query("PRAGMA foreign_key_check")]
    for message in messages:
        report.add("database", "runner.db", str(db.path), message,
                   "none: restore runner.db from a backup (sqlite3 runner.db .recover salvages what it can)")


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def _content_problem(home: Path, sha: Any, size: Any) -> str | None:
    if not isinstance(sha, str) or not SHA256.match(sha):
        return f"its content is recorded as {sha!r}, not a blob"
    found = _size(blob_path(home, sha))
    if found is None:
        return f"its blob {sha} is missing"
    if found != size:
        return f"its blob {sha} has {found} bytes, not {size}"
    return None


def _file_problems(db: Database, home: Path, file_id: str, state: str, doc: dict[str, Any]) -> list[str]:
    if state == "closed":
        problem = _content_problem(home, doc.get("blob"), doc.get("size"))
        return [f"closed file: {problem}"] if problem else []
    parts = db.query("SELECT idx, size, blob FROM file_parts WHERE file = ? ORDER BY idx", (file_id,))
    return [f"{state} file: part {p['idx']}: {problem}" for p in parts
            if (problem := _content_problem(home, p["blob"], p["size"]))]


def _still_lost(db: Database, home: Path, file_ids: list[str]) -> list[str]:
    """Those of `file_ids` that lack content now (call it inside a transaction: nothing moves meanwhile)."""
    still: list[str] = []
    for file_id in file_ids:
        rows = db.query("SELECT state, doc FROM objects WHERE id = ?", (file_id,))
        if rows and _file_problems(db, home, file_id, rows[0]["state"], json.loads(rows[0]["doc"])):
            still.append(file_id)
    return still


def _files(db: Database, home: Path, report: FsckReport) -> list[str]:
    """Closed files against their blobs, open files against their parts'; the files that lost content."""
    files = db.query("SELECT id, state, doc FROM objects WHERE class = 'file'")
    report.checked["files"] = len(files)
    suspects = [r["id"] for r in files if _file_problems(db, home, r["id"], r["state"], json.loads(r["doc"]))]
    if not suspects:
        return []
    # Looked at again with the store held still: a close may have released the parts seen a moment ago.
    with db.transaction():
        lost = _still_lost(db, home, suspects)
        for file_id in lost:
            row = db.query("SELECT state, doc FROM objects WHERE id = ?", (file_id,))[0]
            doc = json.loads(row["doc"])
            closed = row["state"] == "closed"
            kind = "content-lost" if closed else "part-lost"
            path = str(blob_path(home, str(doc.get("blob")))) if closed else str(home / BLOBS)
            for problem in _file_problems(db, home, file_id, row["state"], doc):
                report.add(kind, file_id, path, problem, LOST_FILE)
    return lost


def _rows(db: Database, report: FsckReport) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Part rows of no open file, memberships of no object, objects in no container."""
    parts = [r["file"] for r in db.query(
        "SELECT DISTINCT p.file FROM file_parts p LEFT JOIN objects o ON o.id = p.file "
        "WHERE o.id IS NULL OR o.state NOT IN ('open', 'closing')")]
    for file_id in parts:
        report.add("part-orphan", file_id, "runner.db",
                   "parts are recorded for a file that does not exist or is no longer open",
                   "the part rows are deleted")
    dangling = [(r["container"], r["object"]) for r in db.query(
        "SELECT m.container, m.object FROM memberships m LEFT JOIN objects o ON o.id = m.object "
        "WHERE o.id IS NULL")] + kept.dangling(db)
    for container, object_id in dangling:
        report.add("membership-dangling", object_id, "runner.db",
                   f"{container} lists an object that does not exist", "the entry is deleted")
    homeless = [r["id"] for r in db.query(
        "SELECT o.id FROM objects o LEFT JOIN memberships m ON m.object = o.id WHERE m.object IS NULL")
        if not kept.needed(db, r["id"])]  # one an unfinished job runs is kept for it: no problem
    for object_id in homeless:
        problem = ("the object was kept for the jobs that ran it, which have all ended"
                   if kept.is_kept(db, object_id) else "the object is in no project or container")
        report.add("object-orphan", object_id, "runner.db", problem, "the object is deleted (with its parts)")
    return parts, dangling, homeless


def _blob_files(home: Path) -> Iterable[Path]:
    root = home / BLOBS
    if not root.is_dir():
        return []
    return sorted(p for top in root.iterdir() if top != scratch_dir(home)
                  for p in (top.iterdir() if top.is_dir() and not top.is_symlink() else [top]))


def _blobs(db: Database, home: Path, report: FsckReport) -> tuple[list[str], list[Path]]:
    """Blob files nothing uses, and entries of blobs/ that are no blob at all."""
    on_disk = list(_blob_files(home))  # listed before the references are read: see the module docstring
    used = {r["blob"] for r in db.query("SELECT blob FROM file_parts")}
    used |= {r["b"] for r in db.query(
        "SELECT json_extract(doc, '$.blob') AS b FROM objects WHERE class = 'file'")}
    unused: list[str] = []
    stray: list[Path] = []
    for path in on_disk:
        if not SHA256.match(path.name) or path.parent.name != path.name[:2] or _size(path) is None:
            stray.append(path)
            report.add("blob-stray", path.name, str(path),
                       "not a blob (a blob is a regular file blobs/<sha[:2]>/<sha256>)", "it is deleted")
        elif path.name not in used:
            unused.append(path.name)
            report.add("blob-unreferenced", path.name, str(path), "no file or part uses this blob",
                       "it is deleted")
    report.checked["blobs"] = len(on_disk)
    return unused, stray


def _scratch(home: Path, report: FsckReport) -> list[Path]:
    leftovers = scratch_leftovers(home, SCRATCH_GRACE_S)
    for path in leftovers:
        report.add("scratch-leftover", path.name, str(path),
                   "a temporary blob no upload is writing (a PUT cut mid-body, an engine stopped mid-write)",
                   "it is deleted")
    return leftovers


def _mark(report: FsckReport, kinds: Iterable[str], objects: Iterable[str] | None = None) -> None:
    wanted, chosen = set(kinds), None if objects is None else set(objects)
    for finding in report.findings:
        if finding.kind in wanted and (chosen is None or finding.object in chosen):
            finding.repaired = True


def _repair_store(db: Database, home: Path, report: FsckReport, lost: list[str],
                  rows: tuple[list[str], list[tuple[str, str]], list[str]]) -> None:
    parts, dangling, homeless = rows
    # Everything is looked at again inside the transaction: the store may have moved on since the checks.
    with db.transaction() as conn:
        lost = _still_lost(db, home, lost)
        used = drop_files(conn, lost)
        for file_id in parts:
            if conn.execute("SELECT 1 FROM objects WHERE id = ? AND state IN ('open', 'closing')",
                            (file_id,)).fetchone() is None:
                used += [r["blob"] for r in conn.execute("SELECT blob FROM file_parts WHERE file = ?",
                                                         (file_id,))]
                conn.execute("DELETE FROM file_parts WHERE file = ?", (file_id,))
        for container, object_id in dangling:
            for table in ("memberships", "kept"):
                conn.execute(f"DELETE FROM {table} WHERE container = ? AND object = ? AND NOT EXISTS "
                             "(SELECT 1 FROM objects WHERE id = ?)", (container, object_id, object_id))
        used += _drop_homeless(conn, homeless)
    release_blobs(db, home, used)
    _mark(report, ("content-lost", "part-lost"), lost)
    _mark(report, ("part-orphan", "membership-dangling", "object-orphan"))


def _drop_homeless(conn: sqlite3.Connection, object_ids: list[str]) -> list[str]:
    still = [o for o in object_ids
             if conn.execute("SELECT 1 FROM memberships WHERE object = ?", (o,)).fetchone() is None
             and not kept.needed(conn, o)]
    used = drop_files(conn, still)
    for object_id in still:
        conn.execute("DELETE FROM kept WHERE object = ?", (object_id,))
        conn.execute("DELETE FROM objects WHERE id = ?", (object_id,))
    return used


def run_fsck(db: Database, home: Path, *, repair: bool, ttl_hours: float) -> FsckReport:
    """Check the store of `home` and, with `repair`, repair what can be; slow on a big store: use a thread."""
    report = FsckReport(repair=repair)
    _database(db, report)
    lost = _files(db, home, report)
    rows = _rows(db, report)
    abandoned = [f for f in abandoned_uploads(db, ttl_hours) if f.file_id not in lost]
    for file in abandoned:
        report.add("upload-abandoned", file.file_id, file.where, f"open file: {file.reason}",
                   "the file is removed with its parts")
    jobs = _fsck_jobs.check(db, home, report.findings)
    report.checked["jobs"] = jobs
    if repair:
        _repair_store(db, home, report, lost, rows)
        removed = remove_abandoned(db, home, abandoned)
        _mark(report, ["upload-abandoned"], [f.file_id for f in removed])
        _fsck_jobs.repair(home, report.findings)
    # Blobs last: the repairs above may have left more of them unused.
    unused, stray = _blobs(db, home, report)
    leftovers = _scratch(home, report)
    if repair:
        deleted = set(release_blobs(db, home, unused))
        _mark(report, ["blob-unreferenced"], deleted)
        remove_scratch([*stray, *leftovers])
        _mark(report, ["blob-stray", "scratch-leftover"])
    return report
