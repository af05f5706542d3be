"""Projects, folders and data objects in a real SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.store.db import MIGRATIONS, Database
from runner.store.objects import (
    FolderConflict,
    FolderNotFound,
    ObjectNotFound,
    clone_objects,
    create_container,
    create_object,
    find_objects,
    get_container,
    get_object,
    list_folder,
    list_folders,
    move_folders,
    move_objects,
    new_folder,
    normalize_folder,
    object_containers,
    remove_folder,
    remove_objects,
    rename_folder,
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


def test_a_clone_is_the_same_object_in_two_containers(db: Database) -> None:
    a, b = create_container(db, "project", "a"), create_container(db, "container", "b")
    obj = create_object(db, "record", a, name="r", folder="/x", parents=True, state="closed", doc={"tags": ["t"]})
    assert clone_objects(db, [obj["id"]], a, b, "/in", parents=True) == []
    assert clone_objects(db, [obj["id"]], a, b) == [obj["id"]]
    assert object_containers(db, obj["id"]) == [a, b]
    seen = get_object(db, obj["id"], project_hint=b)
    assert (seen["project"], seen["folder"], seen["name"], seen["tags"]) == (b, "/in", "r", ["t"])
    assert get_object(db, obj["id"], project_hint="container-elsewhere")["project"] == a
    update_object(db, obj["id"], changes={"tags": ["b only"]}, name="renamed", project=b)
    assert get_object(db, obj["id"])["tags"] == ["t"] and get_object(db, obj["id"])["name"] == "r"
    assert [o["project"] for o in find_objects(db, klass="record")] == [a, b]
    assert [o["id"] for o in list_folder(db, b, "/in")[1]] == [obj["id"]]
    assert remove_objects(db, a, [obj["id"]]) == []
    assert get_object(db, obj["id"])["project"] == b
    assert remove_objects(db, b, [obj["id"]]) == [obj["id"]]
    with pytest.raises(ObjectNotFound):
        get_object(db, obj["id"])


def test_folders_move_rename_and_remove_with_their_objects(db: Database) -> None:
    p = create_container(db, "project", "p")
    inner = create_object(db, "record", p, name="i", folder="/a/b/c", parents=True)
    new_folder(db, p, "/dest")
    move_folders(db, p, ["/a/b"], "/dest")
    assert get_object(db, inner["id"])["folder"] == "/dest/b/c"
    assert list_folders(db, p) == ["/", "/a", "/dest", "/dest/b", "/dest/b/c"]
    with pytest.raises(FolderConflict, match="inside it"):
        move_folders(db, p, ["/dest"], "/dest/b")
    assert rename_folder(db, p, "/dest/b", "bee") == "/dest/bee"
    assert get_object(db, inner["id"])["folder"] == "/dest/bee/c"
    with pytest.raises(FolderConflict, match="already exists"):
        rename_folder(db, p, "/dest", "a")
    move_objects(db, p, [inner["id"]], "/a")
    assert find_objects(db, container=p, folder="/a", recurse=True)[0]["folder"] == "/a"
    with pytest.raises(FolderConflict, match="not empty"):
        remove_folder(db, p, "/a")
    assert remove_folder(db, p, "/a", recurse=True) == [inner["id"]]
    assert remove_folder(db, p, "/dest", recurse=True) == []
    assert list_folders(db, p) == ["/"]


def test_clone_copies_folder_trees(db: Database) -> None:
    a, b = create_container(db, "project", "a"), create_container(db, "project", "b")
    deep = create_object(db, "record", a, name="d", folder="/run/x/y", parents=True, state="closed")
    create_object(db, "record", a, name="outside", folder="/runner", parents=True, state="closed")
    clone_objects(db, [], a, b, "/copy", parents=True, folders=["/run"])
    assert list_folders(db, b) == ["/", "/copy", "/copy/run", "/copy/run/x", "/copy/run/x/y"]
    assert [o["id"] for o in find_objects(db, container=b)] == [deep["id"]]
    assert get_object(db, deep["id"], project_hint=b)["folder"] == "/copy/run/x/y"


def test_a_version_1_store_gains_memberships(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(f"{MIGRATIONS[0]}\nPRAGMA user_version=1;")
    conn.execute("INSERT INTO containers VALUES ('project-1', 'project', 'p', 1, 1, '{}')")
    conn.execute("INSERT INTO folders VALUES ('project-1', '/'), ('project-1', '/f')")
    conn.execute("INSERT INTO objects VALUES ('file-1', 'file', 'project-1', '/f', 'n', 'closed', 1, 2, ?)",
                 ('{"size": 3, "tags": ["old"]}',))
    conn.commit()
    conn.close()
    database = Database(path)
    found = get_object(database, "file-1")
    assert (found["project"], found["folder"], found["name"], found["size"], found["tags"]) == (
        "project-1", "/f", "n", 3, ["old"])
    database.close()
