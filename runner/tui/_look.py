"""How the TUI shows states and times: one colour per job state, the same in every widget."""

from __future__ import annotations

from rich.text import Text

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
    "restartable": "light_goldenrod3",
}
TIME_STYLES = {TimeLevel.OK: "", TimeLevel.WARNING: "bold yellow", TimeLevel.TIMED_OUT: "bold red",
               TimeLevel.NONE: ""}
STATE_WIDTH = 8


def state_text(state: str) -> Text:
    """The state, short enough for a tree row, in its colour."""
    short = {"waiting_on_input": "wait_in", "waiting_on_output": "wait_out", "terminating": "stopping",
             "terminated": "stopped", "debug_hold": "hold", "restartable": "restart"}.get(state, state)
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


def job_label(job: JobView, now: int) -> Text:
    """One tree row: state, name and entry point, elapsed, time left, instance type, try, why it waits."""
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
    label.append(f"  {job.instance_type}", style="dim")
    if job.try_:
        label.append(f"  try {job.try_}")
    why = job.waiting_for()
    if why:
        label.append(f"  {why}", style="italic")
    if job.cpu_percent is not None and job.memory_bytes is not None:
        label.append(f"  {job.cpu_percent:.0f}% {job.memory_bytes / 2**20:.0f} MiB", style="dim")
    return label
