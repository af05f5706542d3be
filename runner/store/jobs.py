"""Jobs and their state transitions. `transition()` is the only way a job's state changes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from runner.errors import NotFound
from runner.spec.events import JobCreated, JobOutput, JobStateChanged, JobUpdated
from runner.spec.job_states import JobState, check_transition
from runner.store import kept
from runner.store.db import Database, dumps, now_ms
from runner.store.events import record
from runner.store.job_record import KEYS, record_of

RESOURCES_KEY = KEYS["resources"]
# SQLite allows 32766 host parameters in a statement; stay well below.
_IN_CHUNK = 500


class JobNotFound(NotFound):
    """No job has that ID."""


def _row_to_job(row: sqlite3.Row, transitions: list[dict[str, Any]]) -> dict[str, Any]:
    job: dict[str, Any] = json.loads(row["doc"])
    job.update(id=row["id"], state=row["state"], created=row["created"], modified=row["modified"],
               stateTransitions=transitions)
    return job


def _transitions(conn: sqlite3.Connection | Database, job_id: str) -> list[dict[str, Any]]:
    sql = "SELECT state, set_at FROM transitions WHERE job = ? ORDER BY seq"
    rows = conn.query(sql, (job_id,)) if isinstance(conn, Database) else conn.execute(sql, (job_id,)).fetchall()
    return [{"newState": r["state"], "setAt": r["set_at"]} for r in rows]


def insert_job(db: Database, job: Mapping[str, Any]) -> dict[str, Any]:
    """Store a new job in state `idle`; `job` must carry `id` and `rootExecution`."""
    created = now_ms()
    doc = {k: v for k, v in job.items() if k not in ("id", "state", "created", "modified", "stateTransitions")}
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO jobs (id, root, parent, state, created, modified, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (job["id"], job["rootExecution"], job.get("parentJob"), JobState.IDLE.value, created, created, dumps(doc)),
        )
        record(db, conn, JobCreated(
            seq=0, time=created, job=job["id"], root=job["rootExecution"], parent=job.get("parentJob"),
            name=str(job.get("name") or ""), executable=str(job.get("applet") or ""),
            function=str(job.get("function") or "main"), instance_type=str(job.get("instanceType") or ""),
            resources=record_of(job).resources.document(), rank=int(job.get("rank") or 0), created=created,
            timeout=int(job["timeout"]) if job.get("timeout") else None, rerun_of=job.get("rerunOf")))
    return get_job(db, job["id"])


def get_job(db: Database, job_id: str) -> dict[str, Any]:
    """The job as a describe-shaped mapping; raises JobNotFound."""
    rows = db.query("SELECT * FROM jobs WHERE id = ?", (job_id,))
    if not rows:
        raise JobNotFound(f"no job {job_id}")
    return _row_to_job(rows[0], _transitions(db, job_id))


def update_job(db: Database, job_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `changes` into a job's fields (never its state: see `transition`)."""
    if "state" in changes:
        raise ValueError("a job's state changes only through transition()")
    with db.transaction() as conn:
        _merge_doc(db, conn, job_id, changes)
    return get_job(db, job_id)


def _merge_doc(db: Database, conn: sqlite3.Connection, job_id: str, changes: Mapping[str, Any]
               ) -> tuple[sqlite3.Row, dict[str, Any]]:
    """Merge `changes` into the job's document, recording job.updated / job.output for what describe shows."""
    row: sqlite3.Row | None = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise JobNotFound(f"no job {job_id}")
    doc = json.loads(row["doc"])
    visible = {k: v for k, v in changes.items() if k in JobUpdated.FIELDS and doc.get(k) != v}
    new_output = changes.get("output")
    output_changed = isinstance(new_output, dict) and doc.get("output") != new_output
    doc.update(changes)
    at = now_ms()
    conn.execute("UPDATE jobs SET doc = ?, modified = ? WHERE id = ?", (dumps(doc), at, job_id))
    if visible:
        record(db, conn, JobUpdated(seq=0, time=at, job=job_id, root=row["root"], changes=visible))
    if output_changed:
        output = dict(new_output or {})
        record(db, conn, JobOutput(seq=0, time=at, job=job_id, root=row["root"], output=output))
    return row, doc


def transition(
    db: Database, job_id: str, new_state: JobState, changes: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Move a job to `new_state` (rejecting illegal moves), record when, and merge `changes` atomically."""
    at = now_ms()
    with db.transaction() as conn:
        row, doc = _merge_doc(db, conn, job_id, changes or {})
        check_transition(job_id, JobState(row["state"]), new_state)
        seq = conn.execute("SELECT COUNT(*) FROM transitions WHERE job = ?", (job_id,)).fetchone()[0]
        conn.execute("INSERT INTO transitions (job, seq, state, set_at) VALUES (?, ?, ?, ?)",
                     (job_id, seq, new_state.value, at))
        conn.execute("UPDATE jobs SET state = ?, modified = ? WHERE id = ?", (new_state.value, at, job_id))
        failed = new_state is JobState.FAILED
        record(db, conn, JobStateChanged(
            seq=0, time=at, job=job_id, root=row["root"], from_state=row["state"], to_state=new_state.value,
            try_=int(doc.get("try") or 0), reason=doc.get("failureReason") if failed else None,
            message=doc.get("failureMessage") if failed else None))
        if new_state.is_terminal:
            kept.collect(conn, doc.get("applet"))  # its applet, if removed meanwhile, once no job runs it
    return get_job(db, job_id)


def find_jobs(
    db: Database, *, root: str | None = None, parent: str | None = None, states: tuple[JobState, ...] = (),
    transitions: bool = True,
) -> list[dict[str, Any]]:
    """Jobs matching every filter given, oldest first; without `transitions`, `stateTransitions` is empty."""
    clauses, params = [], []
    if root is not None:
        clauses.append("root = ?")
        params.append(root)
    if parent is not None:
        clauses.append("parent = ?")
        params.append(parent)
    if states:
        clauses.append(f"state IN ({', '.join('?' for _ in states)})")
        params.extend(s.value for s in states)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.query(f"SELECT * FROM jobs {where} ORDER BY created, rowid", tuple(params))
    return [_row_to_job(r, _transitions(db, r["id"]) if transitions else []) for r in rows]


def job_outcomes(db: Database, job_ids: Iterable[str]) -> dict[str, tuple[str, Any]]:
    """`{id: (state, output)}` of the jobs that exist among `job_ids`: one light query, no transitions.

    What resolving references and waiting on children needs, for trees of hundreds of jobs.
    """
    wanted = list(dict.fromkeys(job_ids))
    found: dict[str, tuple[str, Any]] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start:start + _IN_CHUNK]
        rows = db.query(f"SELECT id, state, json_extract(doc, '$.output') AS output FROM jobs "
                        f"WHERE id IN ({', '.join('?' for _ in chunk)})", tuple(chunk))
        for row in rows:
            output = row["output"]
            found[row["id"]] = (row["state"], json.loads(output) if isinstance(output, str) else output)
    return found


def child_states(db: Database, parent: str) -> dict[str, str]:
    """`{id: state}` of the children of `parent`, without reading their documents."""
    return {r["id"]: r["state"] for r in db.query("SELECT id, state FROM jobs WHERE parent = ?", (parent,))}


def find_subtree(db: Database, top: str) -> list[dict[str, Any]]:
    """`top` and its descendants, oldest first; raises JobNotFound."""
    tree = find_jobs(db, root=get_job(db, top)["rootExecution"])
    members = {top}
    for candidate in tree:  # oldest first: a parent comes before its children
        if candidate.get("parentJob") in members:
            members.add(candidate["id"])
    return [job for job in tree if job["id"] in members]


@dataclass(frozen=True, slots=True)
class JobHead:
    """A job as the engine's loop first reads it: state, raw document and `dependsOn`; decoded on demand."""

    id: str
    state: str
    doc: str
    depends_on: tuple[str, ...]
    row: sqlite3.Row

    def job(self) -> dict[str, Any]:
        """The whole job, as `find_jobs(..., transitions=False)` gives it."""
        return _row_to_job(self.row, [])


def _rows_in_states(db: Database, columns: str, states: tuple[JobState, ...],
                    ids: Iterable[str] | None) -> list[Any]:
    """`columns` (and `rid`, the rowid) of the jobs in `states`, among `ids` when given, oldest first."""
    sql = f"SELECT rowid AS rid, {columns} FROM jobs WHERE state IN ({', '.join('?' for _ in states)})"
    params = tuple(s.value for s in states)
    if ids is None:
        return list(db.query(f"{sql} ORDER BY created, rowid", params))
    wanted, rows = list(dict.fromkeys(ids)), []
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start:start + _IN_CHUNK]
        rows += db.query(f"{sql} AND id IN ({', '.join('?' for _ in chunk)})", params + tuple(chunk))
    rows.sort(key=lambda row: (row["created"], row["rid"]))
    return rows


def job_heads(db: Database, states: tuple[JobState, ...], ids: Iterable[str] | None = None) -> list[JobHead]:
    """The jobs in `states` (among `ids` when given), oldest first, their documents left undecoded."""
    rows = _rows_in_states(db, "*, json_extract(doc, '$.dependsOn') AS depends", states, ids)
    heads = []
    for row in rows:
        depends = json.loads(row["depends"]) if isinstance(row["depends"], str) else None
        deps = tuple(str(i) for i in depends) if isinstance(depends, list) else ()
        heads.append(JobHead(row["id"], row["state"], row["doc"], deps, row))
    return heads


def changed_jobs(db: Database, after: int, upto: int) -> set[str]:
    """The jobs created, moved or changed by the events `after` < seq <= `upto` (the outbox, in commit order)."""
    rows = db.query("SELECT DISTINCT job FROM events WHERE seq > ? AND seq <= ? AND kind IN "
                    "('job.created', 'job.state', 'job.updated', 'job.output')", (after, upto))
    return {row["job"] for row in rows if row["job"]}


def dependency_states(db: Database, ids: Iterable[str]) -> dict[str, str]:
    """`{id: state}` of the jobs and data objects among `ids` that exist: one light query per table and chunk."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, str] = {}
    jobs = {i for i in wanted if i.startswith(("job-", "analysis-"))}
    for table, chunk_of in (("jobs", [i for i in wanted if i in jobs]), ("objects", [i for i in wanted if i not in jobs])):
        for start in range(0, len(chunk_of), _IN_CHUNK):
            chunk = chunk_of[start:start + _IN_CHUNK]
            rows = db.query(f"SELECT id, state FROM {table} WHERE id IN ({', '.join('?' for _ in chunk)})",
                            tuple(chunk))
            found.update((row["id"], row["state"]) for row in rows)
    return found


def admission_view(db: Database, states: tuple[JobState, ...], ids: Iterable[str] | None = None
                   ) -> list[dict[str, Any]]:
    """The jobs in `states` (among `ids` when given), oldest first, as admission reads them: `id`, `state`,
    `created`, `rank`, `parentJob`, `runnerResources` and the engine's resources record, without decoding the
    documents."""
    columns = (f"id, state, created, json_extract(doc, '$.rank') AS rank, json_extract(doc, '$.parentJob') AS parent, "
               f"json_extract(doc, '$.runnerResources') AS placed, json_extract(doc, '$.{RESOURCES_KEY}') AS resources")
    rows = _rows_in_states(db, columns, states, ids)
    return [{"id": row["id"], "state": row["state"], "created": row["created"], "rank": row["rank"],
             "parentJob": row["parent"], "_order": (row["created"], row["rid"]),
             "runnerResources": json.loads(row["placed"]) if isinstance(row["placed"], str) else None,
             RESOURCES_KEY: json.loads(row["resources"]) if isinstance(row["resources"], str) else None}
            for row in rows]
