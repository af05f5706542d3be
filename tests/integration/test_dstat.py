"""The worker's resource logger: `pcp-dstat` runs from a job's start and `/usr/bin/dx-dstat N` restarts it,
so public applets that begin with `kill $(ps aux | grep pcp-dstat ...)` and `/usr/bin/dx-dstat 30` run
unmodified."""

from __future__ import annotations

import re

import pytest

from runner.client.api import EngineClient
from tests.integration.helpers import run_test_applet, wait_terminal

pytestmark = pytest.mark.docker
APPLET = "dstat_worker"
RESOURCE_LINE = re.compile(
    r"dstat \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ load (\d+\.\d+) cpu (\d+\.\d)% of (\d+) "
    r"mem (\d+)/(\d+) MiB disk (\d+\.\d)/(\d+\.\d) GiB"
)
USAGE = "usage: dx-dstat [SECONDS]"


def test_the_public_applets_first_two_lines_work_and_the_job_is_done(engine: EngineClient) -> None:
    job = wait_terminal(engine, run_test_applet(engine, APPLET, {"mode": "public"}))
    assert job["state"] == "done", job.get("failureMessage")
    output = job["output"]
    # The launcher's logger was the one killed: what is left is the one dx-dstat 30 started.
    assert output["loggers"] == "pcp-dstat /usr/bin/dx-dstat --logger 30"
    assert output["zombies"] == "0"
    assert output["logger_stderr"] == "its-own"
    assert output["sum"] == 5050


def _resource_lines(engine: EngineClient, job_id: str, wanted: int) -> list[re.Match[str]]:
    found = []
    for record in engine.stream_logs(job_id):
        if record["kind"] == "end":
            break
        match = RESOURCE_LINE.fullmatch(record.get("line", "")) if record["kind"] == "log" else None
        if match and record["stream"] == "stdout":
            found.append(match)
            if len(found) == wanted:
                break
    return found


def test_dx_dstat_1_prints_resource_lines_to_the_job_log(engine: EngineClient) -> None:
    job_id = run_test_applet(engine, APPLET, {"mode": "lines"})
    try:
        lines = _resource_lines(engine, job_id, wanted=2)
    finally:
        engine.call(f"/{job_id}/terminate", {})
    assert len(lines) == 2, wait_terminal(engine, job_id).get("failureMessage")
    for line in lines:
        load, cpu, cpus, mem_used, mem_total, disk_used, disk_size = line.groups()
        assert float(load) >= 0 and 0 <= float(cpu) <= 100 * int(cpus)
        assert 0 < int(mem_used) <= int(mem_total)
        assert 0 < float(disk_used) <= float(disk_size)
    # The job's instance type gives its container 2 CPUs.
    assert lines[0].group(3) == "2"
    assert wait_terminal(engine, job_id)["state"] == "terminated"


def test_dx_dstat_with_a_bad_interval_fails_with_its_usage(engine: EngineClient) -> None:
    job = wait_terminal(engine, run_test_applet(engine, APPLET, {"mode": "bad"}))
    assert job["state"] == "failed"
    message = job["failureMessage"]
    assert "exit code 2" in message
    assert "dx-dstat: SECONDS must be a whole number from 1 to 86400, not 'abc'" in message
    assert USAGE in message
