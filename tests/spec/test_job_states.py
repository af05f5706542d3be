"""The job lifecycle's transition map."""

from __future__ import annotations

import itertools

import pytest

from runner.spec.job_states import TERMINAL_STATES, TRANSITIONS, IllegalTransition, JobState, check_transition


def test_the_documented_states() -> None:
    assert {s.value for s in JobState} == {
        "idle", "waiting_on_input", "runnable", "running", "waiting_on_output", "done", "debug_hold",
        "restartable", "failed", "terminating", "terminated"}


def test_the_happy_path_is_legal() -> None:
    path = [JobState.IDLE, JobState.WAITING_ON_INPUT, JobState.RUNNABLE, JobState.RUNNING,
            JobState.WAITING_ON_OUTPUT, JobState.DONE]
    for current, new in itertools.pairwise(path):
        check_transition("job-x", current, new)


def test_terminal_states_never_move() -> None:
    for state in TERMINAL_STATES:
        assert state.is_terminal and not TRANSITIONS[state]
        with pytest.raises(IllegalTransition, match="final"):
            check_transition("job-x", state, JobState.RUNNING)


def test_illegal_move_names_the_allowed_ones() -> None:
    with pytest.raises(IllegalTransition, match="cannot go from done to running"):
        check_transition("job-x", JobState.DONE, JobState.RUNNING)
    with pytest.raises(IllegalTransition, match="allowed: terminated"):
        check_transition("job-x", JobState.TERMINATING, JobState.DONE)


def test_every_non_terminal_state_can_be_ended() -> None:
    for state in JobState:
        if not state.is_terminal and state is not JobState.TERMINATING:
            assert JobState.TERMINATING in TRANSITIONS[state] or JobState.TERMINATED in TRANSITIONS[state]
