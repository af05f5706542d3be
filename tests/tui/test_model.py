"""The view model, fed with real event objects and a fixed clock: tree order, times, levels, why a job waits."""

from __future__ import annotations

import dataclasses

from runner.spec.events import JobOutput, LogLines
from runner.tui.model import LOG_LINES_KEPT, JobsModel, TimeLevel
from tests.tui.events_fixture import (
    MINUTE,
    ROOT_A,
    ROOT_B,
    ROOT_C,
    SUB_A,
    T0,
    created,
    sample_events,
    state,
)


def model_at(now: int) -> JobsModel:
    model = JobsModel(lambda: now)
    model.apply_all(sample_events())
    return model


def test_roots_come_newest_first_and_subjobs_under_their_parent() -> None:
    model = model_at(T0 + 5 * MINUTE)
    order = [(depth, job.id) for depth, job in model.tree_order()]
    assert order == [(0, ROOT_C), (0, ROOT_A), (1, SUB_A), (0, ROOT_B)]
    assert [job.id for job in model.tree_of(SUB_A)] == [ROOT_A, SUB_A]
    assert model.last_seq == 13


def test_state_name_entry_point_and_instance_type_come_from_the_events() -> None:
    job = model_at(T0).jobs[SUB_A]
    assert (job.state, job.name, job.function, job.instance_type) == (
        "waiting_on_input", "scatter_gather_bash:process", "process", "mem1_ssd1_v2_x2")


def test_elapsed_runs_with_the_clock_while_running_and_stops_at_the_end() -> None:
    model = model_at(T0 + 5 * MINUTE)
    assert model.jobs[ROOT_A].elapsed_ms(model.clock()) == 3 * MINUTE
    assert model.jobs[ROOT_B].elapsed_ms(model.clock()) == 60_000
    assert model.jobs[ROOT_C].elapsed_ms(model.clock()) is None


def test_time_left_and_its_levels_follow_the_effective_timeout() -> None:
    model = model_at(T0 + 5 * MINUTE)
    job = model.jobs[ROOT_A]
    assert job.time_level(model.clock()) is TimeLevel.NONE
    assert model.untimed_running() == [ROOT_A]
    assert model.set_timeout(ROOT_A, 30 * MINUTE) and not model.set_timeout(ROOT_A, 30 * MINUTE)
    assert job.time_left_ms(T0 + 5 * MINUTE) == 27 * MINUTE
    assert job.time_level(T0 + 5 * MINUTE) is TimeLevel.OK
    assert job.time_level(T0 + 2 * MINUTE + 27 * MINUTE) is TimeLevel.WARNING
    assert job.time_level(T0 + 2 * MINUTE + 30 * MINUTE) is TimeLevel.TIMED_OUT
    assert model.untimed_running() == []


def test_a_job_failed_on_its_timeout_is_timed_out_and_keeps_its_reason() -> None:
    job = model_at(T0 + 5 * MINUTE).jobs[ROOT_B]
    assert job.time_level(T0 + 5 * MINUTE) is TimeLevel.TIMED_OUT
    assert (job.failure_reason, job.failure_message) == (
        "JobTimeoutExceeded", "The job ran past its timeout of 1 minute")
    assert model_at(T0).failed_roots() == {ROOT_B}


def test_why_a_job_waits_is_told_when_the_events_know() -> None:
    model = model_at(T0 + 5 * MINUTE)
    assert model.jobs[SUB_A].waiting_for() == f"waiting on {ROOT_B}"
    assert model.jobs[ROOT_C].waiting_for() == "waiting for 4 cores and 8.0 GiB"
    assert model.jobs[ROOT_A].waiting_for() is None


def test_a_new_try_restarts_the_clock() -> None:
    model = JobsModel(lambda: T0 + 10 * MINUTE)
    job_id = "job-R00000000000000000000001"
    model.apply_all([
        created(1, job_id, job_id, None, "restart_demo"),
        state(2, job_id, job_id, "idle", "runnable", T0),
        state(3, job_id, job_id, "runnable", "running", T0),
        state(4, job_id, job_id, "running", "restartable", T0 + MINUTE),
        state(5, job_id, job_id, "restartable", "runnable", T0 + MINUTE, try_=1),
        state(6, job_id, job_id, "runnable", "running", T0 + 8 * MINUTE, try_=1),
    ])
    job = model.jobs[job_id]
    assert (job.try_, job.elapsed_ms(model.clock())) == (1, 2 * MINUTE)


def test_changes_say_which_rows_to_relabel_and_when_the_shape_changed() -> None:
    model = model_at(T0)
    change = model.apply(state(14, ROOT_C, ROOT_C, "runnable", "running", T0 + 5 * MINUTE))
    assert (change.jobs, change.shape) == ({ROOT_C}, False)
    change = model.apply(created(15, "job-D00000000000000000000001", ROOT_C, ROOT_C, "hello_bash:sub"))
    assert change.shape and [j.id for _, j in model.tree_order()][:2] == [ROOT_C, "job-D00000000000000000000001"]
    assert model.apply(created(15, "job-D00000000000000000000001", ROOT_C, ROOT_C, "again")).jobs == set()
    out = model.apply(JobOutput(seq=16, time=T0, job=ROOT_C, root=ROOT_C, output={"greeting": "hi"}))
    assert out.jobs == {ROOT_C} and model.jobs[ROOT_C].output == {"greeting": "hi"}


def test_logs_are_kept_per_job_and_bounded() -> None:
    model = model_at(T0)
    assert [line.text for line in model.jobs[ROOT_A].log] == ["splitting input", "starting 1 subjob"]
    text = "\n".join(f"line {n}" for n in range(LOG_LINES_KEPT + 50))
    change = model.apply(LogLines(seq=20, time=T0, job=ROOT_A, root=ROOT_A, stream="stdout", text=text))
    assert change.logs == {ROOT_A} and not change.jobs
    log = model.jobs[ROOT_A].log
    assert len(log) == LOG_LINES_KEPT and log[-1].text == f"line {LOG_LINES_KEPT + 49}"


def test_events_of_jobs_never_created_are_ignored() -> None:
    model = model_at(T0)
    assert model.apply(state(30, "job-Z00000000000000000000001", ROOT_A, "idle", "runnable", T0)).jobs == set()


def test_a_timeout_in_the_creation_event_needs_no_describe() -> None:
    model = JobsModel(lambda: T0 + 5 * MINUTE)
    model.apply_all([dataclasses.replace(created(1, ROOT_C, ROOT_C, None, "timeout_demo", at=T0), timeout=10 * MINUTE),
                     state(2, ROOT_C, ROOT_C, "idle", "runnable", T0),
                     state(3, ROOT_C, ROOT_C, "runnable", "running", T0)])
    job = model.jobs[ROOT_C]
    assert job.time_left_ms(T0 + 5 * MINUTE) == 5 * MINUTE
    assert model.untimed_running() == [], "nothing to ask describe for"
