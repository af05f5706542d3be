"""SVG snapshots of the detail pane's tabs: fixed events, a fixed clock, and fixed describe answers, no engine.

The describe answers are handed to the pane the way the screen's describe worker hands the engine's over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from runner.spec.events import Event, JobOutput, JobUsage
from runner.tui.app import RunnerApp, make_app
from runner.tui.widgets.detail import DetailPane
from runner.tui.widgets.io_pane import IoPane
from tests.tui.detail_helpers import log
from tests.tui.events_fixture import MINUTE, ROOT_A, ROOT_B, SUB_A, T0, sample_events

SOURCES = Path(__file__).parent / "sources"
READS = "file-R00000000000000000000001"
REPORT = "file-P00000000000000000000001"
FILES = {READS: {"name": "reads.txt", "size": 12_345}, REPORT: {"name": "report.txt", "size": 812}}


def events() -> list[Event]:
    """The sample trees, a few lines of both jobs of A (one on stderr), usage samples and A's output."""
    more: list[Event] = [
        log(50, SUB_A, "processing chunk 1 of 3"),
        log(51, ROOT_A, "waiting for 1 subjob"),
        log(52, SUB_A, "warning: chunk 2 is empty", "stderr"),
        log(53, SUB_A, "processing chunk 3 of 3"),
        log(54, ROOT_A, "gathering the chunks"),
    ]
    more += [JobUsage(seq=60 + n, time=T0 + 2 * MINUTE + n * 5000, job=ROOT_A, root=ROOT_A,
                      cpu_percent=(n * 37) % 100, memory_bytes=(200 + n * 8) * 2**20) for n in range(24)]
    more.append(JobOutput(seq=90, time=T0 + 4 * MINUTE, job=ROOT_A, root=ROOT_A, output={
        "report": {"$dnanexus_link": REPORT}, "chunks": 3,
        "pending": {"$dnanexus_link": {"job": SUB_A, "field": "counted"}}}))
    return [*sample_events(), *more]


def fixed_app() -> RunnerApp:
    return make_app(None, lambda: T0 + 5 * MINUTE, paths=[SOURCES], events=events())


async def shown(pilot: Pilot[Any]) -> None:
    """Wait until every event is applied, then put the cursor on tree A's root."""
    app = pilot.app
    assert isinstance(app, RunnerApp)
    for _ in range(100):
        if app.model.last_seq == 90 and not app.feed.drain_pending():
            break
        await pilot.pause(0.05)
    await pilot.press("down")


async def described(pilot: Pilot[Any], job: str, description: dict[str, Any]) -> None:
    """Hand the pane `job`'s describe and the files' describes, as the workers would."""
    detail = pilot.app.screen.query_one(DetailPane)
    detail.show_describe(job, description)
    io = pilot.app.screen.query_one(IoPane)
    for file_id, answer in FILES.items():
        io._got_object(file_id, answer)
    await pilot.pause()


def test_the_whole_trees_log_searched(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await shown(pilot)
        await pilot.press("tab", "tab", "a", "slash", *"chunk", "enter")

    assert snap_compare(fixed_app(), terminal_size=(120, 36), run_before=run_before)


def test_the_input_output_tab(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await shown(pilot)
        await pilot.press("i")
        await described(pilot, ROOT_A, {"id": ROOT_A, "state": "running", "input": {
            "reads": {"$dnanexus_link": READS}, "chunk_size": 1000, "label": "run 7"}})

    assert snap_compare(fixed_app(), terminal_size=(120, 36), run_before=run_before)


def test_the_usage_tab(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await shown(pilot)
        await pilot.press("u")

    assert snap_compare(fixed_app(), terminal_size=(120, 36), run_before=run_before)


def test_the_describe_tab_of_a_failed_job(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await shown(pilot)
        await pilot.press("down", "down", "d")
        await described(pilot, ROOT_B, {
            "id": ROOT_B, "name": "timeout_demo", "state": "failed", "failureReason": "JobTimeoutExceeded",
            "failureMessage": "The job ran past its timeout of 1 minute", "timeout": 60_000,
            "failureFrom": {"id": ROOT_B, "name": "timeout_demo"}, "dependsOn": [],
            "runInput": {"seconds": 600}, "output": None})

    assert snap_compare(fixed_app(), terminal_size=(120, 36), run_before=run_before)
