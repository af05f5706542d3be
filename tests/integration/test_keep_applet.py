"""An applet removed while a job of it runs (`runner rm`, the real `dx build -f`): the job keeps it, as on the
platform; its later /job/new works, the tree ends done, and afterwards the applet is gone and fsck is clean.

The job (tests/integration/applets/keep_applet) says it waits with a file in its engine job folder, and goes
on when the test puts `go` there: then it describes its applet and starts a subjob.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from runner.client.api import EngineClient
from runner.client.engine_process import connect, engine_status, start_engine
from runner.errors import ResourceNotFound
from tests.integration.helpers import TEST_APPLETS, engine_of_its_own, runner_cli, tree_jobs, wait_terminal
from tests.integration.test_real_dx import _built_by_dx, _dx_folder, dx

pytestmark = pytest.mark.docker
APPLET = TEST_APPLETS / "keep_applet"
EXPECTED = {"greeting": "from the subjob", "applet_name": "keep_applet"}


def _build(engine: EngineClient) -> str:
    return str(engine.call("/runner/build", {"folder": str(APPLET)})["id"])


def _run(engine: EngineClient, applet: str) -> str:
    return str(engine.call(f"/{applet}/run", {"project": engine.project, "input": {}})["id"])


def _work(home: Path, job: str) -> Path:
    return home / "jobs" / job / "work"


def _wait_until_waiting(home: Path, job: str, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not (_work(home, job) / "waiting").exists():
        log = home / "jobs" / job / "job.log"
        assert time.monotonic() < deadline, f"{job} never waited; its log:\n{log.read_text() if log.exists() else ''}"
        time.sleep(0.2)


def _gone(engine: EngineClient, applet: str) -> None:
    with pytest.raises(ResourceNotFound):
        engine.call(f"/{applet}/describe", {})
    with pytest.raises(ResourceNotFound):  # no new tree of it can start
        engine.call(f"/{applet}/run", {"project": engine.project, "input": {}})
    listed = engine.call(f"/{engine.project}/listFolder", {"folder": "/", "only": "objects"})["objects"]
    assert applet not in [o["id"] for o in listed]


def _ended_done(engine: EngineClient, root: str) -> dict[str, Any]:
    ended = wait_terminal(engine, root, 300)
    assert ended["state"] == "done", ended
    assert ended["output"] == EXPECTED
    jobs = tree_jobs(engine, root)
    assert [(j["function"], j["state"]) for j in jobs] == [("main", "done"), ("child", "done")]
    return ended


def _clean(engine: EngineClient) -> None:
    report = engine.call("/runner/fsck", {})
    assert report["clean"], report["problems"]


def test_runner_rm_while_the_job_runs(engine: EngineClient, engine_home: Path) -> None:
    applet = _build(engine)
    root = _run(engine, applet)
    _wait_until_waiting(engine_home, root)
    removed = runner_cli(engine_home, "rm", applet)
    assert removed.returncode == 0, removed.stderr
    _gone(engine, applet)  # not listed, not described to the user: only the job's tree still reads it
    _clean(engine)  # kept for a job that runs it: no problem
    (_work(engine_home, root) / "go").touch()
    _ended_done(engine, root)
    _gone(engine, applet)
    _clean(engine)
    # Built again from the same folder, it is the same ID, back in the project.
    assert _build(engine) == applet
    assert engine.call(f"/{applet}/describe", {})["name"] == "keep_applet"


def test_dx_build_f_while_the_job_runs(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    _build(engine)  # the runtime image that holds dx
    shutil.copytree(APPLET, tmp_path / "keep_applet")
    folder = _dx_folder(engine, "/keep_applet/dx")
    build = ("build", "keep_applet", "--destination", f"{folder}/")
    old = _built_by_dx(dx(engine_home, engine, *build, workdir=tmp_path))
    root = _run(engine, old)
    _wait_until_waiting(engine_home, root)
    new = _built_by_dx(dx(engine_home, engine, *build, "-f", workdir=tmp_path))
    assert new != old
    _gone(engine, old)
    (_work(engine_home, root) / "go").touch()
    _ended_done(engine, root)
    _gone(engine, old)
    _clean(engine)
    assert engine.call(f"/{new}/describe", {})["folder"] == folder


def _kill_engine(home: Path) -> None:
    status = engine_status(home)
    assert status.running and status.pid is not None
    os.kill(status.pid, signal.SIGKILL)
    os.waitpid(status.pid, 0)  # our child (start_engine spawned it): reap it


def test_kept_through_a_kill_9_of_the_engine(tmp_path_factory: pytest.TempPathFactory,
                                             client: docker.DockerClient) -> None:
    with engine_of_its_own(tmp_path_factory.mktemp("keep"), client) as home:
        engine = connect(home, start=False)
        applet = _build(engine)
        root = _run(engine, applet)
        _wait_until_waiting(home, root)
        engine.call(f"/{engine.project}/removeObjects", {"objects": [applet]})
        _kill_engine(home)
        start_engine(home)
        engine = connect(home, start=False)
        _gone(engine, applet)
        (_work(home, root) / "go").touch()
        _ended_done(engine, root)
        _gone(engine, applet)
        report = json.loads(runner_cli(home, "fsck", "--json").stdout)
        assert report["clean"], report["problems"]
