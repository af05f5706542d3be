"""Admission of runnable jobs against the host's capacity."""

from __future__ import annotations

from runner.engine.scheduler import Candidate, Resources, jobs_to_start

GIB = 1024**3
HOST = Resources(cores=2, memory_bytes=24 * GIB, gpus=0)


def one_core(job_id: str, rank: int = 0, created: int = 0) -> Candidate:
    return Candidate(job_id, Resources(1, 4 * GIB), rank, created)


def test_fills_the_host_and_no_more() -> None:
    queue = [one_core(f"job-{i}", created=i) for i in range(32)]
    assert jobs_to_start(queue, [], HOST) == ["job-0", "job-1"]
    assert jobs_to_start(queue[1:], [queue[0]], HOST) == ["job-1"]
    assert jobs_to_start(queue[2:], queue[:2], HOST) == []


def test_rank_then_age() -> None:
    queue = [one_core("job-old", created=1), one_core("job-new", created=5), one_core("job-urgent", rank=10, created=9)]
    assert jobs_to_start(queue, [], HOST) == ["job-urgent", "job-old"]


def test_a_job_larger_than_the_host_runs_alone() -> None:
    huge = Candidate("job-huge", Resources(16, 64 * GIB), created=0)
    assert jobs_to_start([huge, one_core("job-small", created=1)], [], HOST) == ["job-huge"]
    assert jobs_to_start([one_core("job-small", created=1)], [huge], HOST) == []


def test_the_head_is_not_passed_over() -> None:
    big = Candidate("job-big", Resources(2, 4 * GIB), created=0)
    assert jobs_to_start([big, one_core("job-small", created=1)], [one_core("job-running")], HOST) == []


def test_gpus_are_counted() -> None:
    gpu_host = Resources(8, 64 * GIB, gpus=1)
    gpu_job = Candidate("job-gpu", Resources(1, GIB, gpus=1))
    assert jobs_to_start([gpu_job], [], gpu_host) == ["job-gpu"]
    assert jobs_to_start([gpu_job], [Candidate("job-other", Resources(1, GIB, gpus=1))], gpu_host) == []
    assert jobs_to_start([gpu_job], [], HOST) == ["job-gpu"]
