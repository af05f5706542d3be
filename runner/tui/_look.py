"""How the TUI shows states and times: one colour per job state, the same in every widget, and the job rows."""

from __future__ import annotations

from rich.text import Text

from runner.tui.capacity import Capacity, needs_text
from runner.tui.model import JobView, TimeLevel

STATE_COLOURS: dict[str, str] = {
    "idle": "grey58",
    "waiting_on_input": "yellow",
    "waiting_on_output": "khaki1",
    "runnable": "cyan",
    "running": "dodger_blue1",
    "done": "green",
    "failed": "red",
    "terminating": "dark_orange",
    "terminated": "magenta",
    "debug_hold": "orchid1",
    "restartable": "light_slate_blue",
}
SHORT_NAMES = {"waiting_on_input": "wait_in", "waiting_on_output": "wait_out", "terminating": "stopping",
               "terminated": "stopped", "debug_hold": "hold", "restartable": "restart"}
CAPPED_MARK = "↓"
"""After an instance type larger than the host (more cores, memory or GPUs): the job runs cut down to the host."""
TIME_STYLES = {TimeLevel.OK: "", TimeLevel.WARNING: "bold yellow", TimeLevel.TIMED_OUT: "bold red",
               TimeLevel.NONE: ""}
STATE_WIDTH = 8


def state_text(state: str) -> Text:
    """The state, short enough for a tree row, in its colour."""
    short = SHORT_NAMES.get(state, state)
    return Text(f"{short:<{STATE_WIDTH}}", style=STATE_COLOURS.get(state, "white"))


def duration(ms: int) -> str:
    """A duration the way people read one: 45s, 3m05s, 2h07m, 3d04h."""
    seconds = max(0, ms) // 1000
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def state_legend() -> Text:
    """Every state as the rows show it, in its colour, with its full name where the row shortens it."""
    legend = Text()
    for state, colour in STATE_COLOURS.items():
        short = SHORT_NAMES.get(state)
        legend.append(short or state, style=colour)
        legend.append(f" ({state})  " if short else "  ", style="dim" if short else "")
    return legend


def job_label(job: JobView, now: int, host: Capacity | None = None, free: Capacity | None = None) -> Text:
    """One tree row: state, name and entry point, elapsed, time left, why it waits, instance type, try, usage.

    With the host's capacity, an instance type larger than the host is marked (CAPPED_MARK), and a runnable
    job says what it needs of the `free` room.
    """
    label = state_text(job.state)
    name = job.name if job.name.endswith(":" + job.function) else f"{job.name}:{job.function}"
    label.append(f" {name}", style="bold")
    elapsed = job.elapsed_ms(now)
    if elapsed is not None:
        label.append(f"  {duration(elapsed)}")
    left = job.time_left_ms(now)
    level = job.time_level(now)
    if level is TimeLevel.TIMED_OUT:
        label.append("  timed out", style=TIME_STYLES[level])
    elif left is not None and job.ended is None:
        label.append(f"  {duration(left)} left", style=TIME_STYLES[level])
    request = Capacity.of_resources(job.resources)
    if job.state == "runnable" and host is not None and free is not None:
        label.append(f"  {needs_text(request, host, free)}", style="italic")
    elif why := job.waiting_for():
        label.append(f"  {why}", style="italic")
    label.append(f"  {job.instance_type}", style="dim")
    if host is not None and request.exceeds(host):
        label.append(CAPPED_MARK, style="bold yellow")
    if job.try_:
        label.append(f"  try {job.try_}")
    if job.cpu_percent is not None and job.memory_bytes is not None:
        label.append(f"  {job.cpu_percent:.0f}% {job.memory_bytes / 2**20:.0f} MiB", style="dim")
    return label
