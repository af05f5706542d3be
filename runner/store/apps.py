"""Apps: one row per version (`app-<id>`, name, version), the tags that name one version of a name each, and the
project caches attached to (app name, project).

An app's document holds its describe fields (copied from its applet when it was made) and `_runner`, the
engine's own fields. Tags live in `app_tags`, so that moving a tag from one version to another is one row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from runner.errors import NotFound
from runner.spec.ids import new_id
from runner.store.db import Database, dumps, now_ms
from runner.store.objects import create_container, get_container

DEFAULT_TAG = "default"


class AppNotFound(NotFound):
    """No app version has that ID, or no version of that name has that version or tag."""


def _row_to_app(db: Database, row: sqlite3.Row) -> dict[str, Any]:
    tags = [r["tag"] for r in db.query("SELECT tag FROM app_tags WHERE app = ? ORDER BY tag", (row["id"],))]
    return {**json.loads(row["doc"]), "id": row["id"], "class": "app", "name": row["name"],
            "version": row["version"], "created": row["created"], "modified": row["modified"],
            "aliases": [row["version"], *tags]}


def create_app(db: Database, name: str, version: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Store a new app version (its ID fresh); the caller has checked the name and version are free."""
    app_id, at = new_id("app"), now_ms()
    with db.transaction() as conn:
        conn.execute("INSERT INTO apps VALUES (?, ?, ?, ?, ?, ?)", (app_id, name, version, at, at, dumps(dict(doc))))
    return get_app(db, app_id)


def get_app(db: Database, app_id: str) -> dict[str, Any]:
    """The app version `app_id`; AppNotFound."""
    rows = db.query("SELECT * FROM apps WHERE id = ?", (app_id,))
    if not rows:
        raise AppNotFound(f"the app {app_id} does not exist")
    return _row_to_app(db, rows[0])


def find_app(db: Database, name: str, alias: str) -> dict[str, Any]:
    """The version of `name` whose version is `alias`, else the one tagged `alias`; AppNotFound."""
    rows = db.query("SELECT * FROM apps WHERE name = ? AND version = ?", (name, alias))
    if not rows:
        rows = db.query("SELECT a.* FROM app_tags t JOIN apps a ON a.id = t.app WHERE t.name = ? AND t.tag = ?",
                        (name, alias))
    if not rows:
        raise AppNotFound(f"the app app-{name}/{alias} does not exist" if alias != DEFAULT_TAG else
                          f"the app app-{name} does not exist (no version of it is tagged {DEFAULT_TAG!r})")
    return _row_to_app(db, rows[0])


def versions_of(db: Database, name: str | None = None) -> list[dict[str, Any]]:
    """Every version of `name` (of every app when None), oldest first."""
    if name is None:
        rows = db.query("SELECT * FROM apps ORDER BY created, id")
    else:
        rows = db.query("SELECT * FROM apps WHERE name = ? ORDER BY created, id", (name,))
    return [_row_to_app(db, row) for row in rows]


def name_exists(db: Database, name: str) -> bool:
    """Whether any version of `name` was ever created (a name stays claimed after its versions are deleted)."""
    return bool(db.query("SELECT 1 FROM apps WHERE name = ? LIMIT 1", (name,)))


def update_app(db: Database, app_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `changes` into the version's document; its `modified` is now."""
    with db.transaction() as conn:
        row = conn.execute("SELECT doc FROM apps WHERE id = ?", (app_id,)).fetchone()
        if row is None:
            raise AppNotFound(f"the app {app_id} does not exist")
        doc = {**json.loads(row["doc"]), **changes}
        conn.execute("UPDATE apps SET doc = ?, modified = ? WHERE id = ?", (dumps(doc), now_ms(), app_id))
    return get_app(db, app_id)


def add_tags(db: Database, app_id: str, tags: Iterable[str]) -> None:
    """Tag the version with each of `tags`, taking a tag away from the other version of the name that had it."""
    with db.transaction() as conn:
        row = conn.execute("SELECT name FROM apps WHERE id = ?", (app_id,)).fetchone()
        if row is None:
            raise AppNotFound(f"the app {app_id} does not exist")
        for tag in dict.fromkeys(tags):
            conn.execute("INSERT OR REPLACE INTO app_tags VALUES (?, ?, ?)", (row["name"], tag, app_id))
        conn.execute("UPDATE apps SET modified = ? WHERE id = ?", (now_ms(), app_id))


def has_tag(db: Database, name: str, tag: str) -> bool:
    """Whether a version of `name` has `tag`."""
    return bool(db.query("SELECT 1 FROM app_tags WHERE name = ? AND tag = ?", (name, tag)))


def remove_tags(db: Database, name: str, tags: Iterable[str]) -> None:
    """Remove each of `tags` from whichever version of `name` has it."""
    with db.transaction() as conn:
        for tag in dict.fromkeys(tags):
            conn.execute("DELETE FROM app_tags WHERE name = ? AND tag = ?", (name, tag))


def drop_tags_except_default(db: Database, app_id: str) -> None:
    """A deleted version's non-default tags refer to no version any more."""
    with db.transaction() as conn:
        conn.execute("DELETE FROM app_tags WHERE app = ? AND tag != ?", (app_id, DEFAULT_TAG))


def project_cache(db: Database, name: str, project: str) -> str:
    """The cache container of the app `name` in `project`, created on the first run there and kept after; for a
    PROTECTED project, a fresh one each run (the reference: the cache is then not shared)."""
    if get_container(db, project).get("protected"):
        return create_container(db, "container", f"project cache of a run of app-{name} in {project} (protected)",
                                {"_runner": {"projectCacheOf": {"app": name, "project": project, "fresh": True}}})
    rows = db.query("SELECT container FROM app_caches WHERE name = ? AND project = ?", (name, project))
    if rows:
        return str(rows[0]["container"])
    container = create_container(db, "container", f"project cache of app-{name} in {project}",
                                 {"_runner": {"projectCacheOf": {"app": name, "project": project}}})
    with db.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO app_caches VALUES (?, ?, ?)", (name, project, container))
        kept = conn.execute("SELECT container FROM app_caches WHERE name = ? AND project = ?",
                            (name, project)).fetchone()
    return str(kept["container"])
