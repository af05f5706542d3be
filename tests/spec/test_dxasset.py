"""runner.spec.dxasset: dxasset.json read as `dx build_asset` reads it, every problem with its JSON path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.spec.dxasset import load_dxasset
from runner.spec.run_spec import ExecDepend

GOOD = {"name": "samtools_asset", "title": "Samtools", "description": "samtools from apt", "version": "1.0.0",
        "release": "24.04", "execDepends": [{"name": "samtools"}, {"name": "pysam", "package_manager": "pip",
                                                                   "version": "0.22.0"}]}


def folder_with(tmp_path: Path, document: Any, **files: str) -> Path:
    (tmp_path / "dxasset.json").write_text(json.dumps(document))
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def problems(tmp_path: Path, document: Any) -> dict[str, str]:
    with pytest.raises(SpecError) as invalid:
        load_dxasset(folder_with(tmp_path, document))
    return {p.path: p.message for p in invalid.value.problems}


def test_a_good_asset_with_its_defaults(tmp_path: Path) -> None:
    asset = load_dxasset(folder_with(tmp_path, {**GOOD, "runSpecVersion": "1"}, Makefile="all:\n"))
    assert (asset.name, asset.version, asset.distribution, asset.release) == \
        ("samtools_asset", "1.0.0", "Ubuntu", "24.04")
    assert asset.exec_depends == (ExecDepend("samtools"), ExecDepend("pysam", "pip", "0.22.0"))
    assert (asset.makefile, asset.has_resources, asset.instance_type, asset.warnings) == ("Makefile", False, None, ())


def test_every_problem_is_named_by_its_path(tmp_path: Path) -> None:
    found = problems(tmp_path, {"name": "has space", "title": 3, "release": "16.04", "distribution": "CentOS",
                                "execDepends": [{"name": "bio", "package_manager": "gem"}, "samtools"],
                                "instanceType": "mem1_ssd1_x9000"})
    assert set(found) == {"name", "title", "description", "version", "release", "distribution",
                          "execDepends[0].package_manager", "execDepends[1]", "instanceType"}
    assert found["version"] == "is required" and "got an integer" in found["title"]
    assert "'20.04'" in found["release"] and "use apt or pip" in found["execDepends[0].package_manager"]


def test_unknown_fields_warn(tmp_path: Path) -> None:
    asset = load_dxasset(folder_with(tmp_path, {**GOOD, "colour": "blue"}))
    assert [p.path for p in asset.warnings] == ["colour"]


@pytest.mark.parametrize(("text", "message"), [
    ("[1, 2]", "expected a JSON object"), ("{nope", "not valid JSON"), ('{"a": NaN}', "NaN is not valid JSON"),
])
def test_a_document_that_is_not_an_object(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "dxasset.json").write_text(text)
    with pytest.raises(SpecError, match=message):
        load_dxasset(tmp_path)


def test_no_folder_or_no_dxasset(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no dxasset.json"):
        load_dxasset(tmp_path)
    with pytest.raises(SpecError, match="is not a folder"):
        load_dxasset(tmp_path / "missing")
    (tmp_path / "elsewhere.json").write_text(json.dumps(GOOD))
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "dxasset.json").symlink_to("/etc/passwd")
    with pytest.raises(SpecError, match="dxasset.json"):
        load_dxasset(tmp_path / "inner")
