"""The Usage tab on fixed events: CPU and memory sparklines from job.usage samples, or why there are none."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Sparkline, Static, TabbedContent

from runner.spec.events import JobUsage
from runner.tui.widgets.job_tree import JobTree
from runner.tui.widgets.usage_pane import NO_SAMPLES, NO_SAMPLES_ENDED
from tests.tui.conftest import until
from tests.tui.detail_helpers import SIZE, HeldApp, select
from tests.tui.events_fixture import ROOT_A, ROOT_B, ROOT_C, T0

pytestmark = pytest.mark.asyncio


def sample(seq: int, second: int, cpu: float, mib: int) -> JobUsage:
    return JobUsage(seq=seq, time=T0 + second * 1000, job=ROOT_A, root=ROOT_A, cpu_percent=cpu,
                    memory_bytes=mib * 2**20)


def shown(pilot: Pilot[Any], part: str) -> str:
    """What a line of the tab says ('' when it is hidden)."""
    static = pilot.app.screen.query_one(part, Static)
    return str(static.content) if static.display else ""


async def test_u_shows_cpu_and_memory_over_time_and_new_samples_extend_them() -> None:
    first = [sample(50 + n, 120 + 10 * n, cpu, mib) for n, (cpu, mib) in enumerate([(10, 100), (95, 300), (40, 200)])]
    held = HeldApp(first, [sample(60, 160, 70, 250)])
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        await select(pilot, ROOT_A)
        await pilot.press("u")
        screen = pilot.app.screen
        assert screen.query_one(TabbedContent).active == "usage"
        cpu, memory = screen.query_one("#cpu-spark", Sparkline), screen.query_one("#memory-spark", Sparkline)
        assert list(cpu.data or []) == [10, 95, 40] and cpu.display
        assert list(memory.data or []) == [100 * 2**20, 300 * 2**20, 200 * 2**20]
        assert shown(pilot, "#cpu-words") == "CPU 40% now, peak 95%, low 10%  (3 samples over 20s)"
        assert shown(pilot, "#memory-words") == "Memory 200 MiB now, peak 300 MiB, low 100 MiB"
        assert not shown(pilot, "#usage-empty")
        await held.release(pilot)
        assert list(cpu.data or []) == [10, 95, 40, 70]
        assert shown(pilot, "#cpu-words") == "CPU 70% now, peak 95%, low 10%  (4 samples over 40s)"


async def test_a_job_without_samples_says_the_engine_samples_running_jobs_or_that_it_ended_unsampled() -> None:
    held = HeldApp([sample(50, 120, 10, 100)])
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        await select(pilot, ROOT_C)
        await pilot.press("u")
        assert shown(pilot, "#usage-empty") == NO_SAMPLES
        assert not pilot.app.screen.query_one("#cpu-spark", Sparkline).display
        tree = pilot.app.screen.query_one(JobTree)
        tree.move_cursor(tree.nodes[ROOT_B])  # failed after a minute, never sampled: "yet" would mislead
        await until(pilot, "the ended job's words", lambda: shown(pilot, "#usage-empty") == NO_SAMPLES_ENDED)


def drawn(bars: Any) -> list[str]:
    """The rows of characters a sparkline draws on screen, top down."""
    lines = bars.render_lines(bars.region.reset_offset)
    return ["".join(segment.text for segment in line) for line in lines]


async def test_the_bars_rise_from_zero_so_one_sample_or_a_small_change_reads_as_it_is() -> None:
    held = HeldApp([sample(50, 120, 31, 200)], [sample(60, 122, 31, 190)])
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        await select(pilot, ROOT_A)
        await pilot.press("u")
        cpu, memory = pilot.app.screen.query_one("#cpu-spark"), pilot.app.screen.query_one("#memory-spark")
        rows = drawn(cpu)  # 3 rows of 8 eighths: 31 % of 24 is 7 eighths, under the first row's top
        assert len(rows) == 3 and set(rows[0]) == set(rows[1]) == {" "}, "one sample at 31 % is not a full bar"
        assert set(rows[2]) == {"▇"}
        await held.release(pilot)
        rows = drawn(memory)  # 190 of the 200 MiB peak: 95 %, 23 of 24 eighths, not a bar dropping to nothing
        assert rows[0][-1] == "▇" and {row[-1] for row in rows[1:]} == {"█"}
        assert {row[0] for row in rows} == {"█"}, "the peak fills the height"
