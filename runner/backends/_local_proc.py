"""A local job's process on the host: its folder, its record for a restarted engine, its tree, its end.

    jobs/<id>/local/plan.json      argv, environment and cwd of the try (0600: it holds the job's token)
    jobs/<id>/local/process.json   pid and psutil create_time of the try's first process, once started
    jobs/<id>/local/stdout|stderr  what the job printed (read back as its log, line by line)
    jobs/<id>/local/exit           the launcher's exit status, written by the shell that started it
    jobs/<id>/local/oom            present when the watchdog killed the tree at its memory limit

The first process is `sh`, which runs the launcher and writes its status: the status of a process that is
not the engine's child (after an engine restart) could not be read otherwise. Its TERM trap only lets it
outlive the launcher long enough to write the file; handlers are reset on exec, so the launcher and the job
see TERM as usual. sh starts the launcher only once the engine has written a line to its stdin: by then the
engine has put it into the job's cgroup and pinned it to the job's cores, which every later process
inherits (no code runs between fork and exec, which is unsafe in a threaded engine).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

LOCAL_DIR = "local"
PLAN = "plan.json"
PROCESS = "process.json"
EXIT = "exit"
OOM = "oom"
WRAPPER = 'trap ":" TERM HUP; read -r _; "$@" </dev/null; status=$?; echo "$status" > "$0.tmp" && mv "$0.tmp" "$0"'
CREATE_TIME_SLACK_S = 0.05
# A SIGKILLed process is gone within milliseconds; this bounds the wait for one stuck in the kernel.
KILL_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class Plan:
    """How to start one try: the command, its environment and working directory, the limits to apply."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: str
    cores: tuple[int, ...]
    memory_bytes: int

    def to_json(self) -> dict[str, Any]:
        """The plan as stored in plan.json."""
        return {"argv": list(self.argv), "env": self.env, "cwd": self.cwd, "cores": list(self.cores),
                "memory_bytes": self.memory_bytes}

    @staticmethod
    def from_json(document: dict[str, Any]) -> Plan:
        """A plan read back from plan.json."""
        return Plan(tuple(document["argv"]), dict(document["env"]), str(document["cwd"]),
                    tuple(int(c) for c in document.get("cores") or ()), int(document.get("memory_bytes") or 0))


def wrapped(argv: tuple[str, ...], exit_file: Path) -> list[str]:
    """`argv` run by the sh that records its exit status in `exit_file`."""
    return ["/bin/sh", "-c", WRAPPER, str(exit_file), *argv]


def write_private(path: Path, text: str) -> None:
    """Write `path` with mode 0600, atomically."""
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
    temporary.replace(path)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`, None when it is missing or unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def record_process(folder: Path, pid: int) -> float:
    """Write process.json for `pid`; its create_time."""
    created = psutil.Process(pid).create_time()
    write_private(folder / PROCESS, json.dumps({"pid": pid, "create_time": created}))
    return created


def recorded_process(folder: Path) -> psutil.Process | None:
    """The live process process.json names, None when it has ended or its pid now belongs to another one."""
    document = read_json(folder / PROCESS)
    if document is None:
        return None
    try:
        process = psutil.Process(int(document["pid"]))
        same = abs(process.create_time() - float(document["create_time"])) < CREATE_TIME_SLACK_S
        return process if same and process.status() != psutil.STATUS_ZOMBIE else None
    except (psutil.Error, KeyError, ValueError, TypeError):
        return None


def exit_status(folder: Path) -> int | None:
    """The launcher's exit status recorded by sh, None when it has not been written."""
    try:
        text = (folder / EXIT).read_text(encoding="ascii").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def tree(process: psutil.Process) -> list[psutil.Process]:
    """`process` and all its descendants still alive."""
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def tree_rss(processes: list[psutil.Process]) -> int:
    """The resident memory of `processes` together, in bytes."""
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def job_processes(job_id: str) -> list[psutil.Process]:
    """This user's processes whose environment says they belong to `job_id` (orphans included)."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.uids().real == os.getuid() and process.environ().get("DX_JOB_ID") == job_id:
                found.append(process)
    return found


def signal_group(pid: int, signum: int) -> None:
    """Send `signum` to the process group led by `pid`; quiet when it is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def kill_all(processes: list[psutil.Process], wait_s: float = KILL_WAIT_S) -> None:
    """SIGKILL `processes` and the process groups they lead; return once they are gone (or `wait_s` passed)."""
    for process in processes:
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, signal.SIGKILL)
            process.kill()
    deadline = time.monotonic() + wait_s
    while any(_alive(process) for process in processes) and time.monotonic() < deadline:
        time.sleep(0.05)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
