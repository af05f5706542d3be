"""The usage sampler on the fake backend: CPU % from two readings, the job's usage record, thinned job.usage events,
the per-round cap, GPUs, and the sampling task itself."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from runner.backends.base import Usage
from runner.backends.gpu_usage import GpuUsage, NvmlGpuReader
from runner.config import SettingError, parse_value
from runner.engine import usage as usage_module
from runner.engine.scheduler import Host
from runner.engine.usage import KEEPALIVE_S, Sampled, UsageSampler
from runner.engine.usage_record import read_lines, usage_path, usage_summary
from runner.spec.events import JobUsage
from runner.store.events import read_after
from tests.engine.conftest import Harness, Make, outputs

pytestmark = pytest.mark.asyncio
MIB = 2**20


class Clock:
    """The sampler's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedGpus:
    """A GPU reader playing one reading per round for every GPU asked about."""

    def __init__(self, *rounds: tuple[float, int]) -> None:
        self.rounds = list(rounds)
        self.asked: list[tuple[int, ...]] = []

    def read(self, indices: Sequence[int]) -> list[GpuUsage]:
        self.asked.append(tuple(indices))
        util, used = self.rounds.pop(0) if len(self.rounds) > 1 else self.rounds[0]
        return [GpuUsage(i, util, used, 80 * 2**30) for i in indices]


@pytest.fixture(autouse=True)
def sampling_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's own sampling task off: each test drives the rounds (an override turns it on again)."""
    monkeypatch.setenv("RUNNER_USAGE_INTERVAL_S", "0")


def usage_events(h: Harness, job: str | None = None) -> list[JobUsage]:
    events = [e for e in read_after(h.db, 0, kinds=["job.usage"], limit=10_000) if isinstance(e, JobUsage)]
    return [e for e in events if job is None or e.job == job]


async def running(h: Harness, *readings: Usage, count: int = 1) -> list[str]:
    """`count` jobs whose fake containers run (until finished) playing `readings`, started and running."""
    h.script = lambda spec: outputs(spec, {}, duration_s=None, usage=readings)
    jobs = [h.run() for _ in range(count)]
    for job in jobs:
        await h.in_state(job, "running")
    await h.until(lambda: len(h.backend.running_jobs()) == count, "the fake containers to start")
    return jobs


def rounds(h: Harness, clock: Clock, times: int, step_s: float = 2.0) -> list[int]:
    """`times` sampling rounds, `step_s` apart; the events each sent."""
    h.engine.usage.clock = clock
    sent = []
    for _ in range(times):
        sent.append(h.engine.usage.sample_once(h.engine.sampled_tries()))
        clock.now += step_s
    return sent


async def test_cpu_percent_is_cpu_time_over_wall_time_and_each_sample_is_kept_with_the_job(make: Make) -> None:
    h = await make()
    [job] = await running(h, Usage(10.0, 100 * MIB, 120 * MIB), Usage(13.0, 200 * MIB, 250 * MIB),
                          Usage(13.2, 200 * MIB, 250 * MIB))
    assert rounds(h, Clock(), 3) == [0, 1, 1]  # the first reading is the baseline
    events = usage_events(h, job)
    assert [e.cpu_percent for e in events] == [150.0, 10.0]  # 3 CPU-seconds in 2 s: one and a half cores
    assert [e.memory_bytes for e in events] == [200 * MIB, 200 * MIB]
    assert events[0].memory_peak_bytes == 250 * MIB and events[0].root == job and events[0].try_ == 0
    assert [line["cpuPercent"] for line in read_lines(usage_path(h.home / "jobs" / job))] == [150.0, 10.0]
    summary = usage_summary(h.home / "jobs" / job, 0)
    assert summary is not None
    assert (summary["samples"], summary["cpuPercentMax"], summary["cpuPercentMean"]) == (2, 150.0, 80.0)
    assert (summary["memoryBytesPeak"], summary["memoryBytesLast"]) == (250 * MIB, 200 * MIB)
    assert usage_summary(h.home / "jobs" / job, 1) is None
    h.backend.finish(job)
    await h.ended(job)


async def test_a_steady_job_sends_an_event_only_every_keepalive_but_a_change_at_once(make: Make) -> None:
    h = await make()
    steady = [Usage(2.0 * n, 500 * MIB) for n in range(20)]
    [job] = await running(h, *steady, Usage(40.0, 520 * MIB), Usage(42.0, 700 * MIB), Usage(42.1, 700 * MIB))
    clock = Clock()
    sent = rounds(h, clock, 20)
    assert sum(sent) == 2 and sent[1] == 1  # the first sample, then one when KEEPALIVE_S has passed
    assert sent.index(1, 2) == 1 + int(KEEPALIVE_S / 2)
    assert rounds(h, clock, 1) == [0]  # +20 MiB of 500: under a step
    assert rounds(h, clock, 2) == [1, 1]  # memory up a third, then CPU down to 5 %
    assert [e.cpu_percent for e in usage_events(h, job)][-1] == 5.0
    assert len(read_lines(usage_path(h.home / "jobs" / job))) == 22  # the record keeps every sample
    h.backend.finish(job)
    await h.ended(job)


async def test_a_round_sends_at_most_its_cap_and_the_rest_go_in_the_next_round(make: Make,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(usage_module, "MAX_EVENTS_PER_ROUND", 3)
    h = await make(cores=8)
    jobs = await running(h, *[Usage(1.0 * n, 100 * MIB) for n in range(5)], count=4)
    assert rounds(h, Clock(), 3) == [0, 3, 1]
    assert sorted(e.job for e in usage_events(h)) == sorted(jobs)
    for job in jobs:
        h.backend.finish(job)
        await h.ended(job)


async def test_a_gpu_job_samples_its_own_gpus(make: Make) -> None:
    h = await make()
    [job] = await running(h, *[Usage(1.0 * n, 100 * MIB) for n in range(4)])
    gpus, clock = ScriptedGpus((90.0, 4 * 2**30), (92.0, 4 * 2**30), (20.0, 4 * 2**30)), Clock()
    sampler = UsageSampler(h.db, h.home, h.backend, lambda: [Sampled(t.job_id, t.token, (1,))
                                                             for t in h.engine.sampled_tries()], gpus, clock)
    sent = []
    for _ in range(4):
        sent.append(sampler.sample_once(sampler.tries()))
        clock.now += 2
    assert sent == [0, 1, 0, 1]  # GPU 92 % after 90 % is no news; 20 % is
    events = usage_events(h, job)
    assert events[0].gpus == [{"index": 1, "util_percent": 90.0, "memory_bytes": 4 * 2**30,
                               "memory_total_bytes": 80 * 2**30}]
    assert set(gpus.asked) == {(1,)}
    summary = usage_summary(h.home / "jobs" / job, 0)
    assert summary is not None and (summary["gpuPercentMax"], summary["gpuMemoryBytesPeak"]) == (92.0, 4 * 2**30)
    h.backend.finish(job)
    await h.ended(job)


async def test_the_engine_samples_by_itself_at_the_interval_set(make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_USAGE_INTERVAL_S", "0.05")
    h = await make()
    [job] = await running(h, *[Usage(0.01 * n * n, (100 + 30 * n) * MIB) for n in range(400)])
    await h.until(lambda: len(usage_events(h, job)) >= 3, "three job.usage events")
    h.backend.finish(job)
    done = await h.ended(job)
    assert done["state"] == "done", done.get("failureMessage")
    summary = usage_summary(h.home / "jobs" / job, 0)
    assert summary is not None and summary["samples"] >= 3 and summary["memoryBytesPeak"] > 100 * MIB


async def test_an_interval_of_0_turns_sampling_off_and_a_negative_one_is_refused(make: Make) -> None:
    h = await make()
    assert h.engine.usage.start(0) is None
    assert parse_value("usage-interval-s", "0") == 0.0
    with pytest.raises(SettingError, match=r"usage_interval_s must be a number 0 or more \(0: off\), not '-2'"):
        parse_value("usage_interval_s", "-2")


async def test_a_host_without_nvml_reads_no_gpus() -> None:
    assert NvmlGpuReader().read([0, 1]) == []


async def test_the_engine_samples_the_gpus_the_scheduler_gave_each_job(make: Make) -> None:
    host = Host(cpu_ids=tuple(range(32)), memory_bytes=256 * 2**30, gpu_ids=(0, 1), nvidia_driver="535.104.05")
    h = await make(host=host, instance_type="mem3_ssd1_gpu_x8")
    jobs = await running(h, Usage(1.0, 100 * MIB), count=2)
    by_job = {t.job_id: t.gpu_ids for t in h.engine.sampled_tries()}
    assert sorted(by_job) == sorted(jobs) and sorted(by_job.values()) == [(0,), (1,)]
    for job in jobs:
        h.backend.finish(job)
        await h.ended(job)
