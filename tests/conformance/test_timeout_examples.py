"""The examples of "Specifying Job Timeouts" (applets-and-entry-points.md)."""

from __future__ import annotations

from runner.spec._checks import Checker
from runner.spec.run_spec import read_timeout_policy
from runner.spec.timeouts import effective_timeout, merge_timeout_policies

HOUR = 3600


def test_runtime_main_two_hours_run_spec_star_five_hours_subjob_foo() -> None:
    """5 h for "*" in the run spec, 2 h for main at run time: main gets 2 h, subjob foo gets 5 h."""
    checker = Checker()
    run_spec_policy = read_timeout_policy({"*": {"hours": 5}}, "runSpec.timeoutPolicy", checker)
    assert checker.problems == []
    runtime = merge_timeout_policies([{"applet-1": {"main": {"hours": 2}}}])
    main = effective_timeout("applet-1", "main", merged_by_executable=runtime, run_spec_policy=run_spec_policy)
    foo = effective_timeout("applet-1", "foo", merged_by_executable=runtime, run_spec_policy=run_spec_policy)
    assert main.seconds == 2 * HOUR
    assert foo.seconds == 5 * HOUR
    assert foo.source == "runSpec.timeoutPolicy[*]"


def test_units_are_summed() -> None:
    checker = Checker()
    policy = read_timeout_policy({"main": {"days": 1, "hours": 2, "minutes": 30}}, "p", checker)
    assert policy == {"main": 86400 + 2 * HOUR + 30 * 60}


def test_entry_point_beats_star_in_run_spec() -> None:
    policy = {"*": 5 * HOUR, "main": 1 * HOUR}
    assert effective_timeout("applet-1", "main", run_spec_policy=policy).seconds == HOUR
    assert effective_timeout("applet-1", "other", run_spec_policy=policy).seconds == 5 * HOUR


def test_default_is_thirty_days() -> None:
    assert effective_timeout("applet-1", "main").seconds == 30 * 86400


def test_zero_means_no_timeout() -> None:
    assert effective_timeout("applet-1", "main", run_spec_policy={"main": 0}).seconds is None
    runtime = {"applet-1": {"*": {"hours": 0}}}
    assert effective_timeout("applet-1", "main", merged_by_executable=runtime,
                             run_spec_policy={"main": HOUR}).seconds is None


def test_runtime_policy_of_another_executable_does_not_apply() -> None:
    runtime = {"applet-2": {"*": {"hours": 1}}}
    assert effective_timeout("applet-1", "main", merged_by_executable=runtime,
                             run_spec_policy={"*": 5 * HOUR}).seconds == 5 * HOUR


def test_upstream_policies_take_precedence_down_the_tree() -> None:
    merged = merge_timeout_policies([{"applet-1": {"main": {"hours": 2}}},
                                     {"applet-1": {"main": {"hours": 9}, "foo": {"hours": 3}}}])
    assert effective_timeout("applet-1", "main", merged_by_executable=merged).seconds == 2 * HOUR
    assert effective_timeout("applet-1", "foo", merged_by_executable=merged).seconds == 3 * HOUR


def test_over_thirty_days_is_refused() -> None:
    checker = Checker()
    policy = read_timeout_policy({"main": {"days": 30, "minutes": 1}, "*": {"days": 30}}, "runSpec.timeoutPolicy", checker)
    assert policy == {"*": 30 * 86400}
    assert [p.path for p in checker.problems] == ["runSpec.timeoutPolicy.main"]
    assert "should not exceed 30 days" in checker.problems[0].message
