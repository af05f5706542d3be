"""The Usage tab: the selected job's CPU, memory and (for a GPU job) GPU use over time, as sparklines."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from runner.tui._look import duration
from runner.tui.model import JobView, UsageSample
from runner.tui.widgets.usage_bars import UsageBars

NO_SAMPLES = "no usage samples yet: the engine samples running jobs"
NO_SAMPLES_ENDED = "no usage samples: the job ended before the engine sampled it (usage-interval-s)"
GPU_PARTS = ("#gpu-words", "#gpu-spark", "#gpu-memory-words", "#gpu-memory-spark")


def usage_words(job: JobView) -> tuple[str, str]:
    """The CPU line and the memory line over the sparklines: now, peak, how many samples over how long.

    The memory peak is the kernel's high-water mark where the samples carry it (it sees between samples).
    """
    samples = job.usage
    span = duration(samples[-1].time - samples[0].time)
    cpu = [s.cpu_percent for s in samples]
    over = f"{len(samples)} sample{'s' * (len(samples) != 1)} over {span}"
    mib = [s.memory_bytes / 2**20 for s in samples]
    peak = max(max(s.memory_bytes, s.memory_peak_bytes or 0) for s in samples) / 2**20
    return (f"CPU {cpu[-1]:.0f}% now, peak {max(cpu):.0f}%, low {min(cpu):.0f}%  ({over})",
            f"Memory {mib[-1]:.0f} MiB now, peak {peak:.0f} MiB, low {min(mib):.0f} MiB")


def gpu_words(samples: list[UsageSample]) -> tuple[str, str]:
    """The GPU utilisation line and the GPU memory line (of samples that have GPU readings)."""
    util = [s.gpu_percent or 0.0 for s in samples]
    mib = [(s.gpu_memory_bytes or 0) / 2**20 for s in samples]
    return (f"GPU {util[-1]:.0f}% now, peak {max(util):.0f}%, low {min(util):.0f}%",
            f"GPU memory {mib[-1]:.0f} MiB now, peak {max(mib):.0f} MiB")


class UsagePane(Vertical):
    """Sparklines of CPU % and memory (and GPU % and GPU memory for a GPU job), or why there are none."""

    def compose(self) -> ComposeResult:
        """The words and the sparklines."""
        yield Static("Select a job.", id="usage-empty")
        yield Static("", id="cpu-words")
        yield UsageBars([], id="cpu-spark")
        yield Static("", id="memory-words")
        yield UsageBars([], id="memory-spark")
        yield Static("", id="gpu-words")
        yield UsageBars([], id="gpu-spark")
        yield Static("", id="gpu-memory-words")
        yield UsageBars([], id="gpu-memory-spark")

    def show(self, job: JobView | None) -> None:
        """The samples of `job` (all it keeps: a bounded history)."""
        has = job is not None and bool(job.usage)
        gpu_samples = [s for s in job.usage if s.gpu_percent is not None] if job is not None else []
        self.query_one("#usage-empty", Static).display = not has
        for part in ("#cpu-words", "#cpu-spark", "#memory-words", "#memory-spark"):
            self.query_one(part).display = has
        for part in GPU_PARTS:
            self.query_one(part).display = has and bool(gpu_samples)
        if job is None or not job.usage:
            said = "Select a job." if job is None else NO_SAMPLES_ENDED if job.ended is not None else NO_SAMPLES
            self.query_one("#usage-empty", Static).update(said)
            return
        cpu, memory = usage_words(job)
        self.query_one("#cpu-words", Static).update(cpu)
        self.query_one("#memory-words", Static).update(memory)
        cpu_data = [s.cpu_percent for s in job.usage]
        set_bars(self.query_one("#cpu-spark", UsageBars), cpu_data, max(100.0, *cpu_data))
        set_bars(self.query_one("#memory-spark", UsageBars), [float(s.memory_bytes) for s in job.usage])
        if gpu_samples:
            util, used = gpu_words(gpu_samples)
            self.query_one("#gpu-words", Static).update(util)
            self.query_one("#gpu-memory-words", Static).update(used)
            set_bars(self.query_one("#gpu-spark", UsageBars), [s.gpu_percent or 0.0 for s in gpu_samples], 100.0)
            set_bars(self.query_one("#gpu-memory-spark", UsageBars),
                     [float(s.gpu_memory_bytes or 0) for s in gpu_samples])


def set_bars(bars: UsageBars, data: list[float], top: float | None = None) -> None:
    """Give the bars their samples and their top (a percentage's 100, else the highest sample)."""
    bars.top = top if top is not None else max(data, default=0.0)
    bars.data = data
