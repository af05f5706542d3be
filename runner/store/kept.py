"""Executables kept for the jobs that run them: removed from every container, still readable to those jobs.

On DNAnexus a running job holds its executable: `dx build -f` (which removes the old applet by ID) or
`dx rm` while a job of the applet runs leaves that job, and the subjobs it makes with /job/new, working.
Here an object taken out of its last container while an unfinished job names it as its `applet` keeps its
`objects` row, and the membership it was last seen in moves to the `kept` table: no project lists it and no
search finds it, but the engine, and describe by a job of a tree that runs it, still read it (as seen in
that last membership). When the last such job ends (`collect`, in the transaction of that job's ending) the
object is deleted; `runner fsck` reports and collects one an interrupted engine left behind.
"""

from __future__ import annotations

import sqlite3

from runner.store.db import Database

# A row as objects.VIEW_SQL's, read from the kept membership.
KEPT_SQL = ("SELECT o.id, o.class, o.state, o.created, o.modified, o.doc, k.container, k.folder, k.name, "
            "k.doc AS mdoc FROM kept k JOIN objects o ON o.id = k.object")
_UNFINISHED = ("SELECT 1 FROM jobs WHERE state NOT IN ('done', 'failed', 'terminated') "
               "AND json_extract(doc, '$.applet') = ?")


def needed(conn: sqlite3.Connection | Database, object_id: str) -> bool:
    """Whether an unfinished job runs `object_id` (names it as its executable)."""
    sql, params = f"{_UNFINISHED} LIMIT 1", (object_id,)
    if isinstance(conn, Database):
        return bool(conn.query(sql, params))
    return conn.execute(sql, params).fetchone() is not None


def keep(conn: sqlite3.Connection, membership: sqlite3.Row) -> bool:
    """Inside a transaction: keep the object of its last `membership` (just deleted) when a job needs it."""
    object_id = membership["object"]
    if not needed(conn, object_id):
        return False
    conn.execute("INSERT OR REPLACE INTO kept VALUES (?, ?, ?, ?, ?, ?)",
                 (object_id, membership["container"], membership["folder"], membership["name"],
                  membership["added"], membership["doc"]))
    return True


def is_kept(conn: sqlite3.Connection | Database, object_id: str) -> bool:
    """Whether `object_id` is kept for its jobs (in no container)."""
    sql, params = "SELECT 1 FROM kept WHERE object = ?", (object_id,)
    if isinstance(conn, Database):
        return bool(conn.query(sql, params))
    return conn.execute(sql, params).fetchone() is not None


def kept_row(db: Database, object_id: str) -> sqlite3.Row | None:
    """The `KEPT_SQL` row of a kept object, or None."""
    rows = db.query(f"{KEPT_SQL} WHERE k.object = ?", (object_id,))
    return rows[0] if rows else None


def runs_in_tree(db: Database, object_id: str, root: str) -> bool:
    """Whether a job of the tree `root` runs `object_id`."""
    return bool(db.query("SELECT 1 FROM jobs WHERE root = ? AND json_extract(doc, '$.applet') = ? LIMIT 1",
                         (root, object_id)))


def forget(conn: sqlite3.Connection, object_id: str) -> None:
    """Inside a transaction: delete a kept object (row, kept membership, parts) whatever needs it."""
    if conn.execute("DELETE FROM kept WHERE object = ?", (object_id,)).rowcount:
        conn.execute("DELETE FROM objects WHERE id = ?", (object_id,))
        conn.execute("DELETE FROM file_parts WHERE file = ?", (object_id,))


def collect(conn: sqlite3.Connection, object_id: object) -> bool:
    """Inside a transaction: delete the kept object `object_id` once no unfinished job needs it."""
    if not isinstance(object_id, str) or not is_kept(conn, object_id) or needed(conn, object_id):
        return False
    forget(conn, object_id)
    return True


def unneeded(db: Database) -> list[str]:
    """The kept objects no unfinished job needs any more (left by an engine stopped mid-way)."""
    return [r["object"] for r in db.query("SELECT object FROM kept ORDER BY added, rowid")
            if not needed(db, r["object"])]


def dangling(db: Database) -> list[tuple[str, str]]:
    """`(container, object)` of the kept memberships whose object no longer exists."""
    return [(r["container"], r["object"]) for r in db.query(
        "SELECT k.container, k.object FROM kept k LEFT JOIN objects o ON o.id = k.object WHERE o.id IS NULL")]
