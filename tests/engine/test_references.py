"""Resolving job-based object references, in both documented forms and with `index`."""

from __future__ import annotations

from runner.engine.references import ReferencedJob, references_in, resolve
from runner.spec.job_states import JobState

A, B = "job-" + "A" * 24, "job-" + "B" * 24
FILE = {"$dnanexus_link": "file-" + "F" * 24}


def test_both_forms_and_index_resolve_when_done() -> None:
    jobs = {A: ReferencedJob(JobState.DONE, {"out": FILE, "many": [1, 2, 3]})}
    value = {"x": {"$dnanexus_link": {"job": A, "field": "out"}}, "y": {"job": A, "field": "out"},
             "z": [{"$dnanexus_link": {"job": A, "field": "many", "index": 2}}]}
    result = resolve(value, jobs.get)
    assert result.complete
    assert result.value == {"x": FILE, "y": FILE, "z": [3]}


def test_waits_on_jobs_that_are_not_done() -> None:
    jobs = {A: ReferencedJob(JobState.RUNNING, None), B: ReferencedJob(JobState.DONE, {"o": 1})}
    result = resolve([{"job": A, "field": "o"}, {"job": B, "field": "o"}], jobs.get)
    assert result.waiting_on == {A} and not result.failures
    assert result.value[1] == 1 and result.value[0] == {"job": A, "field": "o"}


def test_failures_are_explained() -> None:
    jobs = {A: ReferencedJob(JobState.FAILED, None), B: ReferencedJob(JobState.DONE, {"o": [1]})}
    result = resolve({"a": {"job": A, "field": "o"}, "b": {"job": B, "field": "missing"},
                      "c": {"$dnanexus_link": {"job": B, "field": "o", "index": 5}},
                      "d": {"job": "job-" + "C" * 24, "field": "o"}}, jobs.get)
    assert not result.complete
    assert result.failures == [f"the referenced job {A} is failed", f"the referenced job {B} has no output field 'missing'",
                               f"{B}:o has no element 5", f"the referenced job {'job-' + 'C' * 24} does not exist"]


def test_references_in_finds_nested_ones_only() -> None:
    value = {"a": [{"job": A, "field": "x"}], "b": {"c": {"$dnanexus_link": {"job": B, "field": "y", "index": 0}}},
             "file": FILE, "not_a_ref": {"job": "nope", "field": "x"}}
    assert [(r.job, r.field, r.index) for r in references_in(value)] == [(A, "x", None), (B, "y", 0)]
