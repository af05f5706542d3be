"""The Usage tab of a GPU job: GPU utilisation and memory drawn under CPU and memory; the model reads a sample's GPUs
(mean utilisation, memory in all) and ignores a malformed GPU list."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Sparkline, Static

from runner.spec.events import JobStateChanged, JobUsage
from runner.tui.model import JobsModel, UsageSample
from tests.tui.detail_helpers import SIZE, HeldApp, select
from tests.tui.events_fixture import ROOT_A, T0, sample_events

MIB = 2**20


def gpu_sample(seq: int, second: int, utils: list[float], mib: int, peak: int | None = None) -> JobUsage:
    gpus = [{"index": i, "util_percent": u, "memory_bytes": mib * MIB, "memory_total_bytes": 80 * 1024 * MIB}
            for i, u in enumerate(utils)]
    return JobUsage(seq=seq, time=T0 + second * 1000, job=ROOT_A, root=ROOT_A, cpu_percent=100.0,
                    memory_bytes=500 * MIB, memory_peak_bytes=peak, gpus=gpus)


def shown(pilot: Pilot[Any], part: str) -> str:
    static = pilot.app.screen.query_one(part, Static)
    return str(static.content) if static.display else ""


def test_a_sample_averages_its_gpus_utilisation_and_adds_their_memory() -> None:
    sample = UsageSample.of(gpu_sample(1, 0, [90.0, 30.0], 1024))
    assert (sample.gpu_percent, sample.gpu_memory_bytes) == (60.0, 2048 * MIB)
    garbled = JobUsage(seq=2, time=T0, job=ROOT_A, root=ROOT_A, cpu_percent=1.0, memory_bytes=1,
                       gpus="not a list")  # type: ignore[arg-type]
    assert UsageSample.of(garbled).gpu_percent is None


@pytest.mark.asyncio
async def test_a_gpu_job_shows_gpu_lines_and_the_kernels_memory_peak() -> None:
    held = HeldApp([gpu_sample(50, 120, [80.0], 2048, peak=900 * MIB), gpu_sample(51, 130, [20.0], 4096)])
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        await select(pilot, ROOT_A)
        await pilot.press("u")
        assert list(pilot.app.screen.query_one("#gpu-spark", Sparkline).data or []) == [80.0, 20.0]
        assert shown(pilot, "#gpu-words") == "GPU 20% now, peak 80%, low 20%"
        assert shown(pilot, "#gpu-memory-words") == "GPU memory 4096 MiB now, peak 4096 MiB"
        assert shown(pilot, "#memory-words") == "Memory 500 MiB now, peak 900 MiB, low 500 MiB"


def test_a_row_drops_its_usage_figures_once_the_job_stops_running_but_the_tab_keeps_the_history() -> None:
    model = JobsModel(lambda: T0)
    model.apply_all([*sample_events(), gpu_sample(50, 120, [80.0], 2048)])
    assert (model.jobs[ROOT_A].cpu_percent, model.jobs[ROOT_A].memory_bytes) == (100.0, 500 * MIB)
    model.apply(JobStateChanged(seq=51, time=T0 + 130_000, job=ROOT_A, root=ROOT_A, from_state="running",
                                to_state="done"))
    assert model.jobs[ROOT_A].cpu_percent is None and model.jobs[ROOT_A].memory_bytes is None
    assert len(model.jobs[ROOT_A].usage) == 1
