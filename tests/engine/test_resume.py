"""A restarted engine carries on with the jobs the store says were running, held or terminating.

The store and the fake backend are set up as an engine killed with `kill -9` leaves them: jobs in `running`
with a valid token and a few lines in job.log, and their containers still there (running, exited or gone).
A new Engine on the same store and backend then starts; describe shows what a user sees.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from runner.api.jobs.jobs import public_view
from runner.backends.base import ContainerSpec, ContainerState
from runner.backends.fake import FakeBackend, FakeJob
from runner.engine._container import Reachability, container_spec
from runner.engine._resume import Restart
from runner.engine.driver import Engine
from runner.engine.job_files import job_folder, prepare_try
from runner.engine.logs import JobLog, read_entries
from runner.engine.scheduler import Assignment, Resources
from runner.engine.submit import RunRequest, create_master_job
from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.db import Database, now_ms
from runner.store.job_record import stored
from runner.store.jobs import get_job, transition, update_job
from runner.store.objects import create_container, create_object
from runner.store.tokens import issue_job_token, lookup_token
from tests.engine.conftest import GIVE_UP_S, outputs, raises

pytestmark = pytest.mark.asyncio
S = JobState


@dataclass
class Crashed:
    """A store and a fake Docker as a killed engine left them; `restart()` starts the next engine."""

    db: Database
    home: Path
    project: str
    applet: dict[str, Any]
    backend: FakeBackend = field(default_factory=lambda: FakeBackend(stop_grace_s=0.01))
    engines: list[Engine] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    def left(self, container: ContainerState | None = "running", *, state: JobState = S.RUNNING,
             fake: Any = None, logged: tuple[tuple[str, str], ...] = (), ran_s: float = 1.0,
             timeout_s: float | None = None, network: bool = False) -> str:
        """A job the dead engine had started `ran_s` ago; `fake(spec)` (a FakeJob) plays its container."""
        job = create_master_job(self.db, self.applet, RunRequest(input={}, original_input={}, project=self.project))
        job_id = job["id"]
        transition(self.db, job_id, S.RUNNABLE, {"input": {}})
        started = now_ms() - int(ran_s * 1000)
        job = transition(self.db, job_id, S.RUNNING, {"startedRunning": started})
        job = update_job(self.db, job_id, {"timeout": int(timeout_s * 1000) if timeout_s else None,
                                           "networkAccess": network})
        if state is not S.RUNNING:
            job = transition(self.db, job_id, state, {"failureReason": "AppError", "failureMessage": "held"}
                             if state is S.DEBUG_HOLD else {"failureReason": "Terminated"})
        self.tokens[job_id] = token = issue_job_token(self.db, job_id)
        job_dir = job_folder(self.home, job_id)
        prepare_try(job_dir, {})  # as the dead engine did before it created the container
        reach = Reachability(port=1, socket_dir=self.home, network="net", gateway="10.0.0.1")
        spec = container_spec(job, self.applet, token, job_dir, reach, 0)
        for stream, line in logged:
            JobLog(job_dir).append(stream, line, at_ms=started + 1)
        if container is not None:
            self.backend.adopt(spec, (fake or (lambda s: FakeJob()))(spec), container)
        return str(job_id)

    async def restart(self, cores: float = 2, **restart: Any) -> Engine:
        """The next engine on the same store and Docker, started."""
        engine = Engine(self.db, self.backend, self.home, Reachability(port=2, socket_dir=self.home),
                        Resources(cores=cores, memory_bytes=64 << 30, gpus=0))
        self.engines.append(engine)
        await engine.start(Restart(**restart))
        return engine

    def describe(self, job_id: str) -> dict[str, Any]:
        """The job as /job-xxxx/describe shows it."""
        return public_view(get_job(self.db, job_id))

    async def until(self, job_id: str, *states: str) -> dict[str, Any]:
        """The describe of `job_id` once it is in one of `states`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GIVE_UP_S
        while (job := self.describe(job_id))["state"] not in states:
            assert loop.time() < deadline, f"{job_id} is {job['state']}, not {states}"
            await asyncio.sleep(0.01)
        return job

    def log(self, job_id: str) -> list[tuple[str, str]]:
        """The job's log lines, (stream, text), in order."""
        return [(e.stream, e.text) for e in read_entries(self.home / "jobs" / job_id)[0]]

    def token_valid(self, job_id: str) -> bool:
        """Whether the job's token still works."""
        info = lookup_token(self.db, self.tokens[job_id])
        return info is not None and not info.revoked


@pytest_asyncio.fixture
async def crashed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Crashed]:
    """An empty store and fake Docker; every engine started on them is closed after the test."""
    db = Database(tmp_path / "runner.db")
    project = create_container(db, "project", "p")
    doc = {"outputSpec": None, "inputSpec": None, "access": {}, "title": "", "_runner": {
        "folder": str(tmp_path), "image": "img", "interpreter": "bash",
        "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x2"}}, "timeoutPolicy": {},
        "executionPolicy": {}}}
    applet = create_object(db, "applet", project, name="demo", state="closed", doc=doc, object_id=new_id("applet"))
    caplog.set_level(logging.ERROR, logger="runner")
    state = Crashed(db, tmp_path, project, applet)
    yield state
    for engine in state.engines:
        await engine.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"the engine logged errors: {errors}"


LOG = (("stdout", "one"), ("stderr", "e-one"), ("stdout", "two"), ("stdout", "three"), ("stderr", "e-two"))


async def test_a_running_container_is_followed_again_and_its_log_goes_on_without_repeats(crashed: Crashed) -> None:
    job_id = crashed.left(fake=lambda spec: outputs(spec, {"n": 7}, logs=LOG, duration_s=None),
                          logged=(("stdout", "one"), ("stderr", "e-one")))
    await crashed.restart()
    assert crashed.describe(job_id)["state"] == "running"
    assert crashed.token_valid(job_id), "a live job's token must survive the restart"
    crashed.backend.finish(job_id)
    job = await crashed.until(job_id, "done")
    assert job["output"] == {"n": 7}
    assert [line for line in crashed.log(job_id) if line[0] != "runner"] == list(LOG)
    assert any("the engine restarted: its container is running" in text for _, text in crashed.log(job_id))
    assert not crashed.token_valid(job_id)
    assert crashed.backend.running_jobs() == [] and len(crashed.backend.removed) == 1


async def test_a_job_that_wrote_its_output_during_the_outage_is_collected(crashed: Crashed) -> None:
    job_id = crashed.left("exited", fake=lambda spec: outputs(spec, {"late": True}))
    await crashed.restart()
    job = await crashed.until(job_id, "done", "failed")
    assert job["state"] == "done" and job["output"] == {"late": True}
    assert crashed.backend.removed == ["fake-1"]


async def test_a_job_that_failed_during_the_outage_fails_with_its_own_error(crashed: Crashed) -> None:
    job_id = crashed.left("exited", fake=lambda spec: raises(spec, "AppError", "bad input file"))
    await crashed.restart()
    job = await crashed.until(job_id, "failed")
    assert (job["failureReason"], job["failureMessage"]) == ("AppError", "bad input file")


async def test_a_job_whose_container_is_gone_fails_saying_so_and_how_long_the_engine_was_away(
        crashed: Crashed) -> None:
    job_id = crashed.left(None)
    await crashed.restart(away_since_ms=now_ms() - 42_000)
    job = await crashed.until(job_id, "failed")
    assert job["failureReason"] == "AppInternalError"
    assert job["failureMessage"] == "its container was gone after the engine restarted (the engine was away " \
                                    "for about 42s)"
    assert not crashed.token_valid(job_id)


async def test_a_terminating_job_ends_terminated_and_its_container_is_stopped(crashed: Crashed) -> None:
    job_id = crashed.left(state=S.TERMINATING, fake=lambda spec: FakeJob(duration_s=None))
    gone = crashed.left(None, state=S.TERMINATING)
    await crashed.restart()
    assert (await crashed.until(job_id, "terminated", "failed"))["state"] == "terminated"
    assert (await crashed.until(gone, "terminated", "failed"))["state"] == "terminated"
    assert crashed.backend.stopped == ["fake-1"] and crashed.backend.running_jobs() == []


async def test_terminate_stops_a_resumed_job(crashed: Crashed) -> None:
    job_id = crashed.left(fake=lambda spec: FakeJob(duration_s=None))
    engine = await crashed.restart()
    engine.terminate(job_id)
    job = await crashed.until(job_id, "terminated", "failed")
    assert job["state"] == "terminated" and crashed.backend.running_jobs() == []


async def test_the_rest_of_the_timeout_applies_and_one_spent_during_the_outage_ends_the_job(crashed: Crashed) -> None:
    spent = crashed.left(fake=lambda spec: FakeJob(duration_s=None), ran_s=30, timeout_s=10)
    left = crashed.left(fake=lambda spec: FakeJob(duration_s=None), ran_s=30, timeout_s=30.3)
    await crashed.restart(cores=4)
    for job_id in (spent, left):
        job = await crashed.until(job_id, "failed")
        assert job["failureReason"] == "JobTimeoutExceeded"
        assert "longer than its timeout" in job["failureMessage"]


async def test_a_resumed_job_keeps_its_cores_from_the_scheduler(crashed: Crashed) -> None:
    resumed = crashed.left(fake=lambda spec: FakeJob(duration_s=None))
    engine = await crashed.restart(cores=2)
    newer = engine.run(crashed.applet, RunRequest(input={}, original_input={}, project=crashed.project))["id"]
    await crashed.until(newer, "runnable")
    await asyncio.sleep(0.2)
    assert crashed.describe(newer)["state"] == "runnable", "the host's 2 cores are the resumed job's"
    crashed.backend.finish(resumed)
    await crashed.until(newer, "running", "done", "failed")
    assert newer in [spec.job_id for spec in crashed.backend.created], "the newer job ran once the cores were free"


async def test_a_container_created_but_never_started_is_started(crashed: Crashed) -> None:
    job_id = crashed.left("created", fake=lambda spec: outputs(spec, {"ok": 1}))
    await crashed.restart()
    assert (await crashed.until(job_id, "done", "failed"))["output"] == {"ok": 1}
    assert crashed.backend.started == ["fake-1"]


async def test_a_held_job_stays_held_until_terminated(crashed: Crashed) -> None:
    job_id = crashed.left(state=S.DEBUG_HOLD, fake=lambda spec: FakeJob(duration_s=None), timeout_s=0.01)
    engine = await crashed.restart()
    await asyncio.sleep(0.2)
    assert crashed.describe(job_id)["state"] == "debug_hold", "a held job's timeout no longer applies"
    engine.terminate(job_id)
    assert (await crashed.until(job_id, "terminated"))["state"] == "terminated"


async def test_a_networked_job_failing_after_the_port_moved_says_why(crashed: Crashed) -> None:
    def unreachable(spec: ContainerSpec) -> FakeJob:
        assert json.loads(spec.env["DX_SECURITY_CONTEXT"])["auth_token"]
        return raises(spec, "AppInternalError", "ConnectionError: cannot reach 10.0.0.1:1")
    job_id = crashed.left("exited", fake=unreachable, network=True)
    await crashed.restart(port_moved_from=1)
    job = await crashed.until(job_id, "failed")
    assert job["failureMessage"] == ("ConnectionError: cannot reach 10.0.0.1:1 (this job was told the engine is at "
                                     "port 1, which another program had taken when the engine restarted; the engine "
                                     "now listens on port 2)")


async def test_a_resumed_job_gets_its_cpus_back(crashed: Crashed) -> None:
    resumed = crashed.left(fake=lambda spec: FakeJob(duration_s=None))
    update_job(crashed.db, resumed, stored(assignment=Assignment((0, 1)).document()))
    engine = await crashed.restart(cores=4)
    newer = engine.run(crashed.applet, RunRequest(input={}, original_input={}, project=crashed.project))["id"]
    await crashed.until(newer, "done", "failed")  # the fake's default container leaves no output: failed
    started = next(text for stream, text in crashed.log(newer) if text.startswith("try 0 started"))
    assert started.endswith(", on CPUs 2,3"), "CPUs 0 and 1 are still the resumed job's"
    crashed.backend.finish(resumed)
    await crashed.until(resumed, "done", "failed")
