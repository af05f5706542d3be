"""File contents in a real store: content-addressed blobs, parts, closing into one blob, releasing blobs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.store.db import Database
from runner.store.files import (
    BlobWriter,
    FileStateError,
    add_part,
    begin_close,
    blob_path,
    content_path,
    file_blobs,
    finish_close,
    list_parts,
    release_blobs,
    reopen_interrupted,
)
from runner.store.objects import create_container, create_object, get_object, remove_objects


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "runner.db")
    yield database
    database.close()


def _writer(home: Path, data: bytes) -> BlobWriter:
    writer = BlobWriter(home)
    writer.write(data)
    return writer


def _new_file(db: Database) -> tuple[str, str]:
    project = create_container(db, "project", "p")
    return project, create_object(db, "file", project, name="f")["id"]


def test_parts_close_into_one_blob_in_index_order(db: Database, tmp_path: Path) -> None:
    _, file_id = _new_file(db)
    add_part(db, tmp_path, file_id, 2, _writer(tmp_path, b"world"))
    add_part(db, tmp_path, file_id, 1, _writer(tmp_path, b"hello "))
    assert [(p.index, p.size, p.md5) for p in list_parts(db, file_id)] == [
        (1, 6, hashlib.md5(b"hello ").hexdigest()), (2, 5, hashlib.md5(b"world").hexdigest())]
    assert begin_close(db, file_id) is True and begin_close(db, file_id) is False
    with pytest.raises(FileStateError, match="closing"):
        add_part(db, tmp_path, file_id, 3, _writer(tmp_path, b"late"))
    finish_close(db, tmp_path, file_id)
    file = get_object(db, file_id)
    assert (file["state"], file["size"], file["parts"]["2"]["size"]) == ("closed", 11, 5)
    assert content_path(tmp_path, file).read_bytes() == b"hello world"
    assert list_parts(db, file_id) == []
    assert not blob_path(tmp_path, hashlib.sha256(b"world").hexdigest()).exists()
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
    with pytest.raises(FileStateError, match="closed"):
        begin_close(db, file_id)


def test_a_replaced_part_releases_its_blob_and_equal_blobs_are_shared(db: Database, tmp_path: Path) -> None:
    project, file_id = _new_file(db)
    other = create_object(db, "file", project, name="g")["id"]
    add_part(db, tmp_path, file_id, 1, _writer(tmp_path, b"draft"))
    add_part(db, tmp_path, other, 1, _writer(tmp_path, b"final"))
    add_part(db, tmp_path, file_id, 1, _writer(tmp_path, b"final"))
    assert not blob_path(tmp_path, hashlib.sha256(b"draft").hexdigest()).exists()
    assert file_blobs(db, [file_id, other]) == [hashlib.sha256(b"final").hexdigest()] * 2
    assert remove_objects(db, project, [file_id]) == [file_id]
    assert release_blobs(db, tmp_path, [hashlib.sha256(b"final").hexdigest()]) == []
    remove_objects(db, project, [other])
    assert release_blobs(db, tmp_path, [hashlib.sha256(b"final").hexdigest()]) == [
        hashlib.sha256(b"final").hexdigest()]


def test_an_interrupted_close_reopens(db: Database, tmp_path: Path) -> None:
    _, file_id = _new_file(db)
    begin_close(db, file_id)
    assert reopen_interrupted(db) == [file_id]
    assert get_object(db, file_id)["state"] == "open"
    begin_close(db, file_id)
    finish_close(db, tmp_path, file_id)
    file = get_object(db, file_id)
    assert (file["state"], file["size"], file["parts"]) == ("closed", 0, {})
    assert content_path(tmp_path, file).read_bytes() == b""


def test_a_discarded_writer_leaves_nothing(tmp_path: Path) -> None:
    writer = _writer(tmp_path, b"abandoned")
    assert writer.blob().size == 9
    writer.discard()
    writer.discard()
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
