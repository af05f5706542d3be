"""/applet-xxxx/run input errors: one test per documented reason, each with its exact `details`.

The reference ("The following list describes the possible error reasons") names class, type,
missing, unrecognized, malformedLink (expected: `key field`, `only two keys`, `key $dnanexus_link`)
and choices. The InvalidState for an input that is not closed goes through the real API, in
tests/integration/test_cli_run.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from runner.errors import InvalidInput
from runner.spec._checks import Checker
from runner.spec.io_spec import IOParam, read_io_spec
from runner.spec.run_input import check_run_input

FILE = "file-" + "F" * 24
RECORD = "record-" + "R" * 24
JOB = "job-" + "J" * 24
PROJECT = "project-" + "P" * 24

SPEC = [
    {"name": "n", "class": "int"},
    {"name": "reads", "class": "file", "optional": True},
    {"name": "records", "class": "array:record", "optional": True},
    {"name": "typed", "class": "file", "type": {"$or": ["BAM", "CRAM"]}, "optional": True},
    {"name": "color", "class": "string", "choices": ["red", "green"], "default": "red"},
]


def spec(raw: list[dict[str, Any]] | None = None) -> tuple[IOParam, ...]:
    checker = Checker()
    params = read_io_spec(raw if raw is not None else SPEC, "inputSpec", checker, is_input=True)
    assert params is not None
    return params


def types_of(object_id: str) -> list[str] | None:
    return {FILE: ["FASTQ"]}.get(object_id)


def details(given: dict[str, Any], raw: list[dict[str, Any]] | None = None) -> Any:
    with pytest.raises(InvalidInput) as caught:
        check_run_input(spec(raw), given, types_of)
    return caught.value.details


def test_class_of_a_scalar() -> None:
    assert details({"n": "three"}) == {"field": "n", "reason": "class", "expected": "int"}


def test_class_of_a_data_object() -> None:
    assert details({"n": 1, "reads": {"$dnanexus_link": RECORD}}) == {
        "field": "reads", "reason": "class", "expected": "file"}


def test_class_array_expected_for_a_non_array() -> None:
    assert details({"n": 1, "records": {"$dnanexus_link": RECORD}}) == {
        "field": "records", "reason": "class", "expected": "array"}


def test_class_of_a_wrong_element_is_the_item_class() -> None:
    given = {"n": 1, "records": [{"$dnanexus_link": RECORD}, {"$dnanexus_link": FILE}]}
    assert details(given) == {"field": "records", "reason": "class", "expected": "record"}


def test_type() -> None:
    assert details({"n": 1, "typed": {"$dnanexus_link": FILE}}) == {
        "field": "typed", "reason": "type", "expected": {"$or": ["BAM", "CRAM"]}}


def test_missing() -> None:
    assert details({}) == {"field": "n", "reason": "missing", "expected": "int"}


def test_unrecognized() -> None:
    assert details({"n": 1, "bogus": 2}) == {"field": "bogus", "reason": "unrecognized", "expected": None}


def test_malformed_link_key_field() -> None:
    given = {"n": 1, "reads": {"$dnanexus_link": {"job": JOB}}}
    assert details(given) == {"field": "reads", "reason": "malformedLink", "expected": "key field"}


def test_malformed_link_only_two_keys() -> None:
    given = {"n": 1, "reads": {"$dnanexus_link": {"job": JOB, "field": "out", "extra": 1}}}
    assert details(given) == {"field": "reads", "reason": "malformedLink", "expected": "only two keys"}


@pytest.mark.parametrize("value", [
    {"id": FILE},
    {"project": PROJECT, "id": FILE},
    {"$dnanexus_link": FILE, "extra": 1},
])
def test_malformed_link_key_dnanexus_link(value: dict[str, Any]) -> None:
    assert details({"n": 1, "reads": value}) == {
        "field": "reads", "reason": "malformedLink", "expected": "key $dnanexus_link"}


def test_malformed_link_inside_an_array() -> None:
    given = {"n": 1, "records": [{"$dnanexus_link": RECORD}, {"id": RECORD}]}
    assert details(given) == {"field": "records", "reason": "malformedLink", "expected": "key $dnanexus_link"}


def test_choices() -> None:
    assert details({"n": 1, "color": "blue"}) == {
        "field": "color", "reason": "choices", "expected": ["red", "green"]}


def test_the_error_message_says_what_is_wrong() -> None:
    with pytest.raises(InvalidInput, match="i/o value for n is not int"):
        check_run_input(spec(), {"n": "x"})


def test_defaults_are_filled_into_the_original_input() -> None:
    assert check_run_input(spec(), {"n": 1}) == {"n": 1, "color": "red"}
    assert check_run_input(spec(), {"n": 1, "color": None}) == {"n": 1, "color": "red"}


def test_job_based_references_pass_the_class_checks() -> None:
    ref = {"$dnanexus_link": {"job": JOB, "field": "out"}}
    assert check_run_input(spec(), {"n": ref, "reads": {"job": JOB, "field": "f"}})["n"] == ref


def test_without_an_input_spec_only_links_are_checked() -> None:
    anything = {"whatever": "x", "n": "not an int", "reads": {"$dnanexus_link": FILE}}
    assert check_run_input(None, anything) == anything
    with pytest.raises(InvalidInput) as caught:
        check_run_input(None, {"x": [{"$dnanexus_link": {"job": JOB}}]})
    assert caught.value.details == {"field": "x", "reason": "malformedLink", "expected": "key field"}
