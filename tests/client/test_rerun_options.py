"""What a re-run carries from the describe of the job it re-runs, and how the flags given replace it."""

from __future__ import annotations

from typing import Any

from runner.client.rerun_options import carried_fields, with_overrides

APPLET, REBUILT, OTHER = "applet-" + "a" * 24, "applet-" + "b" * 24, "applet-" + "c" * 24


def _root(**changes: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "id": "job-" + "r" * 24, "applet": APPLET, "function": "main", "parentJob": None, "project": "project-x",
        "folder": "/out", "name": "named", "tags": ["t"], "properties": {"k": "v"}, "priority": "high",
        "rank": 0, "executionPolicy": {"restartOn": {"*": 1}}, "timeout": 420_000, "debug": {},
        "allowSSH": [], "costLimit": None, "delayWorkspaceDestruction": False, "ignoreReuse": False,
        "runSystemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x4"}},
        "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x4"}},
        "runSystemRequirementsByExecutable": None, "mergedSystemRequirementsByExecutable": {},
    }
    job.update(changes)
    return job


def test_a_root_carries_its_run_s_requests_and_options_set_not_the_defaults() -> None:
    fields = carried_fields(_root(), APPLET)
    assert fields == {
        "project": "project-x", "folder": "/out", "name": "named", "tags": ["t"], "properties": {"k": "v"},
        "priority": "high", "executionPolicy": {"restartOn": {"*": 1}},
        "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x4"}},
        "timeoutPolicyByExecutable": {APPLET: {"main": {"minutes": 7.0}}},
    }
    # A run that asked no instance type carries none: the (re)built applet's run spec decides again.
    assert "systemRequirements" not in carried_fields(_root(runSystemRequirements=None), APPLET)
    debugged = carried_fields(_root(debug={"debugOn": ["AppError"]}, rank=3, allowSSH=["*"], costLimit=2.5,
                                    delayWorkspaceDestruction=True), APPLET)
    assert (debugged["debug"], debugged["rank"], debugged["allowSSH"]) == ({"debugOn": ["AppError"]}, 3, ["*"])
    assert (debugged["costLimit"], debugged["delayWorkspaceDestruction"]) == (2.5, True)


def test_a_subjob_carries_its_requests_as_they_resolved_and_the_tree_s_timeouts() -> None:
    resolved = {"square": {"instanceType": "mem1_ssd1_v2_x8"}, "*": {"instanceType": "mem1_ssd1_v2_x2"}}
    by_executable = {APPLET: {"gather": {"instanceType": "mem1_ssd1_v2_x4"}}, OTHER: {"*": {"instanceType": "x"}}}
    subjob = _root(function="square", parentJob="job-" + "p" * 24, runSystemRequirements=None,
                   systemRequirements=resolved, mergedSystemRequirementsByExecutable=by_executable, timeout=300_000)
    tree = [{"applet": APPLET, "function": "main", "timeout": 600_000},
            {"applet": APPLET, "function": "square", "timeout": 60_000},
            {"app": "app-" + "d" * 24, "function": "main", "timeout": 120_000},
            {"applet": APPLET, "function": "gather"}]
    fields = carried_fields(subjob, REBUILT, tree)
    assert fields["systemRequirements"] == resolved
    # The requests for the applet it ran are moved to the one the re-run starts (a --latest build).
    assert fields["systemRequirementsByExecutable"] == {REBUILT: by_executable[APPLET], OTHER: by_executable[OTHER]}
    assert fields["timeoutPolicyByExecutable"] == {
        REBUILT: {"main": {"minutes": 10.0}, "square": {"minutes": 5.0}},  # the job's own wins for its entry
        "app-" + "d" * 24: {"main": {"minutes": 2.0}},
    }


def test_flags_replace_what_they_set_and_entry_point_requests_merge() -> None:
    carried = {"tags": ["a"], "folder": "/out", "systemRequirements": {"*": {"instanceType": "x2"}}}
    given = {"tags": ["b"], "systemRequirements": {"gather": {"instanceType": "x8"}}}
    assert with_overrides(carried, given, merge_instance_types=True) == {
        "tags": ["b"], "folder": "/out",
        "systemRequirements": {"*": {"instanceType": "x2"}, "gather": {"instanceType": "x8"}}}
    whole = with_overrides(carried, {"systemRequirements": {"*": {"instanceType": "x4"}}},
                           merge_instance_types=False)
    assert whole["systemRequirements"] == {"*": {"instanceType": "x4"}}
