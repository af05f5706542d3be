"""The local backend's own behaviour against a real engine: what a job sees, terminate, debug hold and
`runner ssh`, an engine killed with -9 and restarted, and what a build without Docker refuses.

The engine-lifecycle suites run on this backend too (the modules naming BACKENDS: sample apps, job API,
terminate and logs, events, rerun, reuse and debug); these are the scenarios whose Docker versions look at
containers. No Docker is used here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from runner.client.api import EngineClient
from runner.client.engine_process import connect, engine_status, start_engine, stop_engine
from runner.config import write_setting
from runner.errors import ApiError
from tests.integration.helpers import (
    SAMPLE_APPS,
    TEST_APPLETS,
    build_test_applet,
    run_test_applet,
    runner_cli,
    tree_jobs,
    wait_state,
    wait_terminal,
)


def job_processes(job_ids: set[str]) -> list[psutil.Process]:
    """The processes of this machine that belong to one of `job_ids` (by the DX_JOB_ID they run with)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("DX_JOB_ID") in job_ids and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.Error:
            continue
    return found


def wait_no_processes(job_ids: set[str], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while (left := job_processes(job_ids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], [p.cmdline() for p in left]


def test_a_job_sees_its_cores_its_home_and_the_engine_on_localhost(local_engine: EngineClient,
                                                                   local_engine_home: Path) -> None:
    job_id = run_test_applet(local_engine, "local_probe", {})
    job = wait_terminal(local_engine, job_id)
    assert job["state"] == "done", (job.get("failureReason"), job.get("failureMessage"))
    home = f"{local_engine_home}/jobs/{job_id}/home"
    port = str(local_engine.url).rsplit(":", 1)[1]
    assert job["output"] == {"nproc": 1, "home": f"{home}:{home}", "apiserver": f"127.0.0.1:{port}",
                             "six": "1.17.0", "resource": "a resource tool"}
    assert not Path(home).exists(), "the try's home goes with it, as a container's file system does"


def test_terminate_ends_every_process_of_the_tree(local_engine: EngineClient) -> None:
    root = run_test_applet(local_engine, "sleepy_tree", {})
    try:
        wait_state(local_engine, root, ("running",))
        deadline = time.monotonic() + 120
        while len(tree_jobs(local_engine, root)) < 3:
            assert time.monotonic() < deadline, f"{root} did not start its two subjobs"
            time.sleep(0.2)
        assert job_processes({root}), "the running root has processes"
        assert local_engine.call(f"/{root}/terminate", {}) == {"id": root}
        ended = wait_terminal(local_engine, root, 120)
    finally:
        local_engine.call(f"/{root}/terminate", {})
    assert ended["state"] == "terminated"
    jobs = [wait_terminal(local_engine, job["id"], 60) for job in tree_jobs(local_engine, root)]
    assert [job["state"] for job in jobs] == ["terminated"] * 3
    wait_no_processes({job["id"] for job in jobs})


def test_a_held_job_has_a_shell_in_its_home_until_terminated(local_engine: EngineClient) -> None:
    job_id = run_test_applet(local_engine, "debug_fail", {}, debug={"debugOn": ["AppError"]})
    try:
        held = wait_state(local_engine, job_id, ("debug_hold", "done", "failed", "terminated"), timeout_s=180)
        assert held["state"] == "debug_hold", (held.get("failureReason"), held.get("failureMessage"))
        response = requests.get(f"{local_engine.url}/runner/shell", params={"job": job_id},
                                headers={"Authorization": f"Bearer {local_engine.token}"}, timeout=30)
        response.raise_for_status()
        argv = response.json()["argv"]
        assert argv[-1] == "bash"
        probe = subprocess.run([*argv, "-c", "cat marker.txt; pwd; echo $DX_JOB_ID"], capture_output=True,
                               text=True, timeout=60, check=False)
        assert probe.returncode == 0, probe.stderr
        lines = probe.stdout.splitlines()
        assert lines[0] == "left for the debugger"
        assert lines[1].endswith(f"/jobs/{job_id}/home") and lines[2] == job_id
    finally:
        local_engine.call(f"/{job_id}/terminate", {})
    ended = wait_terminal(local_engine, job_id, timeout_s=60)
    assert [t["newState"] for t in ended["stateTransitions"]][-3:] == ["debug_hold", "terminating", "terminated"]
    wait_no_processes({job_id})


def test_apt_exec_depends_are_refused_by_name(local_engine: EngineClient, tmp_path: Path) -> None:
    folder = tmp_path / "needs_apt"
    (folder / "src").mkdir(parents=True)
    document = json.loads((TEST_APPLETS / "local_probe" / "dxapp.json").read_text())
    document["name"] = "needs_apt"
    document["runSpec"]["execDepends"] = [{"name": "samtools"}]
    (folder / "dxapp.json").write_text(json.dumps(document))
    (folder / "src" / "local_probe.sh").write_text("main() { :; }\n")
    with pytest.raises(ApiError) as raised:
        local_engine.call("/runner/build", {"folder": str(folder)})
    message = str(raised.value)
    assert "samtools" in message and "cannot install system packages" in message


@pytest.fixture
def crash_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A state folder with a local-backend engine of its own, stopped after the test."""
    home = tmp_path_factory.mktemp("lcrash")
    write_setting("backend", "local", home)
    start_engine(home)
    try:
        yield home
    finally:
        stop_engine(home)


def _subjob(engine: EngineClient, root: str, function: str) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for job in tree_jobs(engine, root):
            if job["function"] == function:
                return str(job["id"])
        time.sleep(0.2)
    raise AssertionError(f"no {function} subjob in {root}")


def test_a_tree_lives_through_a_kill_9_of_the_engine(crash_home: Path) -> None:
    engine = connect(crash_home, start=False)
    root = run_test_applet(engine, "crash_tree", {"seconds": 12, "quick_seconds": 3})
    quick = _subjob(engine, root, "quick")
    deadline = time.monotonic() + 120
    while "quick started" not in runner_cli(crash_home, "watch", "--no-follow", "--get-stdout", quick).stdout:
        assert time.monotonic() < deadline, "quick did not start"
        time.sleep(0.2)
    status = engine_status(crash_home)
    assert status.pid is not None
    os.kill(status.pid, signal.SIGKILL)
    os.waitpid(status.pid, 0)
    time.sleep(4)  # the quick job ends while the engine is away
    assert start_engine(crash_home).url == status.url
    engine = connect(crash_home, start=False)
    described = wait_terminal(engine, root)
    assert described["state"] == "done", described.get("failureMessage")
    assert described["output"] == {"quick": 30, "after": 8, "state_seen": "running"}
    watched = runner_cli(crash_home, "watch", "--get-stdout", root)
    ticks = [line for line in watched.stdout.splitlines() if line.startswith("main tick ")]
    assert ticks == [f"main tick {n}" for n in range(1, 13)], "each line once, those of the outage included"
    wait_no_processes({job["id"] for job in tree_jobs(engine, root)})


def test_pip_exec_depends_are_the_applets_own(local_engine: EngineClient, tmp_path: Path) -> None:
    build_test_applet(local_engine, "local_probe")  # installs six for local_probe alone
    folder = tmp_path / "no_six"
    (folder / "src").mkdir(parents=True)
    (folder / "dxapp.json").write_text(json.dumps({
        "name": "no_six", "dxapi": "1.0.0", "inputSpec": [], "outputSpec": [{"name": "six", "class": "string"}],
        "runSpec": {"interpreter": "bash", "file": "src/no_six.sh", "distribution": "Ubuntu", "release": "24.04",
                    "systemRequirements": {"*": {"instanceType": "mem2_hdd2_x1"}}}}))
    (folder / "src" / "no_six.sh").write_text(
        'main() {\n  found=$(python3 -c "import six" 2>/dev/null && echo present || echo absent)\n'
        '  dx-jobutil-add-output six "$found" --class string\n}\n')
    applet = local_engine.call("/runner/build", {"folder": str(folder)})["id"]
    job_id = local_engine.call(f"/{applet}/run", {"project": local_engine.project, "input": {}})["id"]
    job = wait_terminal(local_engine, job_id)
    assert job["state"] == "done", (job.get("failureReason"), job.get("failureMessage"))
    assert job["output"] == {"six": "absent"}


def test_engine_start_backend_local_warns_and_runs_jobs_without_docker(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("lcli")
    # Docker is out of reach for this engine: the local backend must never need it.
    env = {**os.environ, "RUNNER_HOME": str(home), "DOCKER_HOST": f"unix://{home}/no-docker.sock"}
    env.pop("RUNNER_BACKEND", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "runner", *args], env=env, capture_output=True, text=True,
                              timeout=600, check=False)

    try:
        started = cli("engine", "start", "--backend", "local")
        assert started.returncode == 0, started.stderr
        assert "no isolation" in started.stderr and "engine running at" in started.stdout
        assert json.loads((home / "engine.json").read_text())["backend"] == "local"
        ran = cli("run", str(SAMPLE_APPS / "hello_bash"), "-i", "who=Local", "--wait")
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout) == {"greeting": "Hello, Local!"}
        doctor = json.loads(cli("doctor", "--json").stdout)
        assert doctor["local_backend"]["limits"] in ("cgroup", "watchdog")
        assert any("no isolation" in line for line in doctor["local_backend"]["lines"])
    finally:
        cli("engine", "stop")
