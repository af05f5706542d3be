"""File contents: parts uploaded into content-addressed blobs, and closing a file into one blob.

Blobs live at `home/blobs/<sha256[:2]>/<sha256>`; identical content is stored once. A blob is written to
a temporary file and renamed into place inside the same database transaction that records who uses it,
and a blob is deleted only inside a transaction that finds nobody using it, so a blob is never removed
under an upload of the same bytes. Closing concatenates the parts, in index order, into one blob, so a
download (with or without a byte range) is a plain file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import stat
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import RunnerError
from runner.store._disk import disk_full_as_error
from runner.store.db import Database
from runner.store.objects import ObjectNotFound, write_object

BLOBS = "blobs"
SCRATCH_PREFIX = "part-"
COPY_CHUNK = 1 << 20

log = logging.getLogger(__name__)


class FileStateError(RunnerError):
    """The file is not in a state that allows the operation (a part for a closed file, closing twice)."""


@dataclass(frozen=True, slots=True)
class Blob:
    """Content stored once: its SHA-256 (its name), MD5 and size in bytes."""

    sha256: str
    md5: str
    size: int


@dataclass(frozen=True, slots=True)
class Part:
    """One uploaded part of an open file."""

    index: int
    size: int
    md5: str
    blob: str


def blob_path(home: Path, sha256: str) -> Path:
    """Where the blob with this SHA-256 lives."""
    return home / BLOBS / sha256[:2] / sha256


class BlobWriter:
    """Bytes written to a temporary file, hashed on the way; `commit()` puts them in place as a blob.

    The temporary file under `blobs/tmp/` is flock()ed while it is written, so a sweep of leftovers (after a
    crash, or a PUT cut mid-body) can tell it from one in flight. A full disk raises DiskFull, and the
    temporary file is removed by `discard()` even then.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        scratch = scratch_dir(home)
        with disk_full_as_error(home):
            scratch.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=scratch, prefix=SCRATCH_PREFIX)
        fcntl.flock(handle, fcntl.LOCK_EX)
        self._file = os.fdopen(handle, "wb")
        self._path = Path(name)
        self._sha256, self._md5, self._size = hashlib.sha256(), hashlib.md5(), 0
        self._done = False

    def write(self, data: bytes) -> None:
        """Append bytes."""
        with disk_full_as_error(self.home):
            self._file.write(data)
        self._sha256.update(data)
        self._md5.update(data)
        self._size += len(data)

    def blob(self) -> Blob:
        """What has been written so far, as a blob description."""
        return Blob(self._sha256.hexdigest(), self._md5.hexdigest(), self._size)

    def commit(self) -> Blob:
        """Move the bytes into place (dropping them when the same blob exists); call inside a transaction."""
        blob = self.blob()
        with disk_full_as_error(self.home):
            self._file.close()
            target = blob_path(self.home, blob.sha256)
            if target.exists():
                self._path.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._path, target)
        self._done = True
        return blob

    def discard(self) -> None:
        """Throw the bytes away unless committed (safe to call more than once, and on a full disk)."""
        if not self._done:
            self._done = True
            try:
                self._file.close()
            except OSError:
                pass  # the buffered rest could not be written: it is being thrown away anyway
            finally:
                self._path.unlink(missing_ok=True)


def scratch_dir(home: Path) -> Path:
    """Where blobs are written before they are put in place."""
    return home / BLOBS / "tmp"


def scratch_leftovers(home: Path, min_age_s: float = 0.0) -> list[Path]:
    """Files under `blobs/tmp/` no writer holds (and not changed for `min_age_s`): crash or cut-PUT leftovers.

    Anything there that is not a regular file (a link, a folder) is a leftover too.
    """
    found: list[Path] = []
    try:
        entries = sorted(scratch_dir(home).iterdir())
    except FileNotFoundError:
        return found
    cutoff = time.time() - min_age_s
    for path in entries:
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue  # committed or discarded since it was listed
        if stat.S_ISREG(info.st_mode) and (info.st_mtime > cutoff or _held(path)):
            continue
        found.append(path)
    return found


def _held(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return True  # committed or discarded since it was listed: not a leftover
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def remove_scratch(paths: Iterable[Path]) -> None:
    """Delete scratch leftovers (a folder with what is in it, a link itself and not what it points to)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _file_state(conn: sqlite3.Connection, file_id: str) -> str:
    row = conn.execute("SELECT state FROM objects WHERE id = ? AND class = 'file'", (file_id,)).fetchone()
    if row is None:
        raise ObjectNotFound(f"no file {file_id}")
    return str(row["state"])


def add_part(db: Database, home: Path, file_id: str, index: int, writer: BlobWriter) -> Blob:
    """Record the bytes of `writer` as part `index` of an open file (replacing an earlier upload of it).

    The writer is used up either way: committed, or discarded when the part cannot be added.
    """
    try:
        with db.transaction() as conn:
            state = _file_state(conn, file_id)
            if state != "open":
                raise FileStateError(f"{file_id} is {state}: parts can be uploaded only while it is open")
            previous = conn.execute("SELECT blob FROM file_parts WHERE file = ? AND idx = ?",
                                    (file_id, index)).fetchone()
            blob = writer.commit()
            conn.execute("INSERT OR REPLACE INTO file_parts (file, idx, size, md5, blob) VALUES (?, ?, ?, ?, ?)",
                         (file_id, index, blob.size, blob.md5, blob.sha256))
            write_object(conn, file_id)  # its `modified`: the upload's last activity (runner.store.uploads)
    finally:
        writer.discard()
    if previous is not None and previous["blob"] != blob.sha256:
        release_blobs(db, home, [previous["blob"]])
    return blob


def list_parts(db: Database, file_id: str) -> list[Part]:
    """The parts uploaded so far to an open file, in index order."""
    rows = db.query("SELECT idx, size, md5, blob FROM file_parts WHERE file = ? ORDER BY idx", (file_id,))
    return [Part(r["idx"], r["size"], r["md5"], r["blob"]) for r in rows]


def begin_close(db: Database, file_id: str) -> bool:
    """Move an open file to `closing`; False when it is closing already; FileStateError when closed."""
    with db.transaction() as conn:
        state = _file_state(conn, file_id)
        if state == "closing":
            return False
        if state != "open":
            raise FileStateError(f"{file_id} is {state}: only an open file can be closed")
        write_object(conn, file_id, state="closing")
    return True


def finish_close(db: Database, home: Path, file_id: str) -> None:
    """Concatenate a closing file's parts into one blob and mark it closed (back to open if that fails).

    Slow for big files: run it in a worker thread.
    """
    parts = list_parts(db, file_id)
    # One part already is the whole content: no copy.
    writer = None if len(parts) == 1 else BlobWriter(home)
    try:
        if writer is not None:
            _concatenate(home, parts, writer)
        with db.transaction() as conn:
            blob = writer.commit() if writer is not None else Blob(parts[0].blob, parts[0].md5, parts[0].size)
            described = {str(p.index): {"size": p.size, "md5": p.md5} for p in parts}
            write_object(conn, file_id, state="closed", changes={"size": blob.size, "blob": blob.sha256,
                                                                 "md5": blob.md5, "parts": described})
            conn.execute("DELETE FROM file_parts WHERE file = ?", (file_id,))
    except BaseException:
        if writer is not None:
            writer.discard()
        _reopen_after_failed_close(db, file_id)
        raise
    release_blobs(db, home, [p.blob for p in parts])


def _reopen_after_failed_close(db: Database, file_id: str) -> None:
    try:
        with db.transaction() as conn:
            write_object(conn, file_id, state="open")
    except (RunnerError, sqlite3.Error):
        # The close's own failure is the one to report; a restart reopens files left closing.
        log.exception("%s could not be put back to open after its close failed", file_id)


def _concatenate(home: Path, parts: list[Part], writer: BlobWriter) -> None:
    for part in parts:
        with blob_path(home, part.blob).open("rb") as source:
            while chunk := source.read(COPY_CHUNK):
                writer.write(chunk)


def reopen_interrupted(db: Database) -> list[str]:
    """Files left `closing` by an engine that stopped mid-close go back to `open`; returns their IDs.

    Their `modified` is kept: reopening is not activity of their uploader (see runner.store.uploads).
    """
    rows = db.query("SELECT id FROM objects WHERE class = 'file' AND state = 'closing'")
    with db.transaction() as conn:
        for row in rows:
            conn.execute("UPDATE objects SET state = 'open' WHERE id = ? AND state = 'closing'", (row["id"],))
    return [r["id"] for r in rows]


def file_blobs(db: Database, file_ids: Iterable[str]) -> list[str]:
    """The blobs files use: a closed file's content, an open file's parts."""
    found: list[str] = []
    for file_id in dict.fromkeys(file_ids):
        rows = db.query("SELECT doc FROM objects WHERE id = ?", (file_id,))
        if rows and json.loads(rows[0]["doc"]).get("blob"):
            found.append(json.loads(rows[0]["doc"])["blob"])
        found.extend(r["blob"] for r in db.query("SELECT blob FROM file_parts WHERE file = ?", (file_id,)))
    return found


def drop_files(conn: sqlite3.Connection, file_ids: Iterable[str]) -> list[str]:
    """Inside a transaction: delete files from every container, with their parts; the blobs they used.

    Pass the blobs to `release_blobs` once the transaction has committed.
    """
    used: list[str] = []
    for file_id in dict.fromkeys(file_ids):
        row = conn.execute("SELECT doc FROM objects WHERE id = ? AND class = 'file'", (file_id,)).fetchone()
        if row is None:
            continue
        content = json.loads(row["doc"]).get("blob")
        if isinstance(content, str):
            used.append(content)
        used.extend(r["blob"] for r in conn.execute("SELECT blob FROM file_parts WHERE file = ?", (file_id,)))
        conn.execute("DELETE FROM memberships WHERE object = ?", (file_id,))
        conn.execute("DELETE FROM file_parts WHERE file = ?", (file_id,))
        conn.execute("DELETE FROM objects WHERE id = ?", (file_id,))
    return used


def release_blobs(db: Database, home: Path, shas: Iterable[str]) -> list[str]:
    """Delete those of the blobs that no file part and no closed file uses any more; returns them."""
    deleted: list[str] = []
    with db.transaction() as conn:
        for sha in dict.fromkeys(shas):
            if _blob_in_use(conn, sha):
                continue
            blob_path(home, sha).unlink(missing_ok=True)
            deleted.append(sha)
    return deleted


def _blob_in_use(conn: sqlite3.Connection, sha: str) -> bool:
    if conn.execute("SELECT 1 FROM file_parts WHERE blob = ? LIMIT 1", (sha,)).fetchone():
        return True
    row = conn.execute("SELECT 1 FROM objects WHERE class = 'file' AND json_extract(doc, '$.blob') = ? LIMIT 1",
                       (sha,)).fetchone()
    return row is not None


def content_path(home: Path, file: dict[str, Any]) -> Path:
    """The blob holding a closed file's content."""
    blob = file.get("blob")
    if not isinstance(blob, str):
        raise FileStateError(f"{file.get('id')} has no content: it is {file.get('state')}")
    return blob_path(home, blob)
