"""dx-style paths: parsing, and resolving names against (fake) engine answers."""

from __future__ import annotations

from typing import Any

import pytest

from runner.cli._paths import DxPath, Match, find_objects, folder_exists, parse_path, resolve_file
from runner.errors import ResourceNotFound, UsageError
from tests.cli._fake_client import PROJECT, FakeClient

OTHER = "project-" + "Q" * 24
FILE = "file-" + "F" * 24
FILE2 = "file-" + "G" * 24
APPLET = "applet-" + "A" * 24


@pytest.mark.parametrize(("text", "expected"), [
    (FILE, DxPath(FILE, None, object_id=FILE)),
    (f"{OTHER}:{FILE}", DxPath(f"{OTHER}:{FILE}", OTHER, object_id=FILE)),
    (f"{OTHER}:", DxPath(f"{OTHER}:", OTHER)),
    (OTHER, DxPath(OTHER, OTHER)),
    (f"{OTHER}:/", DxPath(f"{OTHER}:/", OTHER)),
    (f"{OTHER}:/a/b.txt", DxPath(f"{OTHER}:/a/b.txt", OTHER, folder="/a", name="b.txt")),
    (f"{OTHER}:/a/b/", DxPath(f"{OTHER}:/a/b/", OTHER, folder="/a/b")),
    ("/a/b.txt", DxPath("/a/b.txt", PROJECT, folder="/a", name="b.txt")),
    ("b.txt", DxPath("b.txt", PROJECT, folder="/", name="b.txt")),
    ("a/b.txt", DxPath("a/b.txt", PROJECT, folder="/a", name="b.txt")),
    ("a/", DxPath("a/", PROJECT, folder="/a")),
    ("/", DxPath("/", PROJECT)),
    ("/a/./c/../b", DxPath("/a/./c/../b", PROJECT, folder="/a", name="b")),
    ("/a/..", DxPath("/a/..", PROJECT)),
    ("with space.txt", DxPath("with space.txt", PROJECT, name="with space.txt")),
])
def test_parse_path(text: str, expected: DxPath) -> None:
    assert parse_path(text, PROJECT) == expected


def test_parsed_path_properties() -> None:
    assert parse_path("a/", PROJECT).is_folder
    assert not parse_path("a", PROJECT).is_folder
    assert not parse_path(FILE, PROJECT).is_folder
    assert parse_path("/a/b", PROJECT).full == "/a/b"
    assert parse_path("/a/b/", PROJECT).full == "/a/b"


@pytest.mark.parametrize("text", ["", "  ", "myproject:/a", "file-xyz:/a", f"{FILE}:/a"])
def test_bad_paths_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_path(text, PROJECT)


def resolving(*results: list[dict[str, str]]) -> FakeClient:
    """A client whose /system/resolveDataObjects answers `results` for its one object."""
    return FakeClient({"/system/resolveDataObjects": {"results": list(results)}})


def test_a_name_is_resolved_in_its_folder() -> None:
    client = resolving([{"project": PROJECT, "id": FILE}])
    assert resolve_file(client, "/a/x.txt", PROJECT) == Match(PROJECT, FILE)
    assert client.calls == [("/system/resolveDataObjects",
                             {"objects": [{"project": PROJECT, "folder": "/a", "name": "x.txt"}]})]


def test_an_ambiguous_name_lists_the_ids() -> None:
    client = resolving([{"project": PROJECT, "id": FILE}, {"project": PROJECT, "id": FILE2}])
    with pytest.raises(UsageError, match=f"{FILE}.*{FILE2}"):
        resolve_file(client, "x.txt", PROJECT)


def test_a_missing_name_is_not_found() -> None:
    with pytest.raises(ResourceNotFound, match="no such file"):
        resolve_file(resolving([]), "x.txt", PROJECT)


def test_only_files_are_resolved_as_files() -> None:
    with pytest.raises(ResourceNotFound):
        resolve_file(resolving([{"project": PROJECT, "id": APPLET}]), "x", PROJECT)


def test_a_folder_is_not_a_file() -> None:
    with pytest.raises(UsageError, match="folder"):
        resolve_file(resolving([]), "/a/", PROJECT)


def test_a_bare_id_prefers_the_default_projects_copy() -> None:
    client = resolving([{"project": OTHER, "id": FILE}, {"project": PROJECT, "id": FILE}])
    assert find_objects(client, parse_path(FILE, PROJECT), PROJECT) == [Match(PROJECT, FILE)]
    assert client.calls[0][1] == {"objects": [{"id": FILE}]}
    client = resolving([{"project": OTHER, "id": FILE}])
    assert resolve_file(client, FILE, PROJECT) == Match(OTHER, FILE)


def test_an_id_in_a_named_project_is_looked_up_there() -> None:
    client = resolving([{"project": OTHER, "id": FILE}])
    assert resolve_file(client, f"{OTHER}:{FILE}", PROJECT) == Match(OTHER, FILE)
    assert client.calls[0][1] == {"objects": [{"id": FILE, "project": OTHER}]}


def test_folder_exists() -> None:
    def list_folder(body: Any) -> Any:
        if body["folder"] != "/here":
            raise ResourceNotFound("no folder")
        return {"folders": []}

    client = FakeClient({f"/{PROJECT}/listFolder": list_folder, f"/{PROJECT}/describe": {"id": PROJECT}})
    assert folder_exists(client, PROJECT, "/here")
    assert not folder_exists(client, PROJECT, "/there")
