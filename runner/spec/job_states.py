"""Job states and the only legal moves between them, as the job lifecycle documents them."""

from __future__ import annotations

from enum import Enum

from runner.errors import RunnerError


class JobState(str, Enum):
    """The documented states of a job try."""

    IDLE = "idle"
    WAITING_ON_INPUT = "waiting_on_input"
    RUNNABLE = "runnable"
    RUNNING = "running"
    WAITING_ON_OUTPUT = "waiting_on_output"
    DONE = "done"
    DEBUG_HOLD = "debug_hold"
    RESTARTABLE = "restartable"
    FAILED = "failed"
    TERMINATING = "terminating"
    TERMINATED = "terminated"

    @property
    def is_terminal(self) -> bool:
        """Whether the job try can never change state again."""
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.TERMINATED})

_S = JobState
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    _S.IDLE: frozenset({_S.WAITING_ON_INPUT, _S.RUNNABLE, _S.FAILED, _S.TERMINATING, _S.TERMINATED}),
    _S.WAITING_ON_INPUT: frozenset({_S.RUNNABLE, _S.FAILED, _S.TERMINATING, _S.TERMINATED}),
    _S.RUNNABLE: frozenset({_S.RUNNING, _S.FAILED, _S.TERMINATING, _S.TERMINATED}),
    _S.RUNNING: frozenset({_S.WAITING_ON_OUTPUT, _S.DONE, _S.FAILED, _S.DEBUG_HOLD, _S.RESTARTABLE, _S.TERMINATING}),
    _S.WAITING_ON_OUTPUT: frozenset({_S.DONE, _S.FAILED, _S.TERMINATING}),
    _S.RESTARTABLE: frozenset({_S.RUNNABLE, _S.FAILED, _S.TERMINATING}),
    _S.DEBUG_HOLD: frozenset({_S.FAILED, _S.TERMINATING}),
    _S.TERMINATING: frozenset({_S.TERMINATED}),
    _S.DONE: frozenset(),
    _S.FAILED: frozenset(),
    _S.TERMINATED: frozenset(),
}


class IllegalTransition(RunnerError):
    """A job was asked to move between two states the lifecycle does not connect."""


def check_transition(job_id: str, current: JobState, new: JobState) -> None:
    """Raise IllegalTransition unless the lifecycle allows `current` -> `new`."""
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none: it is final"
        raise IllegalTransition(f"{job_id} cannot go from {current.value} to {new.value} (allowed: {allowed})")
