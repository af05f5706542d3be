"""The SQLite database file: connection settings, schema migrations and transactions."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runner.errors import RunnerError
from runner.store._disk import disk_full_as_error

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE containers (
        id TEXT PRIMARY KEY, class TEXT NOT NULL, name TEXT NOT NULL,
        created INTEGER NOT NULL, modified INTEGER NOT NULL, doc TEXT NOT NULL
    );
    CREATE TABLE folders (container TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (container, path));
    CREATE TABLE objects (
        id TEXT PRIMARY KEY, class TEXT NOT NULL, container TEXT NOT NULL, folder TEXT NOT NULL,
        name TEXT NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL, modified INTEGER NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX objects_by_folder ON objects (container, folder);
    CREATE TABLE file_parts (
        file TEXT NOT NULL, idx INTEGER NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL,
        blob TEXT NOT NULL, PRIMARY KEY (file, idx)
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY, root TEXT NOT NULL, parent TEXT, state TEXT NOT NULL,
        created INTEGER NOT NULL, modified INTEGER NOT NULL, doc TEXT NOT NULL
    );
    CREATE INDEX jobs_by_root ON jobs (root);
    CREATE INDEX jobs_by_parent ON jobs (parent);
    CREATE TABLE transitions (
        job TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL, set_at INTEGER NOT NULL,
        PRIMARY KEY (job, seq)
    );
    CREATE TABLE tokens (
        token TEXT PRIMARY KEY, kind TEXT NOT NULL, job TEXT, created INTEGER NOT NULL, revoked INTEGER
    );
    CREATE TABLE nonces (
        route TEXT NOT NULL, nonce TEXT NOT NULL, request_hash TEXT NOT NULL, result TEXT NOT NULL,
        PRIMARY KEY (route, nonce)
    );
    """,
    # Data objects may be in several containers (a clone keeps the object's ID): each membership has its own
    # folder, name and per-container metadata (tags, properties, hidden); the object keeps state and content.
    """
    CREATE TABLE memberships (
        container TEXT NOT NULL, object TEXT NOT NULL, folder TEXT NOT NULL, name TEXT NOT NULL,
        added INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (container, object)
    );
    CREATE INDEX memberships_by_folder ON memberships (container, folder);
    CREATE INDEX memberships_by_object ON memberships (object);
    CREATE INDEX memberships_by_name ON memberships (name);
    INSERT INTO memberships (container, object, folder, name, added, doc)
        SELECT container, id, folder, name, created, '{}' FROM objects;
    CREATE TABLE data_objects (
        id TEXT PRIMARY KEY, class TEXT NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL,
        modified INTEGER NOT NULL, doc TEXT NOT NULL
    );
    INSERT INTO data_objects SELECT id, class, state, created, modified, doc FROM objects;
    DROP INDEX objects_by_folder;
    DROP TABLE objects;
    ALTER TABLE data_objects RENAME TO objects;
    """,
    # The event outbox (runner.store.events): AUTOINCREMENT so that a sequence number is never given twice,
    # even after the newest events were pruned.
    """
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, kind TEXT NOT NULL, job TEXT, root TEXT,
        doc TEXT NOT NULL
    );
    CREATE INDEX events_by_root ON events (root, seq);
    CREATE INDEX events_by_job ON events (job, kind);
    CREATE INDEX events_by_time ON events (time);
    """,
    # An executable removed from its last container while unfinished jobs run it keeps its object row and,
    # here, the membership it was last seen in (runner.store.kept), until the last of those jobs ends.
    """
    CREATE TABLE kept (
        object TEXT PRIMARY KEY, container TEXT NOT NULL, folder TEXT NOT NULL, name TEXT NOT NULL,
        added INTEGER NOT NULL, doc TEXT NOT NULL
    );
    """,
    # Apps (runner.store.apps): one row per version; a tag names one version of a name; a project cache is
    # attached to (app name, project) and kept between runs.
    """
    CREATE TABLE apps (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, created INTEGER NOT NULL,
        modified INTEGER NOT NULL, doc TEXT NOT NULL, UNIQUE (name, version)
    );
    CREATE TABLE app_tags (name TEXT NOT NULL, tag TEXT NOT NULL, app TEXT NOT NULL, PRIMARY KEY (name, tag));
    CREATE TABLE app_caches (
        name TEXT NOT NULL, project TEXT NOT NULL, container TEXT NOT NULL, PRIMARY KEY (name, project)
    );
    """,
    # A job's tokens are revoked at each end of a try: without an index, each revocation read every token
    # ever issued (a cost per job that grew with every job the store had run).
    """
    CREATE INDEX tokens_by_job ON tokens (job);
    """,
)


class StoreError(RunnerError):
    """The database file cannot be opened or is not one of ours."""


def now_ms() -> int:
    """The current time in milliseconds since the epoch, as DNAnexus timestamps are."""
    return int(time.time() * 1000)


def dumps(value: Any) -> str:
    """JSON text for a document column."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class Database:
    """One SQLite file in WAL mode; every write goes through `transaction()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        self._lock = threading.RLock()
        # Called with what the transaction that just committed published (`publish_after_commit`).
        self.listeners: list[Callable[[list[Any]], None]] = []
        self._published: list[Any] = []

    def publish_after_commit(self, item: Any) -> None:
        """Hand `item` to the listeners once the open transaction commits (never, if it rolls back)."""
        self._published.append(item)

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(f"{self.path} was written by a newer applet-runner (schema {version})")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        A full disk (SQLITE_FULL, ENOSPC) becomes DiskFull; the transaction is rolled back all the same.
        """
        with self._lock, disk_full_as_error(self.path.parent):
            self._conn.execute("BEGIN IMMEDIATE")
            self._published = []
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._published = []
                # SQLite may already have rolled back (a failed COMMIT on a full disk does).
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            published, self._published = self._published, []
            if published:
                for listener in list(self.listeners):
                    listener(published)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only statement."""
        with self._lock, disk_full_as_error(self.path.parent):
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
