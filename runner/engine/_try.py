"""One try's container watched to its end, as an Outcome: a new try's, or one a previous engine started.

The timeout is the backend's, except for a job that may be held for debugging: the engine times that one
itself, so that the timeout stops applying once the job is held. Log lines go to `job.log` and the hub.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from runner.backends.base import BackendError, ContainerExit, LogSink
from runner.backends.gpus import driver_problem
from runner.engine._container import container_spec, debug_on
from runner.engine._host import EngineHost, RunningTry
from runner.engine._outcome import Outcome, outcome_of, seconds_text
from runner.engine.instance_policy import capped_note
from runner.engine.job_files import job_folder, prepare_try
from runner.engine.logs import JobLog
from runner.spec.system_requirements import requested
from runner.store.job_record import record_of
from runner.store.objects import get_executable
from runner.store.tokens import issue_job_token

# Runs the container with the timeout the backend is to apply (None: none) and a log sink.
Watch = Callable[[float | None, LogSink], Awaitable[ContainerExit]]


async def new_try_outcome(engine: EngineHost, job: dict[str, Any], running: RunningTry) -> Outcome:
    """Prepare the job folder, create the try's container and watch it to its end."""
    applet = get_executable(engine.db, job["applet"])
    # An applet /applet/new accepted with execDepends that could not be installed: its jobs fail at install.
    install_problem = (applet.get("_runner") or {}).get("installProblem")
    if install_problem:
        return Outcome(failure_reason="AppError", failure_message=str(install_problem))
    job_dir = job_folder(engine.home, job["id"])
    try:
        prepare_try(job_dir, job.get("input") or {})
    except OSError as exc:
        return Outcome(failure_reason="ExecutionError",
                       failure_message=f"the engine could not prepare the job folder {job_dir}: {exc}")
    problem = _driver_problem(engine, job)
    if problem is not None:
        return Outcome(failure_reason="ExecutionError", failure_message=problem)
    token = issue_job_token(engine.db, job["id"])
    where = running.assignment
    spec = container_spec(job, applet, token, job_dir, engine.reach, engine.capacity.gpus,
                          cpu_ids=where.cpu_ids, gpu_ids=where.gpu_ids)
    timeout_s = job["timeout"] / 1000 if job.get("timeout") else None
    engine.say(job["id"], f"try {job.get('try', 0)} started: {spec.cpus:g} cores, "
                           f"{spec.memory_bytes / 2**30:.1f} GiB ({job['instanceType']}), "
                           f"timeout {seconds_text(timeout_s) if timeout_s else 'none'}{_on(where.cpu_ids, where.gpu_ids)}")
    if (note := capped_note(job)) is not None:
        engine.say(job["id"], note)
    return await watched_outcome(engine, job, running, timeout_s, lambda timeout, on_log: engine.backend.run(
        spec, timeout_s=timeout, on_log=on_log, stop_event=running.stop, on_exit=lambda: engine.release(running)))


def _driver_problem(engine: EngineHost, job: dict[str, Any]) -> str | None:
    """Why the host's NVIDIA driver is too old for the job's nvidiaDriver (only a GPU job on a GPU host asks)."""
    if not record_of(job).resources.gpus or not engine.host.gpu_ids:
        return None
    driver = requested(job.get("systemRequirements"), job.get("function", "main"), "nvidiaDriver")
    return driver_problem(driver, engine.host.nvidia_driver)


def _on(cpu_ids: tuple[int, ...], gpu_ids: tuple[int, ...]) -> str:
    """`, on CPUs 0,1 and GPU 1`: where the scheduler put the try."""
    if not cpu_ids:
        return ""
    cpus = f"CPU{'s' if len(cpu_ids) > 1 else ''} {','.join(map(str, cpu_ids))}"
    gpus = f" and GPU{'s' if len(gpu_ids) > 1 else ''} {','.join(map(str, gpu_ids))}" if gpu_ids else ""
    return f", on {cpus}{gpus}"


async def watched_outcome(engine: EngineHost, job: dict[str, Any], running: RunningTry, timeout_s: float | None,
                          watch: Watch) -> Outcome:
    """Run `watch` under the try's timeout (`timeout_s` left of it) and read how the try ended."""
    own_timer = bool(debug_on(job)) and timeout_s is not None
    job_log = JobLog.for_job(engine.home, job["id"])

    def on_log(stream: str, line: str) -> None:
        engine.hub.publish(job["id"], job_log.append_or_keep(stream, line))

    timer = asyncio.get_running_loop().call_later(timeout_s, engine.time_out, running) \
        if own_timer and timeout_s is not None else None
    try:
        exit = await watch(None if own_timer else timeout_s, on_log)
    except BackendError as exc:
        return Outcome(failure_reason="ExecutionError", failure_message=str(exc))
    finally:
        if timer is not None:
            timer.cancel()
    if running.timed_out and exit.stopped_by_runner:
        exit = dataclasses.replace(exit, stopped_by_runner=False, timed_out=True)
    timeout_text = f"{seconds_text(int(job.get('timeout') or 0) / 1000)} ({job.get('_timeoutSource')})"
    return outcome_of(exit, job_folder(engine.home, job["id"]), timeout_text=timeout_text,
                      memory_bytes=record_of(job).resources.memory_bytes, instance_type=job["instanceType"])
