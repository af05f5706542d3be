"""A project's (or workspace container's) own fields changed, the jobs still running in it, and its end.

Destroying a container takes every object out of it; an object in no other container is deleted with
its file parts. The blobs those files used are returned, to be released once the transaction has committed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runner.spec.job_states import TERMINAL_STATES
from runner.store.db import Database, dumps, now_ms
from runner.store.objects import ObjectNotFound, drop_memberships


def update_container(db: Database, container_id: str, *, name: str | None = None,
                     changes: Mapping[str, Any] | None = None) -> None:
    """Set a container's name and merge `changes` into its fields (a None value removes the field)."""
    with db.transaction() as conn:
        row = conn.execute("SELECT name, doc FROM containers WHERE id = ?", (container_id,)).fetchone()
        if row is None:
            raise ObjectNotFound(f"no project or container {container_id}")
        doc = {**json.loads(row["doc"]), **dict(changes or {})}
        doc = {k: v for k, v in doc.items() if v is not None}
        conn.execute("UPDATE containers SET name = ?, modified = ?, doc = ? WHERE id = ?",
                     (name or row["name"], now_ms(), dumps(doc), container_id))


def active_jobs(db: Database, container_id: str) -> list[str]:
    """The IDs of the jobs not yet ended whose project or workspace is the container, oldest first."""
    ended = tuple(state.value for state in TERMINAL_STATES)
    rows = db.query(
        f"SELECT id FROM jobs WHERE state NOT IN ({', '.join('?' for _ in ended)}) "
        "AND (json_extract(doc, '$.project') = ? OR json_extract(doc, '$.workspace') = ?) ORDER BY created, rowid",
        (*ended, container_id, container_id))
    return [r["id"] for r in rows]


def destroy_container(db: Database, container_id: str) -> list[str]:
    """Remove the container, its folders and its memberships; returns the blobs of the files it used."""
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM containers WHERE id = ?", (container_id,)).fetchone() is None:
            raise ObjectNotFound(f"no project or container {container_id}")
        members = [r["object"] for r in conn.execute("SELECT object FROM memberships WHERE container = ?",
                                                     (container_id,))]
        blobs = [r["blob"] for r in conn.execute(
            "SELECT json_extract(o.doc, '$.blob') AS blob FROM memberships m JOIN objects o ON o.id = m.object "
            "WHERE m.container = ? AND o.class = 'file' AND json_extract(o.doc, '$.blob') IS NOT NULL "
            "UNION SELECT p.blob FROM memberships m JOIN file_parts p ON p.file = m.object WHERE m.container = ?",
            (container_id, container_id))]
        drop_memberships(conn, container_id, members)
        conn.execute("DELETE FROM folders WHERE container = ?", (container_id,))
        conn.execute("DELETE FROM containers WHERE id = ?", (container_id,))
    return blobs


def list_projects(db: Database) -> list[dict[str, Any]]:
    """Every project (not the workspace containers), oldest first, as `get_container` shows them."""
    rows = db.query("SELECT * FROM containers WHERE class = 'project' ORDER BY created, rowid")
    return [{**json.loads(r["doc"]), "id": r["id"], "class": r["class"], "name": r["name"], "created": r["created"],
             "modified": r["modified"]} for r in rows]
