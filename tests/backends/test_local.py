"""LocalBackend on real host processes with the real launcher and job venv: cores, logs, exit codes, the
memory watchdog, stop and timeout, and a restarted engine finding a job by its pid and create time."""

from __future__ import annotations

import asyncio
import json
import secrets
import string
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from runner import launcher
from runner.backends._local_proc import PROCESS
from runner.backends.base import ContainerExit, ContainerSpec, Found, Mount
from runner.backends.local import LocalBackend
from runner.build.local_env import ensure_local_env
from runner.config import ensure_runner_home

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def job_env() -> Path:
    """The job venv (dxpy), made once in the user's state folder from its wheel cache."""
    return ensure_local_env(ensure_runner_home(), progress=lambda message: None)


@pytest.fixture
def backend(tmp_path: Path, job_env: Path) -> Iterator[LocalBackend]:
    """A local backend with a home of its own; what its jobs left running is killed afterwards."""
    backend = LocalBackend(tmp_path / "home", lambda: job_env)
    backend.stop_grace_s = 1.0
    yield backend
    for folder in (tmp_path / "home" / "jobs").glob("*"):
        backend._remove_now(folder.name)


def job_spec(home: Path, code: str, *, cpu_ids: tuple[int, ...] = (), gpu_ids: tuple[int, ...] = (),
             env: dict[str, str] | None = None, **limits: float) -> ContainerSpec:
    """The spec of a bash job whose main() is `code`, with its folders as the engine prepares them."""
    job_id = "job-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
    folder = home / "jobs" / job_id
    applet = home / "applets" / "applet-x"
    (folder / "work").mkdir(parents=True)
    applet.mkdir(parents=True, exist_ok=True)
    (applet / "code.sh").write_text(f"main() {{\n{code}\n}}\n")
    (folder / "job_input.json").write_text("{}")
    env = {"DX_JOB_ID": job_id, launcher.ENV_FUNCTION: "main", launcher.ENV_INTERPRETER: "bash",
           launcher.ENV_API_SOCKET: "/opt/applet-runner/api/engine.sock", **(env or {})}
    mounts = (
        Mount(launcher.host_path(), launcher.LAUNCHER_DIR),
        Mount(str(applet), launcher.APPLET_DIR),
        Mount(str(folder / "job_input.json"), f"{launcher.INPUT_DIR}/job_input.json"),
        Mount(str(folder / "work"), launcher.JOB_DIR, read_only=False),
    )
    return ContainerSpec(job_id=job_id, tree_id=job_id, image="local", command=(), env=env, mounts=mounts,
                         cpus=float(limits.get("cpus", 1.0)), memory_bytes=int(limits.get("memory_bytes", 0)),
                         cpu_ids=cpu_ids, gpu_ids=gpu_ids)


async def run(backend: LocalBackend, spec: ContainerSpec, timeout_s: float | None = 60,
              stop: asyncio.Event | None = None) -> tuple[ContainerExit, dict[str, list[str]]]:
    lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
    result = await backend.run(spec, timeout_s=timeout_s, on_log=lambda s, line: lines[s].append(line),
                               stop_event=stop or asyncio.Event())
    return result, lines


def job_processes(job_id: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("DX_JOB_ID") == job_id and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.Error:
            continue
    return found


async def test_a_job_sees_its_cores_home_and_dxpy_and_its_exit_code(backend: LocalBackend, tmp_path: Path) -> None:
    spec = job_spec(backend.home, 'nproc; echo "$HOME"; pwd; python3 -c "import dxpy; print(dxpy.__name__)"\n'
                                  'echo "to stderr" >&2; printf "no newline"; exit 3', cpus=1)
    result, lines = await run(backend, spec)
    home = str(backend.home / "jobs" / spec.job_id / "home")
    assert lines["stdout"] == ["1", home, home, "dxpy", "no newline"]
    assert "to stderr" in lines["stderr"]
    assert result.exit_code == 3 and not result.oom_killed and not result.stopped_by_runner
    assert result.started_at is not None and result.finished_at is not None
    assert job_processes(spec.job_id) == []
    assert not Path(home).exists()


async def test_a_job_runs_on_the_cpus_and_gpus_the_scheduler_assigned(backend: LocalBackend) -> None:
    last = max(backend.host_cores)
    # container_spec numbers a container's GPUs from 0; a host process is told the host's own numbers.
    spec = job_spec(backend.home, 'grep Cpus_allowed_list /proc/self/status; echo "gpus=$CUDA_VISIBLE_DEVICES"',
                    cpus=1, cpu_ids=(last,), gpu_ids=(3,), env={"CUDA_VISIBLE_DEVICES": "0"})
    result, lines = await run(backend, spec)
    assert result.exit_code == 0, lines
    assert lines["stdout"][0].split()[-1] == str(last)
    assert lines["stdout"][1] == "gpus=3"


async def test_a_job_over_its_memory_is_killed_as_out_of_memory(backend: LocalBackend) -> None:
    spec = job_spec(backend.home, 'python3 -c "import time; x = bytearray(300 * 2**20); time.sleep(60)"',
                    memory_bytes=150 * 2**20)
    result, _ = await run(backend, spec)
    assert result.oom_killed and result.exit_code == 137
    assert job_processes(spec.job_id) == []


async def test_stop_terminates_then_kills_a_job_that_ignores_it(backend: LocalBackend) -> None:
    spec = job_spec(backend.home, "trap '' TERM; echo ready; sleep 60 & wait; sleep 60")
    stop = asyncio.Event()
    task = asyncio.create_task(run(backend, spec, stop=stop))
    while not job_processes(spec.job_id) or not (backend.home / "jobs" / spec.job_id / "local" / "stdout").exists():
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    stop.set()
    result, lines = await task
    assert result.stopped_by_runner and not result.timed_out
    assert "ready" in lines["stdout"]
    assert job_processes(spec.job_id) == []


async def test_a_job_past_its_timeout_is_stopped(backend: LocalBackend) -> None:
    spec = job_spec(backend.home, "sleep 60")
    result, _ = await run(backend, spec, timeout_s=2)
    assert result.timed_out and not result.stopped_by_runner
    assert job_processes(spec.job_id) == []


TALKER = ('for n in 1 2 3 4 5; do echo out-$n; done; while [ ! -e "$HOME/go" ]; do sleep 0.1; done; '
          "for n in 6 7 8; do echo out-$n; done; exit 4")


async def test_a_restarted_engine_follows_the_job_from_the_first_line_not_logged(
        backend: LocalBackend, job_env: Path) -> None:
    spec = job_spec(backend.home, TALKER)
    created = await backend._create(spec)
    await backend._start(created.handle)
    stdout = backend.home / "jobs" / spec.job_id / "local" / "stdout"
    while b"out-5" not in stdout.read_bytes():
        await asyncio.sleep(0.1)
    restarted = LocalBackend(backend.home, lambda: job_env)  # what a new engine makes: no child, no memory
    found = await restarted.find_job(spec.job_id)
    assert found == Found(spec.job_id, "running")
    (backend.home / "jobs" / spec.job_id / "home" / "go").touch()
    lines: list[str] = []
    result = await restarted.resume(found, timeout_s=60, on_log=lambda s, line: lines.append(line),
                                    stop_event=asyncio.Event(), already={"stdout": 2})
    assert result.exit_code == 4
    assert lines == [f"out-{n}" for n in range(3, 9)]
    assert await restarted.find_job(spec.job_id) is None


async def test_a_pid_now_of_another_process_is_not_taken_for_the_job(backend: LocalBackend, job_env: Path) -> None:
    spec = job_spec(backend.home, "sleep 60")
    created = await backend._create(spec)
    await backend._start(created.handle)
    record = backend.home / "jobs" / spec.job_id / "local" / PROCESS
    document = json.loads(record.read_text())
    assert (await backend.find_job(spec.job_id)) == Found(spec.job_id, "running")
    # The same pid, started at another time: a process that got the job's pid after the job ended.
    record.write_text(json.dumps({**document, "create_time": document["create_time"] - 1000}))
    restarted = LocalBackend(backend.home, lambda: job_env)
    assert await restarted.find_job(spec.job_id) == Found(spec.job_id, "exited")
    assert await restarted.reap_orphans(backend.home, []) == [spec.job_id]
    assert job_processes(spec.job_id) == []


async def test_usage_reads_the_cpu_and_memory_of_the_jobs_process_tree(backend: LocalBackend,
                                                                        tmp_path: Path) -> None:
    # A child python holds 64 MiB and burns CPU until the test stops the job.
    code = ("python3 -c 'import time; x = bytearray(64 << 20); x[::4096] = b\"y\" * len(x[::4096]); "
            "exec(\"while True: pass\")'")
    spec = job_spec(tmp_path / "home", code)
    stop = asyncio.Event()
    task = asyncio.create_task(run(backend, spec, stop=stop))
    readings = []
    while len(readings) < 2 or readings[-1].cpu_seconds < 0.5 or readings[-1].memory_bytes < 64 << 20:
        assert not task.done(), "the job ended before its usage was read"
        reading = await asyncio.to_thread(backend.usage, spec.job_id)
        if reading is not None:
            readings.append(reading)
        await asyncio.sleep(0.2)
    assert readings[-1].cpu_seconds >= readings[0].cpu_seconds
    stop.set()
    await task
    assert await asyncio.to_thread(backend.usage, spec.job_id) is None
