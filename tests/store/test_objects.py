"""Projects, folders and data objects in a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.store.db import Database
from runner.store.objects import (
    FolderNotFound,
    ObjectNotFound,
    create_container,
    create_object,
    find_objects,
    get_container,
    get_object,
    list_folder,
    new_folder,
    normalize_folder,
    update_object,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "runner.db")
    yield database
    database.close()


def test_project_has_a_root_folder(db: Database) -> None:
    project = create_container(db, "project", "local")
    assert get_container(db, project)["name"] == "local" and project.startswith("project-")
    assert list_folder(db, project, "/") == ([], [])


def test_folders_need_parents_unless_asked(db: Database) -> None:
    project = create_container(db, "project", "p")
    with pytest.raises(FolderNotFound, match="/a does not exist"):
        new_folder(db, project, "/a/b")
    new_folder(db, project, "/a/b", parents=True)
    new_folder(db, project, "/a/c")
    assert list_folder(db, project, "/a")[0] == ["/a/b", "/a/c"]
    assert list_folder(db, project, "/")[0] == ["/a"]


def test_objects_live_in_folders_and_change_state(db: Database) -> None:
    project = create_container(db, "project", "p")
    file = create_object(db, "file", project, name="reads.fq", folder="/data", parents=True, doc={"tags": ["x"]})
    assert (file["state"], file["folder"], file["tags"]) == ("open", "/data", ["x"])
    closed = update_object(db, file["id"], state="closed", changes={"size": 3})
    assert (closed["state"], closed["size"], closed["tags"]) == ("closed", 3, ["x"])
    assert [o["id"] for o in list_folder(db, project, "/data")[1]] == [file["id"]]
    assert [o["id"] for o in find_objects(db, klass="file", name="reads.fq")] == [file["id"]]


def test_missing_things(db: Database) -> None:
    project = create_container(db, "project", "p")
    with pytest.raises(ObjectNotFound):
        get_object(db, "file-nope")
    with pytest.raises(ObjectNotFound):
        create_object(db, "file", "project-nope", name="x")
    with pytest.raises(FolderNotFound):
        create_object(db, "file", project, name="x", folder="/missing")
    assert find_objects(db, container=project) == []


def test_folder_paths_are_normalized() -> None:
    assert normalize_folder("/a/b/") == "/a/b" and normalize_folder("/") == "/" and normalize_folder("/a//b") == "/a/b"
    with pytest.raises(ValueError, match="absolute"):
        normalize_folder("relative")
