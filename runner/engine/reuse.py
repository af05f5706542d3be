"""Job reuse: a job equal to one already done (same applet, entry point, input, instance type) takes its output.

Every job gets `_reuseKey` when its input is resolved; a job that ran and ended done keeps it, so a later
equal job whose run asked for reuse finds it and ends done at once, its describe naming the source in
`outputReusedFrom`. A job that was itself reused carries no key: reuse always names a job that ran.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.jobs import JobNotFound, get_job


def reuse_key(job: Mapping[str, Any], resolved_input: Mapping[str, Any]) -> str:
    """The hash of what makes two jobs equal: applet (its ID is its content), function, input, instance type."""
    identity = {"applet": job["applet"], "function": job["function"], "input": resolved_input,
                "instanceType": job["instanceType"]}
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def reuse_wanted(applet: Mapping[str, Any], *, asked: bool | None, ignore_reuse: bool, default: bool) -> bool:
    """Whether a run's jobs may reuse: asked for (else the setting), and not ignoreReuse (run or applet)."""
    if ignore_reuse or applet.get("ignoreReuse") is True:
        return False
    return default if asked is None else asked


def find_reusable(db: Database, key: str, exclude: str) -> dict[str, Any] | None:
    """The earliest done job with reuse key `key` (other than `exclude`), or None."""
    rows = db.query(
        "SELECT id FROM jobs WHERE state = ? AND id != ? AND json_extract(doc, '$._reuseKey') = ? "
        "ORDER BY created, rowid LIMIT 1",
        (JobState.DONE.value, exclude, key),
    )
    if not rows:
        return None
    try:
        return get_job(db, rows[0]["id"])
    except JobNotFound:
        return None
