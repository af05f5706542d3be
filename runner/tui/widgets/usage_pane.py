"""The Usage tab: the selected job's CPU and memory over time, as sparklines of its job.usage samples."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from runner.tui._look import duration
from runner.tui.model import JobView

NO_SAMPLES = "no usage samples yet: the engine samples running jobs"


def usage_words(job: JobView) -> tuple[str, str]:
    """The CPU line and the memory line over the sparklines: now, peak, how many samples over how long."""
    samples = job.usage
    span = duration(samples[-1].time - samples[0].time)
    cpu = [s.cpu_percent for s in samples]
    memory = [s.memory_bytes for s in samples]
    over = f"{len(samples)} sample{'s' * (len(samples) != 1)} over {span}"
    mib = [m / 2**20 for m in memory]
    return (f"CPU {cpu[-1]:.0f}% now, peak {max(cpu):.0f}%, low {min(cpu):.0f}%  ({over})",
            f"Memory {mib[-1]:.0f} MiB now, peak {max(mib):.0f} MiB, low {min(mib):.0f} MiB")


class UsagePane(Vertical):
    """Two sparklines, CPU % and memory, or why there are none."""

    def compose(self) -> ComposeResult:
        """The words and the sparklines."""
        yield Static("Select a job.", id="usage-empty")
        yield Static("", id="cpu-words")
        yield Sparkline([], id="cpu-spark")
        yield Static("", id="memory-words")
        yield Sparkline([], id="memory-spark")

    def show(self, job: JobView | None) -> None:
        """The samples of `job` (all it keeps: a bounded history)."""
        has = job is not None and bool(job.usage)
        self.query_one("#usage-empty", Static).display = not has
        for part in ("#cpu-words", "#cpu-spark", "#memory-words", "#memory-spark"):
            self.query_one(part).display = has
        if job is None or not job.usage:
            self.query_one("#usage-empty", Static).update(NO_SAMPLES if job is not None else "Select a job.")
            return
        cpu, memory = usage_words(job)
        self.query_one("#cpu-words", Static).update(cpu)
        self.query_one("#memory-words", Static).update(memory)
        self.query_one("#cpu-spark", Sparkline).data = [s.cpu_percent for s in job.usage]
        self.query_one("#memory-spark", Sparkline).data = [float(s.memory_bytes) for s in job.usage]
