"""Uploads that will never finish, and what removes them: the engine at start, and a sweep every hour.

The policy: an open file is abandoned, and removed with its parts, when

- a job created it (`createdBy.job`) and that job's tree has ended (every job of it is done, failed or
  terminated, or the job is gone): nothing can upload a part to it or close it any more; or
- the user created it and it saw no activity (its creation, a part uploaded, any change: its `modified`) for
  longer than the `open_file_ttl_hours` setting (24 hours unless set): its client gave up or was cut off.

A file being closed is never touched, and a file is removed only if it is still open and unchanged when the
sweep's transaction looks again. Blobs go only once no file and no part uses them (`release_blobs`).
Leftovers under `blobs/tmp/` (PUTs cut mid-body, an engine killed mid-write) are removed at start, when no
upload is in flight; a later sweep removes only those no writer holds and unchanged for `SCRATCH_GRACE_S`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.config import current_settings
from runner.spec.job_states import TERMINAL_STATES
from runner.store.db import Database, now_ms
from runner.store.files import (
    drop_files,
    release_blobs,
    remove_scratch,
    reopen_interrupted,
    scratch_leftovers,
)
from runner.store.objects import ObjectNotFound, get_object

log = logging.getLogger(__name__)
SWEEP_INTERVAL_S = 3600.0
SCRATCH_GRACE_S = 600.0
HOUR_MS = 3600 * 1000


@dataclass(frozen=True, slots=True)
class Abandoned:
    """An open file the policy removes: where it is seen (`project:folder/name`), why, and its `modified`."""

    file_id: str
    where: str
    reason: str
    modified: int


def _where(db: Database, file_id: str) -> str:
    try:
        file = get_object(db, file_id)
    except ObjectNotFound:
        return "(in no container)"
    folder = file["folder"].rstrip("/")
    return f"{file['project']}:{folder}/{file['name']}"


def _tree_ended(db: Database, job_id: str) -> bool:
    rows = db.query("SELECT root FROM jobs WHERE id = ?", (job_id,))
    if not rows:
        return True
    terminal = tuple(state.value for state in TERMINAL_STATES)
    marks = ", ".join("?" for _ in terminal)
    live = db.query(f"SELECT 1 FROM jobs WHERE root = ? AND state NOT IN ({marks}) LIMIT 1",
                    (rows[0]["root"], *terminal))
    return not live


def abandoned_uploads(db: Database, ttl_hours: float, at_ms: int | None = None) -> list[Abandoned]:
    """The open files the policy removes now (`at_ms`, default now), oldest activity first."""
    now = now_ms() if at_ms is None else at_ms
    found: list[Abandoned] = []
    rows = db.query("SELECT id, modified, doc FROM objects WHERE class = 'file' AND state = 'open' "
                    "ORDER BY modified, rowid")
    for row in rows:
        job_id = (json.loads(row["doc"]).get("createdBy") or {}).get("job")
        if isinstance(job_id, str):
            if not _tree_ended(db, job_id):
                continue
            reason = f"its creator {job_id} has ended, with its whole tree"
        elif now - row["modified"] > ttl_hours * HOUR_MS:
            idle_hours = (now - row["modified"]) / HOUR_MS
            reason = f"no activity for {idle_hours:.1f} hours (open_file_ttl_hours = {ttl_hours:g})"
        else:
            continue
        found.append(Abandoned(row["id"], _where(db, row["id"]), reason, row["modified"]))
    return found


def remove_abandoned(db: Database, home: Path, files: Sequence[Abandoned]) -> list[Abandoned]:
    """Remove those of `files` still open and unchanged since judged, with their parts; those removed."""
    removed: list[Abandoned] = []
    with db.transaction() as conn:
        for file in files:
            row = conn.execute("SELECT state, modified FROM objects WHERE id = ?", (file.file_id,)).fetchone()
            if row is not None and row["state"] == "open" and row["modified"] == file.modified:
                removed.append(file)
        used = drop_files(conn, [f.file_id for f in removed])
    release_blobs(db, home, used)
    return removed


def sweep_uploads(db: Database, home: Path, ttl_hours: float, scratch_min_age_s: float = SCRATCH_GRACE_S,
                  at_ms: int | None = None) -> list[Abandoned]:
    """Remove scratch leftovers and the abandoned open files; the files removed (each logged)."""
    remove_scratch(scratch_leftovers(home, scratch_min_age_s))
    removed = remove_abandoned(db, home, abandoned_uploads(db, ttl_hours, at_ms))
    for file in removed:
        log.info("removed the abandoned upload %s (%s): %s", file.file_id, file.where, file.reason)
    return removed


def recover_uploads(db: Database, home: Path) -> list[Abandoned]:
    """At engine start: files left closing reopen, then every scratch leftover and abandoned file goes."""
    reopened = reopen_interrupted(db)
    if reopened:
        log.info("files left closing by a stopped engine are open again: %s", ", ".join(reopened))
    return sweep_uploads(db, home, current_settings(home).open_file_ttl_hours, scratch_min_age_s=0.0)


async def sweep_periodically(db: Database, home: Path, interval_s: float = SWEEP_INTERVAL_S) -> None:
    """Sweep abandoned uploads every `interval_s` until cancelled (a failed sweep is logged, not fatal)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            ttl = current_settings(home).open_file_ttl_hours
            await asyncio.to_thread(sweep_uploads, db, home, ttl)
        except Exception:  # noqa: BLE001 - one failed sweep must not end the sweeps
            log.exception("the sweep of abandoned uploads failed")
