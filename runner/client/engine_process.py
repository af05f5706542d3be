"""The engine daemon as a process: is it running, start it, stop it, and a client connected to it.

The daemon keeps its files in the state folder (`$RUNNER_HOME`), as `runner.home_files` lists them. A
daemon killed with SIGKILL leaves its engine.json behind, naming a dead pid: `engine_status` sees it is not
running, and `start_engine` starts a new daemon, which carries on with the jobs that were running.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.client.api import EngineClient
from runner.config import runner_home
from runner.errors import ApiError, EnvironmentProblem
from runner.home_files import CREDENTIALS, DAEMON_MODULE, ENGINE_JSON, ENGINE_LOG, EXIT_ALREADY_RUNNING

LOG_TAIL_LINES = 20
POLL_S = 0.1
KILL_GRACE_S = 10.0


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """Whether an engine answers for a state folder, and if so its pid, URL, start time (ms) and version."""

    running: bool
    pid: int | None = None
    url: str | None = None
    started: int | None = None
    version: str | None = None
    project: str | None = None


def daemon_command(home: Path) -> list[str]:
    """The command that runs the engine daemon for `home` (tests replace it with a stand-in)."""
    return [sys.executable, "-m", DAEMON_MODULE, "--home", str(home)]


def read_token(home: Path) -> str:
    """The user token the daemon wrote to `home/credentials`."""
    path = home / CREDENTIALS
    try:
        token = json.loads(path.read_text()).get("auth_token")
    except (OSError, ValueError, AttributeError) as exc:
        raise EnvironmentProblem(f"cannot read the engine's credentials at {path} ({exc})",
                                 fix="runner engine stop; runner engine start") from exc
    if not isinstance(token, str) or not token:
        raise EnvironmentProblem(f"{path} holds no auth_token", fix="runner engine stop; runner engine start")
    return token


def engine_status(home: Path) -> EngineStatus:
    """Running only when `engine.json` names a live pid and that process answers `/runner/ping` as itself."""
    info = _engine_info(home)
    pid, url = info.get("pid"), info.get("url")
    if not isinstance(pid, int) or not isinstance(url, str) or not _pid_alive(pid):
        return EngineStatus(running=False)
    try:
        token = read_token(home)
    except EnvironmentProblem:
        token = ""
    try:
        with EngineClient(url, token) as client:
            answer = client.ping()
    except (EnvironmentProblem, ApiError):
        return EngineStatus(running=False)
    if answer.get("pid") != pid:
        return EngineStatus(running=False)
    started, version = info.get("started"), info.get("version", answer.get("version"))
    project = answer.get("project")
    return EngineStatus(running=True, pid=pid, url=url,
                        started=started if isinstance(started, int) else None,
                        version=version if isinstance(version, str) else None,
                        project=project if isinstance(project, str) else None)


def start_engine(home: Path, timeout_s: float = 60) -> EngineStatus:
    """The running engine for `home`, starting the daemon (detached, in its own session) when none answers."""
    status = engine_status(home)
    if status.running:
        return status
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_path = home / ENGINE_LOG
    log_start = log_path.stat().st_size if log_path.exists() else 0
    pid = _spawn(daemon_command(home), log_path)
    deadline = time.monotonic() + timeout_s
    other_holds_lock = False
    while time.monotonic() < deadline:
        status = engine_status(home)
        if status.running:
            return status
        if not other_holds_lock:
            code = _exit_code(pid)
            # 75: another engine got this home's lock first; it is starting, so wait for it instead.
            other_holds_lock = code == EXIT_ALREADY_RUNNING
            if code is not None and not other_holds_lock:
                raise _start_failure(home, log_start, f"the engine exited with code {code} while starting")
        time.sleep(POLL_S)
    raise _start_failure(home, log_start, f"the engine did not answer within {timeout_s:g} s (pid {pid})")


def stop_engine(home: Path, timeout_s: float = 30) -> bool:
    """Ask the engine to shut down, then SIGTERM, then SIGKILL; False when none was running."""
    import signal  # here: every other command connects through this module, and only this one signals
    status = engine_status(home)
    pid = status.pid if status.running else _unresponsive_daemon(home)
    if pid is None:
        return False
    if status.running and status.url is not None:
        try:
            with EngineClient(status.url, read_token(home)) as client:
                client.call("/runner/shutdown", {}, timeout_s=timeout_s)
        except (EnvironmentProblem, ApiError):
            pass  # it may close the connection as it goes; the pid tells whether it went
        if _wait_exit(pid, timeout_s):
            return True
    for sig, wait_s in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, KILL_GRACE_S)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        if _wait_exit(pid, wait_s):
            return True
    raise EnvironmentProblem(f"the engine (pid {pid}) did not exit after SIGKILL", fix=f"check process {pid}")


def connect(home: Path | None = None, *, start: bool = True) -> EngineClient:
    """A client of the engine for `home` (default: `$RUNNER_HOME`), starting it when `start`."""
    home = home if home is not None else runner_home()
    status = start_engine(home) if start else engine_status(home)
    if not status.running or status.url is None:
        raise EnvironmentProblem(f"no engine is running for {home}", fix="runner engine start")
    # engine_status has just pinged it: its answer names the default project, no second ping needed.
    return EngineClient(status.url, read_token(home), status.project)


def _engine_info(home: Path) -> dict[str, Any]:
    try:
        info = json.loads((home / ENGINE_JSON).read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A daemon this process started and that has exited stays a zombie until reaped; it is not alive.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _wait_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _unresponsive_daemon(home: Path) -> int | None:
    """The pid of `engine.json` when that process is alive but silent and is our daemon, else None."""
    pid = _engine_info(home).get("pid")
    if not isinstance(pid, int) or not _pid_alive(pid):
        return None
    # A stale engine.json may name a pid the system has since given to someone else's process.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return pid if DAEMON_MODULE.encode() in cmdline else None


def _spawn(command: list[str], log_path: Path) -> int:
    # posix_spawn rather than Popen: the daemon outlives this process, and a Popen object dropped
    # while its child runs warns (ResourceWarning) at garbage collection.
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return os.posix_spawnp(command[0], command, dict(os.environ), setsid=True, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, log_fd, 1),
            (os.POSIX_SPAWN_DUP2, log_fd, 2),
        ])
    except OSError as exc:
        raise EnvironmentProblem(f"cannot start the engine ({' '.join(command)}): {exc}",
                                 fix="check the Python installation; run `runner doctor`") from exc
    finally:
        os.close(log_fd)


def _exit_code(pid: int) -> int | None:
    """The exit code of our child `pid` once it has exited, else None (also when it is not our child)."""
    try:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(wait_status) if done else None


def _start_failure(home: Path, log_start: int, what: str) -> EnvironmentProblem:
    log_path = home / ENGINE_LOG
    try:
        with log_path.open("rb") as log:
            log.seek(log_start)
            text = log.read().decode(errors="replace")
    except OSError:
        text = ""
    tail = text.splitlines()[-LOG_TAIL_LINES:]
    shown = "\n".join(f"  | {line}" for line in tail) if tail else f"  ({log_path} says nothing)"
    return EnvironmentProblem(f"{what}; the end of {log_path}:\n{shown}",
                              fix=f"see {log_path}; run `runner doctor`")
