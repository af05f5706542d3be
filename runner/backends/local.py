"""Jobs as host processes (`--backend local`): the same launcher, API and lifecycle, no Docker and no isolation.

Each try runs the launcher from the package folder with the job venv's python3 (dxpy and the dx-* helpers,
`$RUNNER_HOME/local-env/`), in its own session, with HOME and cwd `jobs/<id>/home` (fresh per try), the
container's DX_* environment, and the paths the container would mount passed to the launcher as variables
(runner.launcher). Jobs reach the engine at 127.0.0.1:<port> whatever their access.network says: the local
backend does not isolate the network, the file system or anything else (docs/execution-environment.md).

Limits (runner.backends._local_limits): a cgroup v2 per try where the engine may make one, else a psutil
watchdog for memory and CPU affinity for cores. A restarted engine finds a try by its process.json (pid and
create_time, so a reused pid is never taken for the job) and its exit status in the file sh writes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import psutil

from runner import launcher
from runner.backends._local_limits import (
    WATCHDOG_S,
    JobCgroup,
    LimitMode,
    detect_mode,
    doctor_lines,
    enable_cgroups,
)
from runner.backends._local_proc import (
    EXIT,
    LOCAL_DIR,
    OOM,
    PLAN,
    PROCESS,
    Plan,
    exit_status,
    job_processes,
    kill_all,
    read_json,
    record_process,
    recorded_process,
    signal_group,
    tree,
    tree_rss,
    wrapped,
    write_private,
)
from runner.backends._logs import LineSplitter
from runner.backends.base import (
    Backend,
    BackendError,
    Capability,
    ContainerSpec,
    Created,
    Finished,
    Found,
    LogSink,
    Usage,
)
from runner.errors import RunnerError

# Where runner.build._local_build installs an applet's pip execDepends (backends may not import build).
PIP_DIR = ("local-env", "pip")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PASSED_ON = ("LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "TERM")
POLL_S = 0.2
log = logging.getLogger(__name__)
SIGKILL_EXIT = 137


def limit_mode() -> LimitMode:
    """How the engine's jobs will be limited here: their own cgroups (the engine moved into a leaf), or the
    watchdog; call once, in the engine."""
    return enable_cgroups(detect_mode())


def doctor_facts() -> dict[str, object]:
    """`runner doctor`'s facts on the local backend: which limits hold here, why, and the lines it prints
    (what this machine allows now; nothing is changed)."""
    mode = detect_mode()
    return {"limits": mode.kind, "detail": mode.why, "isolated": False, "lines": doctor_lines(mode)}


class LocalBackend(Backend):
    """Runs each job try as a process tree of this machine's user, limited as `mode` allows."""

    capabilities = frozenset({Capability.FIND, Capability.REAP, Capability.SHELL})

    def __init__(self, home: Path | str, job_env: Callable[[], Path], mode: LimitMode | None = None) -> None:
        self.home = Path(home)
        self._job_env = job_env
        self.mode = mode or LimitMode("watchdog", None, "no cgroup was asked for")
        self.host_cores = sorted(os.sched_getaffinity(0))
        self._cores: dict[str, tuple[int, ...]] = {}
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._ended: dict[str, asyncio.Event] = collections.defaultdict(asyncio.Event)

    def _folder(self, job_id: str) -> Path:
        return self.home / "jobs" / job_id / LOCAL_DIR

    def _cgroup(self, job_id: str) -> JobCgroup | None:
        return JobCgroup(self.mode.base, job_id) if self.mode.kind == "cgroup" and self.mode.base else None

    # -- the hooks of Backend.run ------------------------------------------------------------------

    async def _create(self, spec: ContainerSpec) -> Created:
        try:
            env_dir = await asyncio.to_thread(self._job_env)
        except RunnerError as exc:
            raise BackendError(f"the local backend's job environment is not ready: {exc}") from exc
        try:
            await asyncio.to_thread(self._create_now, spec, env_dir)
        except OSError as exc:
            raise BackendError(f"preparing the local job {spec.job_id} failed: {exc}") from exc
        return Created(spec.job_id, False if spec.disk_bytes else None)

    def _create_now(self, spec: ContainerSpec, env_dir: Path) -> None:
        mounts = {m.container_path: m.host_path for m in spec.mounts}
        wanted = (launcher.LAUNCHER_DIR, launcher.APPLET_DIR, launcher.JOB_DIR, _input_path())
        missing = [path for path in wanted if path not in mounts]
        if missing:
            raise BackendError(f"the job spec of {spec.job_id} mounts nothing at {', '.join(missing)}")
        job_root = self.home / "jobs" / spec.job_id
        folder, home, root = job_root / LOCAL_DIR, job_root / "home", job_root / "root"
        for path in (folder, home, root):
            shutil.rmtree(path, ignore_errors=True)
        folder.mkdir(mode=0o700, parents=True)
        home.mkdir()
        cores = self._claim_cores(spec.job_id, spec.cpus, spec.cpu_ids)
        cgroup = self._cgroup(spec.job_id)
        if cgroup is not None:
            try:
                cgroup.create(list(cores), spec.cpus, spec.memory_bytes, spec.pids_limit)
            except OSError as exc:
                # A cgroup tree that would not take a child: this and later jobs run under the watchdog.
                cgroup.remove()
                self.mode = LimitMode("watchdog", None, f"making the cgroup {cgroup.path} failed ({exc})")
                log.warning("local backend: %s; limits through the watchdog from now on", self.mode.why)
                cgroup = None
        paths = {
            launcher.ENV_HOME_DIR: str(home), launcher.ENV_JOB_DIR: mounts[launcher.JOB_DIR],
            launcher.ENV_APPLET_DIR: mounts[launcher.APPLET_DIR],
            launcher.ENV_INPUT_DIR: os.path.dirname(mounts[_input_path()]),
            launcher.ENV_RESOURCES_ROOT: str(root),
            # Without a cgroup of its own, the job must not read the engine's pids counter as its own.
            launcher.ENV_CGROUP_ROOT: str(cgroup.path) if cgroup is not None else str(folder / "no-cgroup"),
        }
        env = self._environment(spec, env_dir, home, root, paths)
        argv = launcher.container_command(str(env_dir / "bin" / "python3"),
                                          os.path.dirname(mounts[launcher.LAUNCHER_DIR]))
        plan = Plan(tuple(argv), env, str(home), cores, spec.memory_bytes)
        write_private(folder / PLAN, json.dumps(plan.to_json()))

    def _environment(self, spec: ContainerSpec, env_dir: Path, home: Path, root: Path,
                     paths: Mapping[str, str]) -> dict[str, str]:
        # No API socket: the forwarder would take the engine's own port on 127.0.0.1. No dxpy log sockets:
        # their folder /opt/dnanexus/log would be shared by every job on the machine.
        env = {k: v for k, v in spec.env.items() if k != launcher.ENV_API_SOCKET}
        env[launcher.ENV_LOG_SOCKETS] = "0"
        if spec.gpu_ids:
            # A host process sees every GPU, numbered as the host numbers them (no container renumbers them).
            env["CUDA_VISIBLE_DEVICES"] = ",".join(str(gpu) for gpu in spec.gpu_ids)
        env.update(paths)
        env.update({k: os.environ[k] for k in PASSED_ON if k in os.environ})
        env.setdefault("LANG", "C.UTF-8")
        env["HOME"] = str(home)
        env["PATH"] = ":".join([str(env_dir / "bin"), f"{root}/usr/local/bin", f"{root}/usr/bin",
                                os.environ.get("PATH") or DEFAULT_PATH])
        pip = self.home.joinpath(*PIP_DIR, os.path.basename(paths[launcher.ENV_APPLET_DIR]))
        if pip.is_dir():
            env["PYTHONPATH"] = str(pip)
        return env

    def _claim_cores(self, job_id: str, cpus: float, assigned: tuple[int, ...] = ()) -> tuple[int, ...]:
        """The cores the try is pinned to: the scheduler's, else as many as it has CPUs, the least used first."""
        if assigned and set(assigned) <= set(self.host_cores):
            self._cores[job_id] = tuple(assigned)
            return tuple(assigned)
        count = len(self.host_cores) if cpus <= 0 else max(1, min(len(self.host_cores), math.ceil(cpus)))
        used = collections.Counter(core for cores in self._cores.values() for core in cores)
        chosen = tuple(sorted(sorted(self.host_cores, key=lambda core: (used[core], core))[:count]))
        self._cores[job_id] = chosen
        return chosen

    async def _start(self, handle: str) -> None:
        folder = self._folder(handle)
        document = read_json(folder / PLAN)
        if document is None:
            raise BackendError(f"the local job {handle} has no launch plan in {folder}")
        plan = Plan.from_json(document)
        self._cores[handle] = plan.cores
        cgroup = self._cgroup(handle)
        try:
            child = await asyncio.to_thread(self._launch, folder, plan, cgroup)
        except (OSError, subprocess.SubprocessError) as exc:
            raise BackendError(f"starting the local job {handle} failed: {exc}") from exc
        self._children[handle] = child

    def _launch(self, folder: Path, plan: Plan, cgroup: JobCgroup | None) -> subprocess.Popen[bytes]:
        with open(folder / "stdout", "ab") as out, open(folder / "stderr", "ab") as err:
            child = subprocess.Popen(wrapped(plan.argv, folder / EXIT), cwd=plan.cwd, env=plan.env,
                                     stdin=subprocess.PIPE, stdout=out, stderr=err, start_new_session=True)
        assert child.stdin is not None
        try:
            record_process(folder, child.pid)
            if cgroup is not None:
                cgroup.join(child.pid)
            if plan.cores:
                os.sched_setaffinity(child.pid, plan.cores)
            child.stdin.write(b"go\n")
        except BaseException:
            child.kill()
            raise
        finally:
            child.stdin.close()
        return child

    async def _stream_logs(self, handle: str, on_log: LogSink, already: Mapping[str, int]) -> None:
        await asyncio.gather(*(self._follow(handle, stream, on_log, already.get(stream, 0))
                               for stream in ("stdout", "stderr")))

    async def _follow(self, handle: str, stream: str, on_log: LogSink, skip: int) -> None:
        def push(batch: list[str]) -> None:
            for line in batch:
                on_log(stream, line)

        lines = LineSplitter(push, skip)
        ended = self._ended[handle]
        try:
            # A local regular file: a read returns at once, with what is there.
            with open(self._folder(handle) / stream, "rb") as source:  # noqa: ASYNC230
                while True:
                    finished = ended.is_set()
                    chunk = source.read(65536)
                    if chunk:
                        lines.feed(chunk)
                    elif finished:
                        break
                    else:
                        await asyncio.sleep(POLL_S)
        except FileNotFoundError:
            pass
        lines.close()

    async def _wait(self, handle: str) -> Finished:
        folder = self._folder(handle)
        document = read_json(folder / PLAN) or {}
        limit = int(document.get("memory_bytes") or 0) if self.mode.kind != "cgroup" else 0
        process = recorded_process(folder)
        checked = 0.0
        while not self._has_ended(handle, folder):
            if limit and process is not None and time.monotonic() - checked >= WATCHDOG_S:
                checked = time.monotonic()
                processes = await asyncio.to_thread(tree, process)
                if await asyncio.to_thread(tree_rss, processes) > limit:
                    (folder / OOM).touch()
                    await asyncio.to_thread(kill_all, processes)
            await asyncio.sleep(POLL_S)
        self._ended[handle].set()
        child = self._children.get(handle)
        code = exit_status(folder)
        if code is None:
            code = SIGKILL_EXIT if child is None or child.returncode is None else _shell_status(child.returncode)
        cgroup = self._cgroup(handle)
        oom = (folder / OOM).exists() or (cgroup is not None and cgroup.oom_killed())
        started = (read_json(folder / PROCESS) or {}).get("create_time")
        return Finished(code, oom, float(started) if started else None, time.time())

    def _has_ended(self, handle: str, folder: Path) -> bool:
        child = self._children.get(handle)
        if child is not None:
            return child.poll() is not None
        return recorded_process(folder) is None

    async def _stop(self, handle: str, grace_s: float) -> None:
        folder = self._folder(handle)
        process = recorded_process(folder)
        if process is None:
            return
        signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and not self._has_ended(handle, folder):
            await asyncio.sleep(POLL_S)
        if not self._has_ended(handle, folder):
            await asyncio.to_thread(self._kill_now, handle)

    def _kill_now(self, job_id: str) -> None:
        cgroup = self._cgroup(job_id)
        if cgroup is not None:
            cgroup.kill()
        process = recorded_process(self._folder(job_id))
        if process is not None:
            kill_all(tree(process))
        kill_all(job_processes(job_id))

    async def _remove(self, handle: str) -> None:
        await asyncio.to_thread(self._remove_now, handle)
        self._ended.pop(handle, None)

    def _remove_now(self, job_id: str) -> None:
        self._kill_now(job_id)
        child = self._children.pop(job_id, None)
        if child is not None:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        cgroup = self._cgroup(job_id)
        if cgroup is not None:
            cgroup.remove()
        self._cores.pop(job_id, None)
        job_root = self.home / "jobs" / job_id
        for name in (LOCAL_DIR, "home", "root"):
            shutil.rmtree(job_root / name, ignore_errors=True)

    # -- a restarted engine, runner ssh ---------------------------------------------------------------

    async def find_job(self, job_id: str) -> Found | None:
        """The try of `job_id` a previous engine left: created, running (its pid verified) or exited."""
        folder = self._folder(job_id)
        document = read_json(folder / PLAN)
        if document is None:
            return None
        self._cores[job_id] = Plan.from_json(document).cores
        if not (folder / PROCESS).is_file():
            return Found(job_id, "created")
        return Found(job_id, "running" if recorded_process(folder) is not None else "exited")

    async def reap_orphans(self, home: Path | str, live_job_ids: Collection[str]) -> list[str]:
        """Kill and remove the tries of `home` whose job is not live (an engine crash left them); their IDs."""
        del home
        live = set(live_job_ids)
        jobs = self.home / "jobs"
        found = (path.parent.parent.name for path in jobs.glob(f"*/{LOCAL_DIR}/{PLAN}")) if jobs.is_dir() else ()
        orphans = sorted(job_id for job_id in found if job_id not in live)
        for job_id in orphans:
            await asyncio.to_thread(self._remove_now, job_id)
        return orphans

    def usage(self, job_id: str) -> Usage | None:
        """What the job's process tree uses now (psutil): CPU time, its ended children's included, and RSS."""
        process = recorded_process(self._folder(job_id))
        if process is None:
            return None
        processes = tree(process)
        cpu = 0.0
        for member in processes:
            with contextlib.suppress(psutil.Error):
                times = member.cpu_times()
                cpu += times.user + times.system + times.children_user + times.children_system
        return Usage(cpu_seconds=cpu, memory_bytes=tree_rss(processes)) if processes else None

    def exec_shell_argv(self, job_id: str) -> list[str]:
        """A command line opening bash in the job's home with the job's environment (`runner ssh`)."""
        folder = self._folder(job_id)
        document = read_json(folder / PLAN)
        if document is None or recorded_process(folder) is None:
            raise BackendError(f"{job_id} has no running process")
        plan = Plan.from_json(document)
        env = {k: v for k, v in plan.env.items() if not k.startswith("RUNNER_")}
        return ["/bin/sh", "-c", 'cd "$0" && exec env -i "$@"', plan.cwd,
                *(f"{key}={value}" for key, value in sorted(env.items())), "bash"]


def _input_path() -> str:
    return f"{launcher.INPUT_DIR}/{launcher.JOB_INPUT}"


def _shell_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode
