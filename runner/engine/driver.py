"""The engine's async driver: moves jobs through their states, runs their containers, ends their trees.

One loop wakes on every change (a job created, a container ended, a terminate request) and advances
every waiting job until nothing moves, then lets the scheduler admit runnable jobs. Each running try is
its own task around `Backend.run()`. Every state change goes through the store's `transition()`, which
writes its event (`runner.engine.events` streams it to `runner watch`, the dx websocket and the TUI).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Any

from runner import __version__
from runner.backends.base import Backend, Found
from runner.backends.gpu_usage import NvmlGpuReader
from runner.config import current_settings
from runner.engine import _tree
from runner.engine._cloning import clone_outputs
from runner.engine._container import Reachability, debug_on
from runner.engine._host import Restart, RunningTry
from runner.engine._outcome import Outcome, error_reason
from runner.engine._readiness import input_readiness, output_problem, output_readiness
from runner.engine._restart import restart_try
from runner.engine._resume import resume_jobs, resumed_outcome
from runner.engine._runnable import RunnableJobs
from runner.engine._settled import SettledJobs
from runner.engine._try import new_try_outcome
from runner.engine._waiting import record_waiting, waiting_changes
from runner.engine.events import EventFeed, prune_periodically, record_log_entry
from runner.engine.instance_policy import given_resources, host_limits
from runner.engine.logs import JobLog, LogHub
from runner.engine.reuse import find_reusable, reuse_key, reuse_wanted
from runner.engine.scheduler import GIB, Assignment, Candidate, Host, Resources, plan
from runner.engine.submit import RunRequest, SubjobRequest, create_master_job, create_subjob
from runner.engine.usage import Sampled, UsageSampler
from runner.spec.events import BackendDown, BackendUp, EngineStarted, EngineStopping
from runner.spec.execution_policy import restarts_allowed
from runner.spec.io_spec import stored_io_spec
from runner.spec.job_states import JobState
from runner.store.db import Database, now_ms
from runner.store.events import record_if_possible
from runner.store.job_record import KEYS, JobResources, record_of, stored
from runner.store.jobs import get_job, transition, update_job
from runner.store.objects import get_executable
from runner.store.tokens import revoke_job_tokens

log = logging.getLogger(__name__)
S = JobState
WAITING_STATES = (S.IDLE, S.WAITING_ON_INPUT, S.WAITING_ON_OUTPUT)
# How often the end of a try the store refused (a full disk) is tried again.
FINISH_RETRY_S = 2.0


class Engine:
    """Runs job trees: create jobs, advance their states, run and stop their containers."""

    def __init__(self, db: Database, backend: Backend, home: Path, reach: Reachability, capacity: Resources,
                 hub: LogHub | None = None, host: Host | None = None) -> None:
        self.db, self.backend, self.home, self.reach, self.capacity = db, backend, home, reach, capacity
        # The CPU IDs, GPU indices and driver the scheduler hands out (default: CPUs and GPUs 0..n-1).
        self.host = host or Host.sized(capacity)
        # Why each runnable job waits, as the last admit step saw it (describe's runnerWaiting); in memory only.
        self.waiting: dict[str, str] = {}
        self._passed: dict[str, int] = {}
        self._parents: dict[str, str | None] = {}
        self.hub = hub or LogHub()
        self.events = EventFeed(db, home)
        self.hub.recorder = lambda job_id, entry: record_log_entry(db, job_id, entry)
        self._pruner: asyncio.Task[None] | None = None
        self.usage = UsageSampler(db, home, backend, self.sampled_tries, NvmlGpuReader())
        self._sampler: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._settled = SettledJobs()
        self._runnable = RunnableJobs(derive=self._candidate)
        self._running: dict[str, RunningTry] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._closing = False
        self.restart = Restart()
        backend.on_health = self._backend_health

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self, restart: Restart | None = None) -> None:
        """Carry on with the jobs a stopped engine left behind (`_resume`), then start advancing jobs.

        Their containers are watched again, collected, or reported gone; their job tokens stay valid.
        """
        self.restart = restart or Restart()
        record_if_possible(self.db, EngineStarted(seq=0, time=now_ms(), pid=os.getpid(), version=__version__))
        self._pruner = asyncio.create_task(prune_periodically(self.db, self.home))
        self._sampler = self.usage.start(current_settings(self.home).usage_interval_s)
        await resume_jobs(self, self.restart)
        self._loop_task = asyncio.create_task(self._loop())
        self.wake()

    def follow_again(self, job: dict[str, Any], found: Found) -> None:
        """Watch the container a previous engine left for `job` as its running try (terminating: stop it)."""
        running = RunningTry(job["id"], _request(job), held=job["state"] == S.DEBUG_HOLD.value,
                             assignment=Assignment.of(record_of(job).assignment), ancestors=self._ancestors(job))
        if job["state"] == S.TERMINATING.value:
            running.stop.set()
        self._running[job["id"]] = running
        running.task = asyncio.create_task(self._run_try(job["id"], running,
                                                          resumed_outcome(self, job, running, found)))

    async def close(self) -> None:
        """Stop every running job (they end terminated) and the loop; then end the event streams."""
        self._closing = True
        stopping = EngineStopping(seq=0, time=now_ms(), reason="the engine was asked to stop")
        record_if_possible(self.db, stopping)
        for running in list(self._running.values()):
            running.stop.set()
        tasks = [r.task for r in self._running.values() if r.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.backend.settle()
        for task in (self._loop_task, self._pruner, self._sampler):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self.events.close()

    def sampled_tries(self) -> list[Sampled]:
        """The tries whose containers run, for the usage sampler (a released one's process has ended)."""
        return [Sampled(r.job_id, r, r.assignment.gpu_ids) for r in self._running.values() if not r.released]

    def _backend_health(self, answering: bool, detail: str) -> None:
        """The backend stopped or started answering: an engine.backend_down / engine.backend_up event."""
        event = BackendUp(seq=0, time=now_ms()) if answering else BackendDown(seq=0, time=now_ms(), message=detail)
        record_if_possible(self.db, event)

    def wake(self) -> None:
        """Ask the loop to look at the jobs again."""
        self._wake.set()

    async def idle(self) -> None:
        """Wait until no job is running and nothing is left to advance (for tests and benchmarks)."""
        while self._running or self._wake.is_set():
            await asyncio.sleep(0.05)

    # -- requests from the API -----------------------------------------------------------------------

    def run(self, applet: Mapping[str, Any], request: RunRequest, invoker: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Create the master job of a run of `applet`; it starts when its inputs are ready."""
        # The reuse setting is read at each run, so that `runner config set reuse` needs no engine restart.
        default = current_settings(self.home).reuse if request.reuse is None else False
        reuse = reuse_wanted(applet, asked=request.reuse, ignore_reuse=request.ignore_reuse, default=default)
        job = create_master_job(self.db, applet, dataclasses.replace(request, reuse=reuse), invoker,
                                host=host_limits(self.scheduled_host().capacity, self.home))
        self.say(job["id"], f"created: {applet['name']} ({applet['id']}), instance type {job['instanceType']}")
        self._say_release_note(job)
        self.wake()
        return job

    def new_subjob(self, applet: Mapping[str, Any], parent: Mapping[str, Any], request: SubjobRequest) -> dict[str, Any]:
        """Create a subjob of `parent` running `request.function`."""
        limits = host_limits(self.scheduled_host().capacity, self.home)
        job = create_subjob(self.db, applet, parent, request, host=limits)
        self.say(job["id"], f"created by {parent['id']}: entry point {request.function}, "
                              f"instance type {job['instanceType']}")
        self._say_release_note(job)
        self.wake()
        return job

    def terminate(self, job_id: str) -> None:
        """Terminate the tree `job_id` belongs to: every job not yet ended ends terminated (nothing if it ended)."""
        job = get_job(self.db, job_id)
        if JobState(job["state"]).is_terminal:
            return  # "If the job is already in a terminal state ... no action is taken."
        _tree.end_tree(self, job["rootExecution"], reason="Terminated",
                       message=f"the job tree was terminated by {job.get('launchedBy', 'the user')}")
        self.wake()

    def hold(self, job_id: str) -> bool:
        """Hold a running job whose process failed with a reason in its debugOn: running -> debug_hold.

        Called for the job's launcher, which keeps the container up until it is stopped; from now on the
        job's timeout no longer applies. False when the job is not running here or its reason is not listed.
        """
        running = self._running.get(job_id)
        job = get_job(self.db, job_id)
        if running is None or running.timed_out or running.stop.is_set() or job["state"] != S.RUNNING.value:
            return False
        reason, message = error_reason(self.home / "jobs" / job_id)
        if reason not in debug_on(job):
            return False
        running.held = True
        self.transition(job_id, S.DEBUG_HOLD, {"failureReason": reason, "failureMessage": message})
        self.say(job_id, f"held for debugging after {reason}: {message} (`runner ssh {job_id}` opens a shell; "
                          "terminate the job to end it)")
        return True

    def shell_argv(self, job_id: str) -> list[str]:
        """The command line that opens an interactive shell in the job's container (blocking: run it in a thread)."""
        return self.backend.exec_shell_argv(job_id)

    # -- what the helpers ask of the engine (EngineHost: _tree, _try, _resume) ------------------------

    def stop_container(self, job_id: str) -> None:
        """Ask the container of a running job to stop (SIGTERM, then kill)."""
        running = self._running.get(job_id)
        if running is not None:
            running.stop.set()

    def has_try(self, job_id: str) -> bool:
        """Whether this engine watches a container for `job_id`."""
        return job_id in self._running

    def transition(self, job_id: str, state: JobState, changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
        job = transition(self.db, job_id, state, changes)
        if state.is_terminal:
            revoke_job_tokens(self.db, job_id)
        return job

    def say(self, job_id: str, text: str) -> None:
        entry = JobLog.for_job(self.home, job_id).append("runner", text)
        self.hub.publish(job_id, entry)

    def _say_release_note(self, job: Mapping[str, Any]) -> None:
        # An applet of a legacy release runs on another one (legacy-release = nearest): its log says so.
        note = (job.get("runnerImage") or {}).get("releaseNote")
        if note:
            self.say(job["id"], f"warning: {note}")

    # -- the loop ------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            try:
                self._advance()
            except Exception:
                log.exception("advancing jobs failed")

    def _advance(self) -> None:
        moved = True
        while moved and not self._closing:
            moved = False
            # Only the waiting jobs whose record or dependencies changed since they were last examined.
            for head in self._settled.changed(self.db, WAITING_STATES):
                if self._progress(head.job()):
                    moved = True
                else:
                    self._settled.settle(self.db, head.id)
        if not self._closing:
            self._admit()

    def _progress(self, job: dict[str, Any]) -> bool:
        state = JobState(job["state"])
        if state is S.WAITING_ON_OUTPUT:
            return self._progress_output(job)
        ready = input_readiness(self.db, job)
        if ready.failure is not None:
            _tree.fail(self, job, "InputError", ready.failure)
            return True
        if ready.waiting_on:
            if state is S.IDLE:
                self.transition(job["id"], S.WAITING_ON_INPUT, {"dependsOn": ready.waiting_on})
                return True
            if ready.waiting_on != job.get("dependsOn"):
                update_job(self.db, job["id"], {"dependsOn": ready.waiting_on})
            return False
        key = reuse_key(job, ready.value)
        job = self.transition(job["id"], S.RUNNABLE, {"input": ready.value, "dependsOn": [], **stored(reuse_key=key)})
        source = find_reusable(self.db, key, job["id"]) if record_of(job).reuse else None
        if source is not None:
            self._reuse(job, source)
        return True

    def _reuse(self, job: dict[str, Any], source: dict[str, Any]) -> None:
        """End `job` done with the output of the equal done job `source`, without running it."""
        output = dict(source.get("output") or {})
        at = now_ms()
        self.transition(job["id"], S.RUNNING, {"startedRunning": at})
        if record_of(job).master:
            clone_outputs(self.db, job, output)
        self.transition(job["id"], S.DONE, {"output": output, "outputReusedFrom": source["id"],
                                              "stoppedRunning": at, **stored(reuse_key=None)})
        self.say(job["id"], f"done: reused the output of {source['id']} (same applet, entry point, input "
                              "and instance type)")

    def _progress_output(self, job: dict[str, Any]) -> bool:
        ready = output_readiness(self.db, job)
        if ready.failure is not None:
            _tree.fail(self, job, "OutputError", ready.failure)
            return True
        if ready.waiting_on:
            if ready.waiting_on != job.get("dependsOn"):
                update_job(self.db, job["id"], {"dependsOn": ready.waiting_on})
            return False
        output = ready.value
        if record_of(job).master:
            applet = get_executable(self.db, job["applet"])
            # The outputSpec is main's: a run started at another entry point (runner rerun) has none.
            spec = _output_spec(applet) if job.get("function", "main") == "main" else None
            problem = output_problem(self.db, spec, output)
            if problem is not None:
                _tree.fail(self, job, "OutputError", problem)
                return True
            clone_outputs(self.db, job, output)
        self.transition(job["id"], S.DONE, {"output": output, "dependsOn": []})
        self.say(job["id"], "done")
        return True

    def _admit(self) -> None:
        """Start the runnable jobs that fit (`runner.engine.scheduler`); keep why the others wait."""
        runnable = [j for j in self._runnable.current(self.db) if j["id"] not in self._running]
        if not runnable:
            self.waiting, self._passed = {}, {}
            return
        by_id = {j["id"]: j for j in runnable}
        # Each job's candidate was made once, when admission read it; only how often it was passed changes.
        candidates = [_passed(j["_derived"], self._passed.get(j["id"], 0)) for j in runnable]
        running = [Candidate(r.job_id, r.request, ancestors=r.ancestors, assignment=r.assignment)
                   for r in self._running.values() if not r.released]
        step = plan(candidates, running, self.scheduled_host())
        told = waiting_changes(self.waiting, step.waiting, (j["_derived"] for j in runnable))
        self.waiting, self._passed = dict(step.waiting), dict(step.passed)
        record_waiting(self.db, told)  # before the starts: a started job's reason is cleared before it runs
        for job_id, assignment in step.starts:
            self._start(by_id[job_id], assignment, ancestors=self._ancestors(by_id[job_id]))

    def _candidate(self, job: Mapping[str, Any]) -> Candidate:
        """A runnable job (admission's view of it) as the scheduler weighs it, passed over no time yet."""
        return Candidate(job["id"], _request(job), int(job.get("rank") or 0), int(job["created"]), self._ancestors(job))

    def scheduled_host(self) -> Host:
        """The host as the scheduler sees it now: the reserve and max_parallel are read afresh (no restart)."""
        settings = current_settings(self.home)
        reserve = Resources(settings.reserve_cores, int(settings.reserve_memory_gib * GIB))
        return dataclasses.replace(self.host, reserve=reserve, max_parallel=settings.max_parallel)

    def _ancestors(self, job: Mapping[str, Any]) -> tuple[str, ...]:
        """The job's parent, its parent's parent... up to the root (cached: a job's parent never changes)."""
        chain: list[str] = []
        parent = job.get("parentJob")
        while parent and parent not in chain:
            chain.append(parent)
            if parent not in self._parents:
                self._parents[parent] = get_job(self.db, parent).get("parentJob")
            parent = self._parents[parent]
        return tuple(chain)

    def _start(self, job: dict[str, Any], assignment: Assignment, ancestors: tuple[str, ...]) -> None:
        running = RunningTry(job["id"], _request(job), assignment=assignment, ancestors=ancestors)
        self._running[job["id"]] = running
        job = self.transition(job["id"], S.RUNNING, {"startedRunning": now_ms(),
                                                      **stored(assignment=assignment.document())})
        if assignment.lender is not None:
            self.say(job["id"], f"the host has no room for it now: it runs inside the reservation of its ancestor "
                                 f"{assignment.lender}, which is still running (its cores are lent to the jobs it "
                                 "may be waiting on)")
        running.task = asyncio.create_task(self._run_try(job["id"], running, new_try_outcome(self, job, running)))

    def release(self, running: RunningTry) -> None:
        running.released = True
        self.wake()

    # -- one try -------------------------------------------------------------------------------------

    async def _run_try(self, job_id: str, running: RunningTry, outcome_of_try: Awaitable[Outcome]) -> None:
        """Await how a try ends (a new container, or one a previous engine started), then end the try."""
        try:
            outcome = await outcome_of_try
        except Exception as exc:
            log.exception("running %s failed", job_id)
            outcome = Outcome(failure_reason="ExecutionError", failure_message=f"{type(exc).__name__}: {exc}")
        finally:
            self._running.pop(job_id, None)
        # The store may refuse every write for a while (a full disk): the try's end is kept and tried again.
        while not self._end_try(job_id, outcome) and not self._closing:
            await asyncio.sleep(FINISH_RETRY_S)
        self.wake()

    def _end_try(self, job_id: str, outcome: Outcome) -> bool:
        """Record how a try ended; on any failure the job still ends (failed). False when the store took nothing."""
        try:
            revoke_job_tokens(self.db, job_id)
            self.finish_try(job_id, outcome)
            return True
        except Exception as exc:
            log.exception("ending the try of %s failed", job_id)
            message = f"the engine could not finish this try: {type(exc).__name__}: {exc}"
        try:
            _tree.end_after_error(self, job_id, message)
            return True
        except Exception:
            log.exception("%s could not be ended after: %s; trying again in %g s", job_id, message, FINISH_RETRY_S)
            return False

    def time_out(self, running: RunningTry) -> None:
        if not running.held and not running.stop.is_set():
            running.timed_out = True
            running.stop.set()

    def finish_try(self, job_id: str, outcome: Outcome) -> None:
        job = get_job(self.db, job_id)
        state = JobState(job["state"])
        if state.is_terminal:
            return
        stopped_at = {"stoppedRunning": now_ms()}
        if state is S.TERMINATING or outcome.stopped:
            if state is not S.TERMINATING:
                self.transition(job_id, S.TERMINATING, {"failureReason": "Terminated",
                                                         "failureMessage": "the engine was stopped"})
            self.transition(job_id, S.TERMINATED, stopped_at)
            self.say(job_id, "terminated")
            return
        if state is S.DEBUG_HOLD:
            # The held container ended without a terminate: the job fails as it would have without the hold.
            reason, message = job.get("failureReason") or "AppInternalError", job.get("failureMessage") or ""
            _tree.fail(self, job, reason, message)
            self.say(job_id, f"failed: {reason}: {message}")
            return
        if outcome.succeeded:
            job = update_job(self.db, job_id, {**stopped_at, **stored(raw_output=outcome.output)})
            if not output_readiness(self.db, job).waiting_on:
                self._progress_output(job)  # nothing to wait on: straight to done (or failed), as on DNAnexus
                return
            self.say(job_id, "the entry point finished; waiting on output")
            self.transition(job_id, S.WAITING_ON_OUTPUT)
            return
        reason, message = outcome.failure_reason or "AppInternalError", outcome.failure_message or ""
        counts = dict(job.get("failureCounts") or {})
        counts[reason] = counts.get(reason, 0) + 1
        if not self._closing and restarts_allowed(job.get("executionPolicy") or {}, reason, counts):
            restart_try(self, job, reason, message, counts)
            return
        # The state first: if the log line cannot be written, the job has still ended as it should.
        _tree.fail(self, job, reason, message)
        self.say(job_id, f"failed: {reason}: {message}")


def _request(job: Mapping[str, Any]) -> Resources:
    # What the job was given of its instance type (capped to the host, GPUs ignored by the GPU policy); the
    # resources record alone, not record_of(job): admission asks this of every runnable job at each wake-up.
    resources = given_resources(job, JobResources.of(job.get(KEYS["resources"])))
    return Resources(resources.cores, resources.memory_bytes, resources.gpus)


def _passed(candidate: Candidate, times: int) -> Candidate:
    return candidate if candidate.passed == times else dataclasses.replace(candidate, passed=times)


def _output_spec(applet: Mapping[str, Any]) -> Any:
    return stored_io_spec(applet, "outputSpec")

