"""The `dx run`-style flags of `runner run` → run request fields, and one-line errors naming the flag."""

from __future__ import annotations

from typing import Any

import pytest

from runner.cli._run_options import (
    RunOptions,
    by_executable,
    cost_limit,
    debug_on,
    deep_merge,
    destination,
    instance_type,
    properties,
    rank,
    request_fields,
)
from runner.errors import UsageError

PROJECT = "project-" + "P" * 24
OTHER = "project-" + "O" * 24
JOB = "job-" + "J" * 24
APPLET = "applet-" + "A" * 24


def test_no_flags_give_the_default_project_and_root_folder() -> None:
    assert request_fields(RunOptions(), PROJECT) == {"project": PROJECT, "folder": "/"}


def test_every_flag_becomes_its_field() -> None:
    options = RunOptions(
        name="n", destination=f"{OTHER}:/out/", instance_type="mem2_ssd1_v2_x2",
        instance_type_by_executable=f'{{"{APPLET}": {{"*": "mem1_ssd1_v2_x2"}}}}', tags=("a", "b"),
        properties=("k=v", "e="), details='{"d": 1}', depends_on=(JOB, JOB), delay_workspace_destruction=True,
        debug_on=("AppError", "All"), allow_ssh=("*", "10.0.0.0/16"), ignore_reuse=True, rank="7",
        cost_limit="2.5",
    )
    assert request_fields(options, PROJECT) == {
        "project": OTHER, "folder": "/out", "name": "n",
        "systemRequirements": {"*": {"instanceType": "mem2_ssd1_v2_x2"}},
        "systemRequirementsByExecutable": {APPLET: {"*": {"instanceType": "mem1_ssd1_v2_x2"}}},
        "tags": ["a", "b"], "properties": {"k": "v", "e": ""}, "details": {"d": 1}, "dependsOn": [JOB],
        "delayWorkspaceDestruction": True,
        "debug": {"debugOn": ["AppError", "AppInternalError", "ExecutionError"]},
        "allowSSH": ["*", "10.0.0.0/16"], "ignoreReuse": True, "rank": 7, "costLimit": 2.5,
    }


def test_reuse_is_the_engines_own_key() -> None:
    assert request_fields(RunOptions(reuse=True), PROJECT)["reuse"] is True


def test_extra_args_merge_into_the_request() -> None:
    extra = ('{"executionPolicy": {"restartOn": {"*": 1}}, "systemRequirements": {"main": {"instanceType": "x"}},'
             '"folder": "/elsewhere"}')
    body = request_fields(RunOptions(instance_type="mem1_ssd1_v2_x2", extra_args=extra), PROJECT)
    assert body["executionPolicy"] == {"restartOn": {"*": 1}}
    assert body["systemRequirements"] == {"*": {"instanceType": "mem1_ssd1_v2_x2"}, "main": {"instanceType": "x"}}
    assert body["folder"] == "/elsewhere"
    assert deep_merge({"a": {"b": 1}, "c": 1}, {"a": {"d": 2}, "c": [1]}) == {"a": {"b": 1, "d": 2}, "c": [1]}


def test_instance_type_per_entry_point() -> None:
    assert instance_type('{"main": "mem1_ssd1_v2_x2", "sub": "mem2_ssd1_v2_x4"}') == {
        "main": {"instanceType": "mem1_ssd1_v2_x2"}, "sub": {"instanceType": "mem2_ssd1_v2_x4"}}
    assert by_executable(f'{{"{APPLET}": {{"main": {{"instanceType": "x1"}}}}}}') == {
        APPLET: {"main": {"instanceType": "x1"}}}


def test_destinations() -> None:
    assert destination("/a/b", PROJECT) == (PROJECT, "/a/b")
    assert destination(f"{OTHER}:", PROJECT) == (OTHER, "/")
    assert destination(f"{OTHER}:/x", PROJECT) == (OTHER, "/x")


@pytest.mark.parametrize(("call", "flag"), [
    (lambda: destination("relative", PROJECT), "--folder"),
    (lambda: destination("myproject:/x", PROJECT), "--folder"),
    (lambda: instance_type("{not json"), "--instance-type"),
    (lambda: instance_type('{"main": 3}'), "--instance-type"),
    (lambda: instance_type("bad type!"), "--instance-type"),
    (lambda: by_executable("[]"), "--instance-type-by-executable"),
    (lambda: by_executable(f'{{"{APPLET}": "x"}}'), "--instance-type-by-executable"),
    (lambda: properties(["novalue"]), "--property"),
    (lambda: debug_on(["Sometimes"]), "--debug-on"),
    (lambda: rank("high"), "--rank"),
    (lambda: rank("1024"), "--rank"),
    (lambda: rank("-1025"), "--rank"),
    (lambda: cost_limit("-1"), "--cost-limit"),
    (lambda: cost_limit("lots"), "--cost-limit"),
    (lambda: request_fields(RunOptions(details="1"), PROJECT), "--details"),
    (lambda: request_fields(RunOptions(extra_args="[1]"), PROJECT), "--extra-args"),
    (lambda: request_fields(RunOptions(depends_on=(PROJECT,)), PROJECT), "--depends-on"),
    (lambda: request_fields(RunOptions(depends_on=("nope",)), PROJECT), "--depends-on"),
    (lambda: request_fields(RunOptions(reuse=True, ignore_reuse=True), PROJECT), "--reuse"),
])
def test_bad_values_name_the_flag_on_one_line(call: Any, flag: str) -> None:
    with pytest.raises(UsageError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(f"{flag}:") and "\n" not in message


def test_rank_bounds_are_accepted() -> None:
    assert (rank("-1024"), rank("1023")) == (-1024, 1023)
