"""Projects and workspaces, their folders, and the data objects in them (files, records, applets).

A data object may be in several containers at once, as on DNAnexus, where cloning keeps the object's ID:
the `objects` table holds what the object is (class, state, content fields) and `memberships` holds where
it is seen, one row per container with that container's folder, name and metadata (tags, properties,
hidden). An object is seen "as in" one container: its `project` and `folder` are that membership's.
"""

from __future__ import annotations

import json
import posixpath
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from runner.errors import NotFound, RunnerError
from runner.spec.ids import CONTAINER_CLASSES, new_id
from runner.store import kept
from runner.store.db import Database, dumps, now_ms

# Metadata kept per container: a clone starts with a copy, then each copy changes on its own.
MEMBERSHIP_FIELDS = ("tags", "properties", "hidden")
RESERVED = ("id", "class", "project", "folder", "name", "state", "created", "modified")
VIEW_SQL = ("SELECT o.id, o.class, o.state, o.created, o.modified, o.doc, m.container, m.folder, m.name, "
            "m.doc AS mdoc FROM memberships m JOIN objects o ON o.id = m.object")


class ObjectNotFound(NotFound):
    """No container or data object has that ID (or the object is not in the container named)."""


class FolderNotFound(NotFound):
    """A folder does not exist and `parents` was not asked for."""


class FolderConflict(RunnerError):
    """A folder operation cannot be done: the target exists, the folder is not empty, or it is the root."""


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
        add_folder(conn, container_id, path, parents=parents)


def add_folder(conn: sqlite3.Connection, container_id: str, path: str, *, parents: bool) -> None:
    """Inside a transaction: create the folder `path` (normalized), with its parents when asked."""
    parent = posixpath.dirname(path)
    exists = conn.execute("SELECT 1 FROM folders WHERE container = ? AND path = ?", (container_id, parent)).fetchone()
    if not exists:
        if not parents:
            raise FolderNotFound(f"the folder {parent} does not exist in {container_id}")
        add_folder(conn, container_id, parent, parents=True)
    conn.execute("INSERT OR IGNORE INTO folders VALUES (?, ?)", (container_id, path))


def _prepare_destination(conn: sqlite3.Connection, container_id: str, path: str, *, parents: bool) -> None:
    """Check that objects can go into `path` of the container (made, with its parents, when `parents`)."""
    if conn.execute("SELECT 1 FROM containers WHERE id = ?", (container_id,)).fetchone() is None:
        raise ObjectNotFound(f"no project or container {container_id}")
    if parents:
        add_folder(conn, container_id, path, parents=True)
    else:
        require_folder(conn, container_id, path)


def require_folder(conn: sqlite3.Connection, container_id: str, path: str) -> None:
    """Inside a transaction: raise FolderNotFound unless the folder exists."""
    if conn.execute("SELECT 1 FROM folders WHERE container = ? AND path = ?", (container_id, path)).fetchone() is None:
        raise FolderNotFound(f"the folder {path} does not exist in {container_id}")


def folder_exists(db: Database, container_id: str, folder: str) -> bool:
    """Whether `folder` exists in the container."""
    return bool(db.query("SELECT 1 FROM folders WHERE container = ? AND path = ?",
                         (container_id, normalize_folder(folder))))


def list_folders(db: Database, container_id: str) -> list[str]:
    """Every folder path of the container, sorted (the root first)."""
    return [r["path"] for r in db.query("SELECT path FROM folders WHERE container = ? ORDER BY path", (container_id,))]


def list_folder(db: Database, container_id: str, folder: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The subfolders and the objects directly in `folder`."""
    path = normalize_folder(folder)
    if not folder_exists(db, container_id, path):
        raise FolderNotFound(f"the folder {path} does not exist in {container_id}")
    sub = [p for p in list_folders(db, container_id) if p != path and posixpath.dirname(p) == path]
    objects = find_objects(db, container=container_id, folder=path)
    return sub, objects


def split_doc(doc: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(object-wide fields, per-container fields)` of a document."""
    shared = {k: v for k, v in doc.items() if k not in MEMBERSHIP_FIELDS and k not in RESERVED}
    own = {k: v for k, v in doc.items() if k in MEMBERSHIP_FIELDS}
    return shared, own


def create_object(
    db: Database, klass: str, container_id: str, *, name: str, folder: str = "/", state: str = "open",
    parents: bool = False, doc: Mapping[str, Any] | None = None, object_id: str | None = None,
) -> dict[str, Any]:
    """Create a data object in a container's folder; returns it."""
    path, at = normalize_folder(folder), now_ms()
    object_id = object_id or new_id(klass)
    shared, own = split_doc(doc or {})
    with db.transaction() as conn:
        _prepare_destination(conn, container_id, path, parents=parents)
        kept.forget(conn, object_id)  # an applet built again while kept for its jobs (its ID is its content)
        conn.execute("INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?)",
                     (object_id, klass, state, at, at, dumps(shared)))
        conn.execute("INSERT INTO memberships VALUES (?, ?, ?, ?, ?, ?)",
                     (container_id, object_id, path, name, at, dumps(own)))
    return get_object(db, object_id, project_hint=container_id)


def row_to_object(row: sqlite3.Row) -> dict[str, Any]:
    """The object of a `VIEW_SQL` row, as seen in that row's container."""
    return {**json.loads(row["doc"]), **json.loads(row["mdoc"]), "id": row["id"], "class": row["class"],
            "project": row["container"], "folder": row["folder"], "name": row["name"], "state": row["state"],
            "created": row["created"], "modified": row["modified"]}


def object_containers(db: Database, object_id: str) -> list[str]:
    """The containers the object is in, the one it was first put in first."""
    rows = db.query("SELECT container FROM memberships WHERE object = ? ORDER BY added, rowid", (object_id,))
    return [r["container"] for r in rows]


def get_object(db: Database, object_id: str, project_hint: str | None = None) -> dict[str, Any]:
    """A data object as seen in `project_hint` when it is there, else in its first container; ObjectNotFound."""
    if project_hint is not None:
        rows = db.query(f"{VIEW_SQL} WHERE m.object = ? AND m.container = ?", (object_id, project_hint))
        if rows:
            return row_to_object(rows[0])
    rows = db.query(f"{VIEW_SQL} WHERE m.object = ? ORDER BY m.added, m.rowid LIMIT 1", (object_id,))
    if not rows:
        raise ObjectNotFound(f"no data object {object_id}")
    return row_to_object(rows[0])


def get_executable(db: Database, object_id: str) -> dict[str, Any]:
    """An executable as its jobs read it: as `get_object`, or as last seen while kept for them."""
    row = kept.kept_row(db, object_id)  # a kept object is in no container: get_object cannot see it
    return row_to_object(row) if row is not None else get_object(db, object_id)


def write_object(conn: sqlite3.Connection, object_id: str, *, state: str | None = None,
                 changes: Mapping[str, Any] | None = None) -> None:
    """Inside a transaction: set the object's state and merge `changes` into its object-wide fields."""
    row = conn.execute("SELECT state, doc FROM objects WHERE id = ?", (object_id,)).fetchone()
    if row is None:
        raise ObjectNotFound(f"no data object {object_id}")
    doc = {**json.loads(row["doc"]), **dict(changes or {})}
    conn.execute("UPDATE objects SET state = ?, modified = ?, doc = ? WHERE id = ?",
                 (state or row["state"], now_ms(), dumps(doc), object_id))


def _write_membership(conn: sqlite3.Connection, object_id: str, container_id: str, *, name: str | None,
                      folder: str | None, changes: Mapping[str, Any]) -> None:
    row = conn.execute("SELECT * FROM memberships WHERE object = ? AND container = ?",
                       (object_id, container_id)).fetchone()
    if row is None:
        raise ObjectNotFound(f"the data object {object_id} is not in {container_id}")
    path = normalize_folder(folder) if folder else row["folder"]
    if path != row["folder"]:
        require_folder(conn, container_id, path)
    doc = {**json.loads(row["doc"]), **dict(changes)}
    conn.execute("UPDATE memberships SET folder = ?, name = ?, doc = ? WHERE object = ? AND container = ?",
                 (path, name or row["name"], dumps(doc), object_id, container_id))


def update_object(db: Database, object_id: str, *, state: str | None = None, name: str | None = None,
                  folder: str | None = None, changes: Mapping[str, Any] | None = None,
                  project: str | None = None) -> dict[str, Any]:
    """Change an object's state, name, folder or other fields.

    Name, folder, tags, properties and hidden change in `project` only, or in every container the object
    is in when no project is given; the other fields belong to the object itself.
    """
    shared, own = split_doc(changes or {})
    with db.transaction() as conn:
        containers = [project] if project else [r["container"] for r in conn.execute(
            "SELECT container FROM memberships WHERE object = ?", (object_id,))]
        write_object(conn, object_id, state=state, changes=shared)
        for container_id in containers:
            _write_membership(conn, object_id, container_id, name=name, folder=folder, changes=own)
    return get_object(db, object_id, project_hint=project)


def find_objects(db: Database, *, container: str | None = None, folder: str | None = None,
                 klass: str | None = None, name: str | None = None, recurse: bool = False,
                 ids: Iterable[str] | None = None, state: str | None = None) -> list[dict[str, Any]]:
    """Data objects matching every filter given, one entry per container they are in, oldest first.

    With `recurse`, objects in the folders below `folder` match too.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("m.container", container), ("o.class", klass), ("m.name", name), ("o.state", state)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if folder is not None and not (recurse and normalize_folder(folder) == "/"):
        clause, subtree = _in_subtree("m.folder", normalize_folder(folder))
        clauses.append(clause if recurse else "m.folder = ?")
        params.extend(subtree if recurse else subtree[:1])
    if ids is not None:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        clauses.append(f"o.id IN ({', '.join('?' for _ in wanted)})")
        params.extend(wanted)
    where = " AND ".join(clauses) or "1"
    rows = db.query(f"{VIEW_SQL} WHERE {where} ORDER BY o.created, o.rowid, m.added, m.rowid", tuple(params))
    return [row_to_object(r) for r in rows]


def clone_membership(conn: sqlite3.Connection, object_id: str, source: str, destination: str, folder: str) -> bool:
    """Inside a transaction: put the object of `source` into `destination`'s `folder` (which must exist).

    Returns False, changing nothing, when it is already in `destination`.
    """
    row = conn.execute("SELECT * FROM memberships WHERE object = ? AND container = ?", (object_id, source)).fetchone()
    if row is None:
        raise ObjectNotFound(f"the data object {object_id} is not in {source}")
    if conn.execute("SELECT 1 FROM memberships WHERE object = ? AND container = ?",
                    (object_id, destination)).fetchone():
        return False
    conn.execute("INSERT INTO memberships VALUES (?, ?, ?, ?, ?, ?)",
                 (destination, object_id, folder, row["name"], now_ms(), row["doc"]))
    return True


def clone_objects(db: Database, ids: Iterable[str], source: str, destination: str, folder: str = "/",
                  parents: bool = False, folders: Iterable[str] = ()) -> list[str]:
    """Put objects of `source` into `destination`'s `folder` too (same IDs); returns those already there.

    Each of `folders` is cloned with everything below it, as a folder of the same name inside `folder`.
    """
    path = normalize_folder(folder)
    exists: list[str] = []
    with db.transaction() as conn:
        _prepare_destination(conn, destination, path, parents=parents)
        for object_id in dict.fromkeys(ids):
            if not clone_membership(conn, object_id, source, destination, path):
                exists.append(object_id)
        for top in dict.fromkeys(normalize_folder(f) for f in folders):
            exists.extend(_clone_folder(conn, source, top, destination, posixpath.join(path, posixpath.basename(top))))
    return exists


def _in_subtree(column: str, path: str) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause (and its parameters) matching `path` and the paths below it."""
    return f"({column} = ? OR substr({column}, 1, ?) = ?)", (path, len(path) + 1, path + "/")


def _clone_folder(conn: sqlite3.Connection, source: str, top: str, destination: str, target: str) -> list[str]:
    if top == "/":
        raise FolderConflict("the root folder cannot be cloned: name the objects and folders in it instead")
    require_folder(conn, source, top)
    clause, params = _in_subtree("path", top)
    for row in conn.execute(f"SELECT path FROM folders WHERE container = ? AND {clause} ORDER BY path",
                            (source, *params)).fetchall():
        add_folder(conn, destination, target + row["path"][len(top):], parents=True)
    clause, params = _in_subtree("folder", top)
    rows = conn.execute(f"SELECT object, folder FROM memberships WHERE container = ? AND {clause} ORDER BY added, rowid",
                        (source, *params)).fetchall()
    return [r["object"] for r in rows
            if not clone_membership(conn, r["object"], source, destination, target + r["folder"][len(top):])]


def move_objects(db: Database, container_id: str, ids: Iterable[str], destination: str) -> None:
    """Move objects of a container into its folder `destination` (which must exist)."""
    path = normalize_folder(destination)
    with db.transaction() as conn:
        require_folder(conn, container_id, path)
        for object_id in dict.fromkeys(ids):
            _write_membership(conn, object_id, container_id, name=None, folder=path, changes={})


def drop_memberships(conn: sqlite3.Connection, container_id: str, ids: Iterable[str]) -> list[str]:
    """Inside a transaction: take objects out of a container; returns those now in no container, deleted
    unless an unfinished job runs one (then kept for it: runner.store.kept)."""
    deleted: list[str] = []
    for object_id in dict.fromkeys(ids):
        membership = conn.execute("SELECT * FROM memberships WHERE object = ? AND container = ?",
                                  (object_id, container_id)).fetchone()
        if membership is None:
            raise ObjectNotFound(f"the data object {object_id} is not in {container_id}")
        conn.execute("DELETE FROM memberships WHERE object = ? AND container = ?", (object_id, container_id))
        if conn.execute("SELECT 1 FROM memberships WHERE object = ?", (object_id,)).fetchone() is None:
            deleted.append(object_id)
            if kept.keep(conn, membership):
                continue
            conn.execute("DELETE FROM objects WHERE id = ?", (object_id,))
            conn.execute("DELETE FROM file_parts WHERE file = ?", (object_id,))
    return deleted


def remove_objects(db: Database, container_id: str, ids: Iterable[str]) -> list[str]:
    """Remove objects from a container (all or none); returns the IDs now in no container at all."""
    with db.transaction() as conn:
        return drop_memberships(conn, container_id, ids)


def _relocate(conn: sqlite3.Connection, container_id: str, old: str, new: str) -> None:
    """Inside a transaction: the folder `old` and everything below it become `new` (which must be free)."""
    if conn.execute("SELECT 1 FROM folders WHERE container = ? AND path = ?", (container_id, new)).fetchone():
        raise FolderConflict(f"a folder {new} already exists in {container_id}")
    for table, column in (("folders", "path"), ("memberships", "folder")):
        clause, params = _in_subtree(column, old)
        conn.execute(f"UPDATE {table} SET {column} = ? || substr({column}, ?) WHERE container = ? AND {clause}",
                     (new, len(old) + 1, container_id, *params))


def rename_folder(db: Database, container_id: str, folder: str, name: str) -> str:
    """Rename a folder (keeping its place); returns its new path."""
    path = normalize_folder(folder)
    if path == "/":
        raise FolderConflict("the root folder cannot be renamed")
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"{name!r} is not a folder name")
    target = posixpath.join(posixpath.dirname(path), name)
    with db.transaction() as conn:
        require_folder(conn, container_id, path)
        if target != path:
            _relocate(conn, container_id, path, target)
    return target


def move_folders(db: Database, container_id: str, folders: Iterable[str], destination: str) -> None:
    """Move folders (with everything below them) into the folder `destination` of the same container."""
    dest = normalize_folder(destination)
    with db.transaction() as conn:
        require_folder(conn, container_id, dest)
        for path in dict.fromkeys(normalize_folder(f) for f in folders):
            require_folder(conn, container_id, path)
            if path == "/" or dest == path or dest.startswith(path + "/"):
                raise FolderConflict(f"the folder {path} cannot be moved into {dest}, which is inside it")
            target = posixpath.join(dest, posixpath.basename(path))
            if target != path:
                _relocate(conn, container_id, path, target)


def remove_folder(db: Database, container_id: str, folder: str, *, recurse: bool = False) -> list[str]:
    """Remove a folder (with `recurse`, everything below it too); returns the IDs now in no container."""
    path = normalize_folder(folder)
    if path == "/":
        raise FolderConflict("the root folder cannot be removed")
    with db.transaction() as conn:
        require_folder(conn, container_id, path)
        clause, params = _in_subtree("folder", path)
        objects = [r["object"] for r in conn.execute(
            f"SELECT object FROM memberships WHERE container = ? AND {clause}", (container_id, *params))]
        clause, params = _in_subtree("path", path)
        subfolders = conn.execute(f"SELECT COUNT(*) FROM folders WHERE container = ? AND {clause}",
                                  (container_id, *params)).fetchone()[0] - 1
        if not recurse and (objects or subfolders):
            raise FolderConflict(f"the folder {path} of {container_id} is not empty: remove it with recurse")
        deleted = drop_memberships(conn, container_id, objects)
        conn.execute(f"DELETE FROM folders WHERE container = ? AND {clause}", (container_id, *params))
    return deleted
