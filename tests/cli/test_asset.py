"""`runner asset`: destinations read as dx reads them, and bad input refused before any engine call."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.cli.asset import destination_body
from runner.errors import UsageError
from tests.cli.test_build import run

PROJECT = "project-" + "B" * 24


@pytest.mark.parametrize(("text", "body"), [
    (None, {}), (PROJECT, {"project": PROJECT}), (f"{PROJECT}:", {"project": PROJECT, "folder": "/"}),
    (f"{PROJECT}:/assets/", {"project": PROJECT, "folder": "/assets"}), ("/a/b", {"folder": "/a/b"}),
])
def test_destinations(text: str | None, body: dict[str, str]) -> None:
    assert destination_body(text) == body


@pytest.mark.parametrize(("text", "message"), [
    ("myproject:/x", "must be a project ID"), ("relative/folder", "an absolute /folder"),
])
def test_bad_destinations_say_what_is_expected(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        destination_body(text)


def test_an_invalid_asset_folder_exits_3_without_an_engine(tmp_path: Path, runner_home: Path) -> None:
    (tmp_path / "dxasset.json").write_text('{"name": "a", "release": "24.04"}')
    code, output = run("asset", "build", str(tmp_path))
    assert code == 3 and "title: is required" in output and "version: is required" in output
    assert not runner_home.exists()  # no engine was started for it


def test_a_missing_archive_exits_3_without_an_engine(tmp_path: Path, runner_home: Path) -> None:
    code, output = run("asset", "import", str(tmp_path / "none.tar.gz"), "--name", "a", "--version", "1")
    assert code == 3 and "no such local file" in output
    (tmp_path / "dxasset.json").write_text('{"name": "a", "title": "t", "description": "d", "version": "1", '
                                           '"release": "24.04"}')
    code, output = run("asset", "build", str(tmp_path), "--destination", "nope:/x")
    assert code == 3 and "must be a project ID" in output
    assert not runner_home.exists()
