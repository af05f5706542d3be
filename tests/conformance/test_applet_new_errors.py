"""Every /applet/new InvalidInput rule with a local meaning is reported, with its JSON path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.spec.dxapp import load_dxapp


def _problems(tmp_path: Path, **overrides: Any) -> dict[str, str]:
    document: dict[str, Any] = {
        "name": "x", "dxapi": "1.0.0",
        "runSpec": {"interpreter": "bash", "file": "src/x.sh", "distribution": "Ubuntu", "release": "24.04"},
    }
    for key, value in overrides.items():
        if key.startswith("runSpec_"):
            document["runSpec"][key.removeprefix("runSpec_")] = value
        else:
            document[key] = value
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "x.sh").write_text("main() { :; }\n")
    (tmp_path / "dxapp.json").write_text(json.dumps(document))
    with pytest.raises(SpecError) as caught:
        load_dxapp(tmp_path)
    return {p.path: p.message for p in caught.value.problems}


def test_details_link_with_other_keys(tmp_path: Path) -> None:
    problems = _problems(tmp_path, details={"a": {"$dnanexus_link": "file-" + "x" * 24, "b": 1}})
    assert "must have no other key" in problems["details.a"]


def test_details_link_that_is_not_a_string(tmp_path: Path) -> None:
    problems = _problems(tmp_path, details=[{"$dnanexus_link": {"id": 1}}])
    assert "must be a string" in problems['details[0]["$dnanexus_link"]']


def test_tree_turnaround_time_threshold_bounds(tmp_path: Path) -> None:
    for bad in (-1, 2592000, 1.5, "10"):
        problems = _problems(tmp_path, treeTurnaroundTimeThreshold=bad)
        assert "non-negative integer less than 2592000" in problems["treeTurnaroundTimeThreshold"]


def test_timeout_policy_over_thirty_days(tmp_path: Path) -> None:
    problems = _problems(tmp_path, runSpec_timeoutPolicy={"*": {"days": 30, "hours": 1}})
    assert "should not exceed 30 days" in problems["runSpec.timeoutPolicy.*"]


def test_instance_type_and_selector_are_exclusive(tmp_path: Path) -> None:
    problems = _problems(tmp_path, runSpec_systemRequirements={
        "main": {"instanceType": "mem1_ssd1_v2_x4", "instanceTypeSelector": {"allowedInstanceTypes": ["mem1_ssd1_v2_x8"]}}})
    assert problems["runSpec.systemRequirements.main"] == "instanceType and instanceTypeSelector keywords are mutually exclusive"


def test_selector_and_cluster_spec_are_exclusive(tmp_path: Path) -> None:
    problems = _problems(tmp_path, runSpec_systemRequirements={
        "*": {"clusterSpec": {"type": "dxspark", "initialInstanceCount": 2},
              "instanceTypeSelector": {"allowedInstanceTypes": ["mem1_ssd1_v2_x8"]}}})
    assert problems["runSpec.systemRequirements.*"] == "instanceTypeSelector and clusterSpec keywords are mutually exclusive"


def test_unknown_instance_type_suggests_the_closest(tmp_path: Path) -> None:
    problems = _problems(tmp_path, runSpec_systemRequirements={"main": {"instanceType": "mem1_ssd1_v2_x5"}})
    message = problems["runSpec.systemRequirements.main.instanceType"]
    assert message.startswith("unknown instance type 'mem1_ssd1_v2_x5'; did you mean ")
    assert "'mem1_ssd1_v2_x4'" in message


def test_regional_options_instance_types_are_checked_too(tmp_path: Path) -> None:
    problems = _problems(tmp_path, regionalOptions={
        "aws:us-east-1": {"systemRequirements": {"main": {"instanceType": "nope"}}}})
    assert "unknown instance type 'nope'" in problems['regionalOptions["aws:us-east-1"].systemRequirements.main.instanceType']


def test_input_names_must_be_identifiers_and_unique(tmp_path: Path) -> None:
    problems = _problems(tmp_path, inputSpec=[
        {"name": "good_1", "class": "int"}, {"name": "bad-name", "class": "int"},
        {"name": "good_1", "class": "string"}, {"name": "9lives", "class": "int"}])
    assert "must match ^[a-zA-Z_][0-9a-zA-Z_]*$" in problems["inputSpec[1].name"]
    assert "duplicate name 'good_1'" in problems["inputSpec[2].name"]
    assert "inputSpec[3].name" in problems


def test_classes_are_the_documented_ones(tmp_path: Path) -> None:
    problems = _problems(tmp_path, inputSpec=[{"name": "a", "class": "array:array:int"}, {"name": "b", "class": "File"}])
    assert "unknown class 'array:array:int'" in problems["inputSpec[0].class"]
    assert "unknown class 'File'" in problems["inputSpec[1].class"]


@pytest.mark.parametrize("klass, default", [
    ("int", 1.5), ("int", True), ("float", "1.0"), ("string", 3), ("boolean", "true"), ("hash", [1]),
    ("file", "file-xxxx"), ("file", {"$dnanexus_link": "record-" + "a" * 24}), ("array:int", 3),
    ("array:string", ["a", 1]), ("applet", {"$dnanexus_link": "file-" + "a" * 24}),
])
def test_defaults_must_be_of_the_declared_class(tmp_path: Path, klass: str, default: Any) -> None:
    problems = _problems(tmp_path, inputSpec=[{"name": "p", "class": klass, "default": default}])
    assert f"for class {klass!r}" in problems[next(k for k in problems if k.startswith("inputSpec[0].default"))]


def test_default_must_be_among_the_choices(tmp_path: Path) -> None:
    problems = _problems(tmp_path, inputSpec=[
        {"name": "p", "class": "string", "choices": ["a", "b"], "default": "c"},
        {"name": "q", "class": "array:int", "choices": [1, 2], "default": [1, 3]}])
    assert "not among the choices" in problems["inputSpec[0].default"]
    assert "not among the choices" in problems["inputSpec[1].default"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = _problems(tmp_path, treeTurnaroundTimeThreshold=-1, runSpec_interpreter="python2.7",
                         inputSpec=[{"name": "-", "class": "int"}])
    assert {"treeTurnaroundTimeThreshold", "runSpec.interpreter", "inputSpec[0].name"} <= set(problems)
