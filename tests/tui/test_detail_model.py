"""The view model's log and usage parts: each line keeps its time and stream, trees merge in arrival order, bounds."""

from __future__ import annotations

import tracemalloc

from runner.spec.events import JobUsage, LogLines
from runner.tui.model import LOG_LINES_KEPT, USAGE_SAMPLES_KEPT, JobsModel, LogLine
from tests.tui.events_fixture import MINUTE, ROOT_A, ROOT_B, SUB_A, T0, sample_events

LONG_LOG = 100_000
BATCH = 500


def model() -> JobsModel:
    jobs = JobsModel(lambda: T0 + 5 * MINUTE)
    jobs.apply_all(sample_events())
    return jobs


def log(seq: int, job: str, text: str, stream: str = "stdout", at: int = T0 + 3 * MINUTE) -> LogLines:
    return LogLines(seq=seq, time=at, job=job, root=ROOT_A, stream=stream, text=text)


def test_each_line_keeps_its_time_stream_and_event() -> None:
    jobs = model()
    jobs.apply(log(50, SUB_A, "reading\nwarning: slow disk\n", "stderr", at=T0 + 4 * MINUTE))
    assert list(jobs.jobs[SUB_A].log) == [LogLine(50, T0 + 4 * MINUTE, "stderr", "reading"),
                                          LogLine(50, T0 + 4 * MINUTE, "stderr", "warning: slow disk")]
    first = jobs.jobs[ROOT_A].log[0]
    assert (first.time, first.stream, first.text) == (T0 + 2 * MINUTE, "stdout", "splitting input")


def test_a_trees_log_is_every_jobs_lines_in_arrival_order() -> None:
    jobs = model()
    jobs.apply_all([log(50, SUB_A, "sub 1"), log(51, ROOT_A, "root 1\nroot 2"), log(52, SUB_A, "sub 2")])
    merged = [(job.id, line.text) for job, line in jobs.tree_log(SUB_A)]
    assert merged == [(ROOT_A, "splitting input"), (ROOT_A, "starting 1 subjob"), (SUB_A, "sub 1"),
                      (ROOT_A, "root 1"), (ROOT_A, "root 2"), (SUB_A, "sub 2")]
    assert jobs.tree_log(ROOT_B) == [], "another tree's lines are not in it"


def test_a_100k_line_log_keeps_the_last_lines_and_its_memory_stops_growing() -> None:
    jobs = model()
    batches = range(100, 100 + LONG_LOG // BATCH)
    tracemalloc.start()
    try:
        for seq in batches:
            jobs.apply(log(seq, ROOT_A, "\n".join(f"line {seq}.{n} " + "x" * 60 for n in range(BATCH))))
            if seq == batches[20_000 // BATCH]:
                early, _ = tracemalloc.get_traced_memory()
        late, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    kept = jobs.jobs[ROOT_A].log
    assert len(kept) == LOG_LINES_KEPT and kept[-1].text.startswith(f"line {batches[-1]}.{BATCH - 1} ")
    assert late - early < 256 * 1024, f"80,000 more lines grew the model by {late - early} bytes"


def test_usage_samples_are_kept_in_order_and_bounded() -> None:
    jobs = model()
    samples = [JobUsage(seq=100 + n, time=T0 + n * 1000, job=ROOT_A, root=ROOT_A, cpu_percent=n % 100,
                        memory_bytes=n * 2**20) for n in range(USAGE_SAMPLES_KEPT + 40)]
    change = jobs.apply_all(samples)
    usage = jobs.jobs[ROOT_A].usage
    assert change.jobs == {ROOT_A}, "the row shows the latest sample"
    assert len(usage) == USAGE_SAMPLES_KEPT
    assert usage[0].time == T0 + 40_000 and usage[-1].memory_bytes == (USAGE_SAMPLES_KEPT + 39) * 2**20
    assert jobs.jobs[ROOT_A].cpu_percent == (USAGE_SAMPLES_KEPT + 39) % 100
    assert not jobs.jobs[SUB_A].usage
