"""A real Engine on a real SQLite store, with the in-process fake backend playing the job containers."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from runner import launcher
from runner.api.jobs.jobs import public_view
from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeBackend, FakeJob
from runner.engine._container import Reachability
from runner.engine.driver import Engine
from runner.engine.scheduler import Host, Resources
from runner.engine.submit import RunRequest, SubjobRequest
from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.jobs import get_job
from runner.store.objects import create_container, create_object

Script = Callable[[ContainerSpec], FakeJob]
# A guard against a hang on a loaded machine, not a measure.
GIVE_UP_S = 60.0


def function_of(spec: ContainerSpec) -> str:
    """The entry point a fake container runs."""
    return spec.env[launcher.ENV_FUNCTION]


def job_dir(spec: ContainerSpec) -> Path:
    """The host folder mounted at the launcher's job folder: work/, the only one the job may write."""
    return next(Path(m.host_path) for m in spec.mounts if m.container_path == launcher.JOB_DIR)


def outputs(spec: ContainerSpec, doc: dict[str, Any], **fake: Any) -> FakeJob:
    """A fake container whose launcher writes `doc` as output.json."""
    (job_dir(spec) / launcher.OUTPUT).write_text(json.dumps(doc), encoding="utf-8")
    return FakeJob(**fake)


def raises(spec: ContainerSpec, kind: str, message: str, **fake: Any) -> FakeJob:
    """A fake container whose launcher writes error.json and exits 1."""
    error = {"error": {"type": kind, "message": message}}
    (job_dir(spec) / launcher.ERROR).write_text(json.dumps(error), encoding="utf-8")
    return FakeJob(exit_code=1, **fake)


def ref(job_id: str, name: str, index: int | None = None) -> dict[str, Any]:
    """A job-based reference in the `$dnanexus_link` form."""
    body: dict[str, Any] = {"job": job_id, "field": name}
    if index is not None:
        body["index"] = index
    return {"$dnanexus_link": body}


@dataclass
class Harness:
    """One engine with its store, project, applet and fake backend; `script` plays every container."""

    db: Database
    home: Path
    project: str
    applet: dict[str, Any]
    backend: FakeBackend
    engine: Engine
    script: Script = field(default=lambda spec: FakeJob())

    def run(self, original_input: dict[str, Any] | None = None, **request: Any) -> str:
        """Submit a master job of the applet; returns its ID."""
        given = dict(original_input or {})
        job = self.engine.run(self.applet, RunRequest(input=given, original_input=given, project=self.project,
                                                      **request))
        return str(job["id"])

    def subjob(self, spec: ContainerSpec, function: str, input: dict[str, Any] | None = None, **request: Any) -> str:
        """From inside the running container `spec`: /job/new."""
        parent = get_job(self.db, spec.job_id)
        job = self.engine.new_subjob(self.applet, parent, SubjobRequest(function=function, input=input or {}, **request))
        return str(job["id"])

    def describe(self, job_id: str) -> dict[str, Any]:
        """The job as /job-xxxx/describe shows it."""
        return public_view(get_job(self.db, job_id))

    def states(self, job_id: str) -> list[str]:
        """The newState sequence of the job's current try."""
        return [t["newState"] for t in self.describe(job_id)["stateTransitions"]]

    async def until(self, check: Callable[[], bool], what: str) -> None:
        """Poll until `check()` holds; fail the test after GIVE_UP_S."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GIVE_UP_S
        while not check():
            assert loop.time() < deadline, f"gave up waiting for {what}"
            await asyncio.sleep(0.01)

    async def in_state(self, job_id: str, state: str, **fields: Any) -> dict[str, Any]:
        """Wait until the job is in `state` with `fields` as given; returns its describe."""
        def check() -> bool:
            job = self.describe(job_id)
            return job["state"] == state and all(job.get(k) == v for k, v in fields.items())
        await self.until(check, f"{job_id} in {state} with {fields} (now {self.describe(job_id)['state']})")
        return self.describe(job_id)

    async def ended(self, job_id: str) -> dict[str, Any]:
        """Wait until the job is done, failed or terminated; returns its describe."""
        await self.until(lambda: JobState(self.describe(job_id)["state"]).is_terminal,
                         f"{job_id} to end (now {self.describe(job_id)['state']})")
        return self.describe(job_id)

    def stopped_jobs(self) -> set[str]:
        """The jobs whose fake containers the runner stopped (the fake's handles count up from fake-1)."""
        return {self.backend.created[int(h.rsplit("-", 1)[1]) - 1].job_id for h in self.backend.stopped}


Make = Callable[..., Awaitable[Harness]]


@pytest_asyncio.fixture
async def make(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Make]:
    """`await make(output_spec=..., cores=...)`: a started engine, closed after the test."""
    engines: list[Engine] = []

    async def build(output_spec: list[dict[str, Any]] | None = None, cores: float = 2, host: Host | None = None,
                    instance_type: str = "mem1_ssd1_v2_x2") -> Harness:
        db = Database(tmp_path / "runner.db")
        project = create_container(db, "project", "p")
        doc = {"outputSpec": output_spec, "inputSpec": None, "access": {}, "title": "", "_runner": {
            "folder": str(tmp_path), "image": "img", "interpreter": "bash",
            "systemRequirements": {"*": {"instanceType": instance_type}}, "timeoutPolicy": {},
            "executionPolicy": {}}}
        applet = create_object(db, "applet", project, name="demo", state="closed", doc=doc,
                               object_id=new_id("applet"))
        harness: Harness
        backend = FakeBackend(lambda spec: harness.script(spec))
        engine = Engine(db, backend, tmp_path, Reachability(port=1, socket_dir=tmp_path),
                        Resources(cores=cores, memory_bytes=64 << 30, gpus=0) if host is None else host.resources,
                        host=host)
        harness = Harness(db, tmp_path, project, applet, backend, engine)
        engines.append(engine)
        await engine.start()
        return harness

    caplog.set_level(logging.ERROR, logger="runner")
    yield build
    for engine in engines:
        await engine.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"the engine logged errors: {errors}"
