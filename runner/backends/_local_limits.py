"""The local backend's limits: a cgroup v2 per job where the engine may make one, else a psutil watchdog.

cgroup v2: the engine's own cgroup (from /proc/self/cgroup) must be writable by it (delegated, as
`systemd-run --user --scope -p Delegate=yes` makes one). The engine moves itself into a leaf `engine/`, turns
on the memory, cpu, cpuset and pids controllers for the children, and gives each job try its own
`job-<id>/` with memory.max, memory.swap.max = 0, cpu.max, cpuset.cpus and pids.max. The kernel then
enforces the limits; an OOM kill shows in memory.events.

Otherwise (cgroup v1, a cgroup that is not ours): the watchdog sums the RSS of the job's process tree every
half second and kills the tree over the memory limit (AppInsufficientResourceError), and the job is pinned
to its cores with sched_setaffinity (`nproc` sees them; `os.cpu_count()` still reports the host's).
Neither mode limits disk, and neither isolates the network or the file system.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "cpu", "cpuset", "pids")
CPU_PERIOD_US = 100_000
WATCHDOG_S = 0.5


@dataclass(frozen=True, slots=True)
class LimitMode:
    """How the local backend enforces limits: `cgroup` (with the parent folder of job cgroups) or `watchdog`."""

    kind: str
    base: Path | None
    why: str


def _own_cgroup() -> Path | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            return CGROUP_ROOT / line[3:].lstrip("/")
    return None


def detect_mode() -> LimitMode:
    """What this machine allows, without changing anything."""
    if not (CGROUP_ROOT / "cgroup.controllers").is_file():
        return LimitMode("watchdog", None, "/sys/fs/cgroup is not a cgroup v2 hierarchy")
    own = _own_cgroup()
    if own is None or own == CGROUP_ROOT:
        return LimitMode("watchdog", None, "the engine runs in the root cgroup, which it must not divide")
    if not os.access(own, os.W_OK) or not os.access(own / "cgroup.subtree_control", os.W_OK):
        return LimitMode("watchdog", None, f"the engine's cgroup {own} is not delegated to this user")
    available = set((own / "cgroup.controllers").read_text().split())
    missing = [name for name in CONTROLLERS if name not in available]
    if missing:
        return LimitMode("watchdog", None, f"the controllers {', '.join(missing)} are not delegated to {own}")
    return LimitMode("cgroup", own, f"cgroup v2 under {own}")


def enable_cgroups(mode: LimitMode) -> LimitMode:
    """Move the engine into `base`/engine and enable the controllers for job cgroups; the mode that holds."""
    if mode.kind != "cgroup" or mode.base is None:
        return mode
    base = mode.base
    try:
        (base / "engine").mkdir(exist_ok=True)
        (base / "engine" / "cgroup.procs").write_text(f"{os.getpid()}\n")
        (base / "cgroup.subtree_control").write_text(" ".join(f"+{name}" for name in CONTROLLERS) + "\n")
    except OSError as exc:
        return LimitMode("watchdog", None, f"the cgroup {base} could not be divided ({exc.strerror})")
    return mode


class JobCgroup:
    """The cgroup of one job try: made with its limits, joined by the job's first process, killed, removed."""

    def __init__(self, base: Path, job_id: str) -> None:
        self.path = base / f"job-{job_id}"

    def create(self, cores: list[int], cpus: float, memory_bytes: int, pids_limit: int) -> None:
        """Make the cgroup and write its limits (a leftover of an earlier engine is replaced)."""
        self.remove()
        self.path.mkdir()
        self._write("cpuset.cpus", ",".join(str(core) for core in cores))
        if cpus > 0:
            self._write("cpu.max", f"{round(cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}")
        if memory_bytes > 0:
            self._write("memory.max", str(memory_bytes))
            self._write("memory.swap.max", "0")
        self._write("pids.max", str(pids_limit))

    def join(self, pid: int) -> None:
        """Move process `pid` into the cgroup (its children, forked after, are born there)."""
        self._write("cgroup.procs", str(pid))

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the cgroup at its memory limit."""
        try:
            text = (self.path / "memory.events").read_text()
        except OSError:
            return False
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", "0")) > 0

    def kill(self) -> None:
        """SIGKILL every process of the cgroup (cgroup.kill, Linux 5.14; else each pid)."""
        try:
            self._write("cgroup.kill", "1")
            return
        except OSError:
            pass
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    os.kill(int(pid), 9)

    def remove(self) -> None:
        """Kill what is left and remove the cgroup; quiet when it is gone."""
        if not self.path.is_dir():
            return
        self.kill()
        with contextlib.suppress(OSError):
            self.path.rmdir()

    def _write(self, name: str, value: str) -> None:
        with open(self.path / name, "w", encoding="ascii") as stream:
            stream.write(value + "\n")


def doctor_lines(mode: LimitMode) -> list[str]:
    """What `runner doctor` says of the local backend: how it limits jobs, and that it does not isolate them."""
    how = (f"limits through {mode.why} (memory without swap, cpu quota, cpuset, pids)" if mode.kind == "cgroup"
           else f"limits through a psutil watchdog (memory: the job's process tree killed over its limit; cores: "
                f"CPU affinity), since {mode.why}")
    return [
        "Local backend (`--backend local`)",
        f"  {how}; no disk limit",
        ("  WARNING: jobs run as this user's processes with no isolation: they can read and write your files "
         "and use the network. Run only applets you trust."),
    ]
