"""The run form's model: field text to run input by class, errors naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.spec._checks import Checker
from runner.spec.io_spec import IOParam, read_io_spec
from runner.tui.form_model import (
    LocalFile,
    build_input,
    default_rows,
    default_text,
    engine_field,
    engine_message,
    field_with_id,
    file_options,
    parse_timeout,
    placeholder,
    run_body,
    sections,
    with_uploads,
)

FILE_ID = "file-" + "A" * 24
PROJECT = "project-" + "B" * 24


def p(name: str, klass: str, **more: Any) -> dict[str, Any]:
    """One inputSpec entry."""
    return {"name": name, "class": klass, **more}


def spec(*params: dict[str, Any]) -> tuple[IOParam, ...]:
    """An inputSpec read as runner.spec reads a dxapp.json's."""
    checker = Checker()
    read = read_io_spec(list(params), "inputSpec", checker, is_input=True)
    assert read is not None and not checker.problems
    return read


def test_every_scalar_class_becomes_its_value(tmp_path: Path) -> None:
    local = tmp_path / "reads.txt"
    local.write_text("ACGT")
    params = spec(p("n", "int"), p("x", "float"), p("s", "string"), p("b", "boolean"), p("h", "hash"),
                  p("f", "file"), p("g", "file"), p("p", "file"), p("r", "record"), p("a", "applet"))
    result = build_input(params, {"n": " -3 ", "x": "2.5", "s": " a b ", "b": True, "h": '{"k": [1]}',
                                  "f": FILE_ID, "g": "reads.txt", "p": f"{PROJECT}:{FILE_ID}",
                                  "r": "record-" + "C" * 24, "a": "applet-" + "D" * 24}, tmp_path)
    assert result.ok, result.errors
    assert result.input == {"n": -3, "x": 2.5, "s": " a b ", "b": True, "h": {"k": [1]},
                            "f": {"$dnanexus_link": FILE_ID}, "g": LocalFile(local),
                            "p": {"$dnanexus_link": {"project": PROJECT, "id": FILE_ID}},
                            "r": {"$dnanexus_link": "record-" + "C" * 24},
                            "a": {"$dnanexus_link": "applet-" + "D" * 24}}


def test_arrays_take_one_value_per_row_and_skip_empty_rows(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    params = spec(p("ns", "array:int"), p("ss", "array:string"),
                  p("bs", "array:boolean"), p("hs", "array:hash"),
                  p("fs", "array:file"))
    result = build_input(params, {"ns": ["1", " ", "-2"], "ss": ["a, b", "c"], "bs": ["yes", "false"],
                                  "hs": ['{"a": 1}', "{}"], "fs": ["a.txt", FILE_ID]}, tmp_path)
    assert result.ok, result.errors
    assert result.input == {"ns": [1, -2], "ss": ["a, b", "c"], "bs": [True, False], "hs": [{"a": 1}, {}],
                            "fs": [LocalFile(tmp_path / "a.txt"), {"$dnanexus_link": FILE_ID}]}


def test_bad_values_name_the_field_and_what_was_expected(tmp_path: Path) -> None:
    params = spec(p("n", "int"), p("x", "float"), p("b", "array:boolean"),
                  p("h", "hash"), p("f", "file"), p("ns", "array:int"),
                  p("r", "record"), p("hs", "array:hash"),
                  p("c", "string", choices=["red", "green"]),
                  p("cs", "array:int", choices=[1, 2]))
    result = build_input(params, {"n": "4.5", "x": "many", "b": ["maybe"], "h": "[1]", "f": "missing.txt",
                                  "ns": ["1", "", "two"], "r": FILE_ID, "hs": ["[1]"], "c": "blue",
                                  "cs": ["2", "3"]}, tmp_path)
    assert result.input == {}
    assert result.errors == {
        "n": "expected an integer, got '4.5'",
        "x": "expected a number, got 'many'",
        "b": "row 1: expected true or false, got 'maybe'",
        "h": "expected a JSON object ({...}), got list",
        "f": "'missing.txt' is neither a file-xxxx ID nor a local file",
        "ns": "row 3: expected an integer, got 'two'",
        "r": f"expected a record ID (record-xxxx or project-xxxx:record-xxxx), got '{FILE_ID}'",
        "hs": "row 1: expected a JSON object ({...}), got list",
        "c": "expected one of red, green, got 'blue'",
        "cs": "row 2: expected one of 1, 2, got 3",
    }
    assert build_input(spec(p("h", "hash")), {"h": "{oops"}).errors["h"].startswith(
        "expected a JSON object: Expecting property name")


def test_empty_fields_need_a_value_only_when_required() -> None:
    params = spec(p("need", "int"), p("opt", "int", optional=True),
                  p("dflt", "string", default="World"), p("many", "array:file"),
                  p("some", "array:int", optional=True))
    result = build_input(params, {"need": " ", "opt": "", "dflt": "", "many": ["", " "], "some": []})
    assert result.input == {}
    assert result.errors == {"need": "needed: an integer",
                             "many": "needed: at least one row of local path or file-xxxx"}
    assert placeholder(params[3]) == "local path or file-xxxx (one per row)"


def test_defaults_fill_the_fields_as_text() -> None:
    params = spec(p("s", "string", default="World"), p("ns", "array:int", default=[1, 2]),
                  p("b", "boolean", default=False), p("h", "hash", default={"a": 1}),
                  p("f", "file", optional=True))
    assert [default_text(p) for p in params] == ["World", "[1, 2]", "false", '{"a": 1}', ""]
    assert [default_rows(p) for p in params[:2]] == [["World"], ["1", "2"]]
    assert default_rows(params[4]) == []


def test_groups_become_sections_in_the_order_they_first_appear() -> None:
    params = spec(p("a", "int", group="Advanced"), p("b", "int"),
                  p("c", "int", group="Reads"), p("d", "int", group="Advanced"),
                  p("e", "int"))
    assert [(group, [p.name for p in members]) for group, members in sections(params)] == [
        (None, ["b", "e"]), ("Advanced", ["a", "d"]), ("Reads", ["c"])]
    assert [group for group, _ in sections(spec(p("x", "int", group="G")))] == ["G"]


def test_the_projects_files_become_options_by_path() -> None:
    found = [{"id": "file-" + "Z" * 24, "describe": {"name": "b.txt", "folder": "/data"}},
             {"id": FILE_ID, "describe": {"name": "a.txt", "folder": "/"}},
             {"id": "record-" + "C" * 24, "describe": {"name": "not a file"}}]
    assert file_options(found) == [(f"/a.txt  {FILE_ID}", FILE_ID),
                                   (f"/data/b.txt  file-{'Z' * 24}", "file-" + "Z" * 24)]


def test_local_files_are_uploaded_and_linked(tmp_path: Path) -> None:
    uploaded: list[Path] = []

    def upload(path: Path) -> str:
        uploaded.append(path)
        return f"file-{len(uploaded):024d}"

    run_input = {"one": LocalFile(tmp_path / "a"),
                 "many": [LocalFile(tmp_path / "b"), {"$dnanexus_link": FILE_ID}], "n": 1}
    assert with_uploads(run_input, upload) == {
        "one": {"$dnanexus_link": "file-" + "0" * 23 + "1"},
        "many": [{"$dnanexus_link": "file-" + "0" * 23 + "2"}, {"$dnanexus_link": FILE_ID}], "n": 1}
    assert uploaded == [tmp_path / "a", tmp_path / "b"]


def test_timeout_and_instance_type_go_into_the_run_body() -> None:
    applet = "applet-" + "D" * 24
    assert parse_timeout(" ") is None and parse_timeout("15") == 15
    for bad in ("-1", "1.5", "soon", str(30 * 24 * 60 + 1)):
        try:
            parse_timeout(bad)
        except ValueError as exc:
            assert repr(bad) in str(exc) and "whole minutes" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was taken as a timeout")
    body = run_body(applet, {"n": 1}, project=PROJECT, instance_type="mem1_ssd1_v2_x4", timeout_minutes=0)
    assert body == {
        "input": {"n": 1}, "project": PROJECT,
        "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x4"}},
        "timeoutPolicyByExecutable": {applet: {"*": {"minutes": 0}}}}
    assert run_body(applet, {}, project=None, instance_type=None, timeout_minutes=None) == {"input": {}}


def test_engine_errors_find_their_field() -> None:
    names = ["n", "label"]
    assert engine_field({"field": "input.n"}, names) == "n"
    assert engine_field({"field": "label"}, names) == "label"
    assert engine_field({"field": "instanceType"}, names) == "instance-type"
    assert engine_field({"field": "elsewhere"}, names) is None
    assert engine_message("n is wrong", {"reason": "class", "expected": "int"}) == "n is wrong (expected int)"
    assert engine_message("n must be an int", {"reason": "class", "expected": "int"}) == "n must be an int"
    assert engine_message("bad input", {}) == "bad input"


def test_a_refusal_naming_an_object_finds_the_field_that_holds_it() -> None:
    run_input = {"n": 1, "reads": {"$dnanexus_link": FILE_ID}, "more": [LocalFile(Path("x"))]}
    assert field_with_id(f"the input object {FILE_ID} does not exist", run_input) == "reads"
    assert field_with_id("file-" + "Z" * 24 + " does not exist", run_input) is None
