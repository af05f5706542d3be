"""Projects and workspaces, their folders, and the data objects in them (files, records, applets)."""

from __future__ import annotations

import json
import posixpath
import sqlite3
from collections.abc import Mapping
from typing import Any

from runner.errors import RunnerError
from runner.spec.ids import new_id
from runner.store.db import Database, dumps, now_ms

CONTAINER_CLASSES = ("project", "container")


class ObjectNotFound(RunnerError):
    """No container or data object has that ID."""


class FolderNotFound(RunnerError):
    """A folder does not exist and `parents` was not asked for."""


def normalize_folder(folder: str) -> str:
    """An absolute folder path without a trailing slash (`/` for the root)."""
    if not folder.startswith("/"):
        raise ValueError(f"folder {folder!r} must be an absolute path starting with '/'")
    path = posixpath.normpath(folder)
    return "/" if path in ("/", "//") else path


def create_container(db: Database, klass: str, name: str, doc: Mapping[str, Any] | None = None) -> str:
    """Create a project or a workspace container, with its root folder; returns its ID."""
    if klass not in CONTAINER_CLASSES:
        raise ValueError(f"class must be one of {CONTAINER_CLASSES}")
    container_id, at = new_id(klass), now_ms()
    with db.transaction() as conn:
        conn.execute("INSERT INTO containers VALUES (?, ?, ?, ?, ?, ?)",
                     (container_id, klass, name, at, at, dumps(dict(doc or {}))))
        conn.execute("INSERT INTO folders VALUES (?, '/')", (container_id,))
    return container_id


def get_container(db: Database, container_id: str) -> dict[str, Any]:
    """A container's fields; raises ObjectNotFound."""
    rows = db.query("SELECT * FROM containers WHERE id = ?", (container_id,))
    if not rows:
        raise ObjectNotFound(f"no project or container {container_id}")
    row = rows[0]
    return {**json.loads(row["doc"]), "id": row["id"], "class": row["class"], "name": row["name"],
            "created": row["created"], "modified": row["modified"]}


def new_folder(db: Database, container_id: str, folder: str, *, parents: bool = False) -> None:
    """Create a folder (and, with `parents`, the folders above it)."""
    path = normalize_folder(folder)
    get_container(db, container_id)
    with db.transaction() as conn:
        _add_folder(conn, container_id, path, parents=parents)


def _add_folder(conn: sqlite3.Connection, container_id: str, path: str, *, parents: bool) -> None:
    parent = posixpath.dirname(path)
    exists = conn.execute("SELECT 1 FROM folders WHERE container = ? AND path = ?", (container_id, parent)).fetchone()
    if not exists:
        if not parents:
            raise FolderNotFound(f"the folder {parent} does not exist in {container_id}")
        _add_folder(conn, container_id, parent, parents=True)
    conn.execute("INSERT OR IGNORE INTO folders VALUES (?, ?)", (container_id, path))


def folder_exists(db: Database, container_id: str, folder: str) -> bool:
    """Whether `folder` exists in the container."""
    return bool(db.query("SELECT 1 FROM folders WHERE container = ? AND path = ?",
                         (container_id, normalize_folder(folder))))


def list_folder(db: Database, container_id: str, folder: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The subfolders and the objects directly in `folder`."""
    path = normalize_folder(folder)
    if not folder_exists(db, container_id, path):
        raise FolderNotFound(f"the folder {path} does not exist in {container_id}")
    sub = [r["path"] for r in db.query("SELECT path FROM folders WHERE container = ? AND path != ? ORDER BY path",
                                        (container_id, path)) if posixpath.dirname(r["path"]) == path]
    objects = find_objects(db, container=container_id, folder=path)
    return sub, objects


def create_object(
    db: Database, klass: str, container_id: str, *, name: str, folder: str = "/", state: str = "open",
    parents: bool = False, doc: Mapping[str, Any] | None = None, object_id: str | None = None,
) -> dict[str, Any]:
    """Create a data object in a container's folder; returns it."""
    path, at = normalize_folder(folder), now_ms()
    object_id = object_id or new_id(klass)
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM containers WHERE id = ?", (container_id,)).fetchone() is None:
            raise ObjectNotFound(f"no project or container {container_id}")
        if parents:
            _add_folder(conn, container_id, path, parents=True)
        else:
            _require_folder(conn, container_id, path)
        conn.execute("INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (object_id, klass, container_id, path, name, state, at, at, dumps(dict(doc or {}))))
    return get_object(db, object_id)


def _require_folder(conn: sqlite3.Connection, container_id: str, path: str) -> None:
    if conn.execute("SELECT 1 FROM folders WHERE container = ? AND path = ?", (container_id, path)).fetchone() is None:
        raise FolderNotFound(f"the folder {path} does not exist in {container_id}")


def _row_to_object(row: sqlite3.Row) -> dict[str, Any]:
    return {**json.loads(row["doc"]), "id": row["id"], "class": row["class"], "project": row["container"],
            "folder": row["folder"], "name": row["name"], "state": row["state"], "created": row["created"],
            "modified": row["modified"]}


def get_object(db: Database, object_id: str) -> dict[str, Any]:
    """A data object's fields; raises ObjectNotFound."""
    rows = db.query("SELECT * FROM objects WHERE id = ?", (object_id,))
    if not rows:
        raise ObjectNotFound(f"no data object {object_id}")
    return _row_to_object(rows[0])


def update_object(db: Database, object_id: str, *, state: str | None = None, name: str | None = None,
                  folder: str | None = None, changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Change an object's state, name, folder or other fields."""
    current = get_object(db, object_id)
    doc = {k: v for k, v in current.items()
           if k not in ("id", "class", "project", "folder", "name", "state", "created", "modified")}
    doc.update(changes or {})
    with db.transaction() as conn:
        conn.execute("UPDATE objects SET state = ?, name = ?, folder = ?, modified = ?, doc = ? WHERE id = ?",
                     (state or current["state"], name or current["name"], normalize_folder(folder or current["folder"]),
                      now_ms(), dumps(doc), object_id))
    return get_object(db, object_id)


def find_objects(db: Database, *, container: str | None = None, folder: str | None = None,
                 klass: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    """Data objects matching every filter given, oldest first."""
    filters = {"container": container, "folder": normalize_folder(folder) if folder else None, "class": klass,
               "name": name}
    given = {k: v for k, v in filters.items() if v is not None}
    where = " AND ".join(f"{k} = ?" for k in given) or "1"
    rows = db.query(f"SELECT * FROM objects WHERE {where} ORDER BY created, rowid", tuple(given.values()))
    return [_row_to_object(r) for r in rows]
