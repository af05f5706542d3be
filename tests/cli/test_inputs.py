"""`-i` and `-j` of `runner run` → the run input, with and without an inputSpec."""

from __future__ import annotations

from typing import Any

import pytest

from runner.cli._inputs import parse_inputs, parse_value
from runner.errors import UsageError

JOB = "job-" + "J" * 24
FILE = "file-" + "F" * 24
RECORD = "record-" + "R" * 24
APPLET = "applet-" + "A" * 24
PROJECT = "project-" + "P" * 24

SPEC: list[dict[str, Any]] = [
    {"name": "n", "class": "int"},
    {"name": "x", "class": "float"},
    {"name": "flag", "class": "boolean"},
    {"name": "who", "class": "string"},
    {"name": "opts", "class": "hash"},
    {"name": "reads", "class": "file"},
    {"name": "ref", "class": "record"},
    {"name": "tool", "class": "applet"},
    {"name": "words", "class": "array:string"},
    {"name": "counts", "class": "array:int"},
    {"name": "files", "class": "array:file"},
]


def parse(*pairs: str, spec: list[dict[str, Any]] | None = SPEC, j: str | None = None) -> dict[str, Any]:
    return parse_inputs(pairs, spec, j)


def error(*pairs: str, spec: list[dict[str, Any]] | None = SPEC, j: str | None = None) -> str:
    with pytest.raises(UsageError) as caught:
        parse_inputs(pairs, spec, j)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_scalars_by_the_spec_class() -> None:
    assert parse("n=4", "x=2.5", "who=world", "opts={\"a\": [1]}") == {
        "n": 4, "x": 2.5, "who": "world", "opts": {"a": [1]}}
    assert parse("n=-12")["n"] == -12 and parse("n=+3")["n"] == 3
    assert parse("x=3")["x"] == 3.0 and isinstance(parse("x=3")["x"], float)
    assert parse("x=1e3")["x"] == 1000.0
    assert parse("who=")["who"] == ""
    assert parse("who=a=b")["who"] == "a=b"
    assert parse("who=42")["who"] == "42"


@pytest.mark.parametrize(("word", "value"), [
    ("true", True), ("TRUE", True), ("yes", True), ("Yes", True), ("1", True),
    ("false", False), ("False", False), ("no", False), ("NO", False), ("0", False),
])
def test_booleans(word: str, value: bool) -> None:
    assert parse(f"flag={word}") == {"flag": value}


@pytest.mark.parametrize(("pair", "expected"), [
    ("n=four", "-i n: expected an int, got 'four'"),
    ("n=4.0", "-i n: expected an int, got '4.0'"),
    ("n=", "-i n: expected an int, got ''"),
    ("x=abc", "-i x: expected a float, got 'abc'"),
    ("x=nan", "-i x: expected a finite float, got 'nan'"),
    ("flag=maybe", "-i flag: expected a boolean (true/false, yes/no, 1/0), got 'maybe'"),
    ("opts=[1]", "-i opts: expected a hash (a JSON object), got '[1]'"),
    ("opts={bad", "-i opts: expected a hash (a JSON object), got '{bad'"),
    ("counts=x", "-i counts: expected an int, got 'x'"),
])
def test_values_their_class_cannot_take(pair: str, expected: str) -> None:
    assert error(pair) == expected


def test_data_objects_become_links() -> None:
    assert parse(f"reads={FILE}", f"ref={RECORD}", f"tool={APPLET}") == {
        "reads": {"$dnanexus_link": FILE}, "ref": {"$dnanexus_link": RECORD},
        "tool": {"$dnanexus_link": APPLET}}
    assert parse(f"reads={PROJECT}:{FILE}") == {"reads": {"$dnanexus_link": {"project": PROJECT, "id": FILE}}}


def test_data_objects_of_the_wrong_class_or_names() -> None:
    assert error(f"reads={RECORD}") == f"-i reads: expected a file ID, got '{RECORD}'"
    message = error("reads=reads.fastq")
    assert message.startswith("-i reads: expected a file ID") and "names are not resolved" in message
    assert error(f"reads={PROJECT}:{RECORD}").startswith("-i reads: expected a file ID")


def test_job_references_for_any_class() -> None:
    link = {"$dnanexus_link": {"job": JOB, "field": "out"}}
    for name in ("n", "flag", "who", "reads", "opts"):
        assert parse(f"{name}={JOB}:out") == {name: link}
    assert parse(f"files={JOB}:out") == {"files": [link]}
    assert parse(f"anything={JOB}:out", spec=None) == {"anything": link}
    assert parse(f"who={JOB}:out.0")["who"] == f"{JOB}:out.0"  # only `job-xxxx:field` is a reference


def test_arrays_collect_repeated_inputs() -> None:
    assert parse("words=a", "words=b", "words=a") == {"words": ["a", "b", "a"]}
    assert parse("words=only") == {"words": ["only"]}
    assert parse("counts=1", "counts=2") == {"counts": [1, 2]}
    assert parse(f"files={FILE}", f"files={JOB}:out") == {
        "files": [{"$dnanexus_link": FILE}, {"$dnanexus_link": {"job": JOB, "field": "out"}}]}


def test_a_scalar_given_twice() -> None:
    assert error("n=1", "n=2") == "-i n: given 2 times, but the input is a single int, not an array"


def test_unknown_names_with_a_spec() -> None:
    spec = [{"name": "n", "class": "int"}, {"name": "words", "class": "array:string"}]
    assert error("bogus=1", spec=spec) == "-i bogus: the applet has no input named 'bogus' (inputs: n, words)"
    assert error("bogus:int=1", spec=spec).startswith("-i bogus: the applet has no input named")
    assert error("x=1", spec=[]) == "-i x: the applet has no input named 'x' (inputs: none)"


def test_explicit_classes_win_over_the_spec_and_work_without_one() -> None:
    assert parse("who:int=5") == {"who": 5}
    assert parse("n:string=5") == {"n": "5"}
    assert parse("a:int=1", "b:boolean=no", f"c:file={FILE}", spec=None) == {
        "a": 1, "b": False, "c": {"$dnanexus_link": FILE}}
    assert parse("a:array:int=1", spec=None) == {"a": [1]}
    assert parse("a:array:float=1", "a:array:float=2.5", spec=None) == {"a": [1.0, 2.5]}
    assert parse("g:gtable=gtable-" + "G" * 24, spec=None) == {"g": {"$dnanexus_link": "gtable-" + "G" * 24}}
    assert error("a:int=x", spec=None) == "-i a: expected an int, got 'x'"
    assert error("a:integer=1", spec=None).startswith("-i a: unknown class 'integer'")
    assert error("a:array:nope=1", spec=None).startswith("-i a: unknown class 'array:nope'")


def test_without_a_spec_values_are_json_or_strings() -> None:
    assert parse("n=4", "x=2.5", "l=[1, 2]", "h={\"k\": null}", spec=None) == {
        "n": 4, "x": 2.5, "l": [1, 2], "h": {"k": None}}
    assert parse("s=hello", "t=true", "q=\"quoted\"", "z=null", "e=", spec=None) == {
        "s": "hello", "t": "true", "q": "\"quoted\"", "z": "null", "e": ""}
    assert parse("f=" + FILE, "p=" + f"{PROJECT}:{FILE}", spec=None) == {
        "f": {"$dnanexus_link": FILE}, "p": {"$dnanexus_link": {"project": PROJECT, "id": FILE}}}
    assert parse("w=a", "w=2", "w=c", spec=None) == {"w": ["a", 2, "c"]}


def test_unknown_names_without_a_spec_are_accepted() -> None:
    assert parse("anything=1", spec=None) == {"anything": 1}


@pytest.mark.parametrize("pair", ["novalue", "=5", "1abc=2", "a b=1", ":int=3", "a-b=1"])
def test_malformed_pairs(pair: str) -> None:
    assert error(pair, spec=None) == f"-i {pair!r}: expected NAME=VALUE or NAME:CLASS=VALUE"


def test_json_input_is_merged_under_the_i_values() -> None:
    j = '{"n": 1, "who": "json", "words": ["x"]}'
    assert parse("n=2", j=j) == {"n": 2, "who": "json", "words": ["x"]}
    assert parse(j=j) == {"n": 1, "who": "json", "words": ["x"]}
    assert parse(spec=None, j="{}") == {}
    assert parse() == {}


@pytest.mark.parametrize(("j", "expected"), [
    ("[1, 2]", "-j: expected a JSON object, got list"),
    ("{nope", "-j: not valid JSON"),
])
def test_bad_json_input(j: str, expected: str) -> None:
    assert error(j=j).startswith(expected)


def test_parse_value_directly() -> None:
    assert parse_value("n", "int", "7") == 7
    assert parse_value("n", None, f"{JOB}:f") == {"$dnanexus_link": {"job": JOB, "field": "f"}}
    assert parse_value("n", "string", " padded ") == " padded "


def test_a_local_file_for_a_file_input_goes_through_upload(tmp_path: Any) -> None:
    local = tmp_path / "reads.fq"
    local.write_text("ACGT")
    uploaded: list[Any] = []

    def upload(path: Any) -> str:
        uploaded.append(path)
        return FILE
    assert parse_inputs([f"reads={local}", f"files={local}"], SPEC, None, upload) == {
        "reads": {"$dnanexus_link": FILE}, "files": [{"$dnanexus_link": FILE}]}
    assert uploaded == [local, local]
    # Without an uploader (the check before the engine starts) the file is only looked at.
    assert "reads" in parse_inputs([f"reads:file={local}"], None, None)
    assert "or a local file to upload" in error(f"reads={tmp_path / 'missing.fq'}")
    # A local path given to a string input stays a string.
    assert parse_inputs([f"x:string={local}"], None, None) == {"x": str(local)}
