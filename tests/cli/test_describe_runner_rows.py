"""`runner describe`: a job capped to the host (instance-policy cap), and a job's HTTPS app."""

from __future__ import annotations

from datetime import UTC

from runner.cli.describe import format_describe
from tests.cli.test_describe import job, rows

WHY = ("mem1_ssd1_v2_x4 asks for 4 cores, 8.0 GiB, more than this host's 2 cores, 23.5 GiB: runs with 2 cores, "
       "8.0 GiB (instance-policy cap)")


def test_a_capped_job_says_why_and_an_uncapped_one_says_nothing() -> None:
    capped = job(instanceType="mem1_ssd1_v2_x4", runnerResources={"capped": True, "why": WHY})
    assert rows(format_describe(capped, UTC))["Capped"] == WHY
    fitting = job(runnerResources={"capped": False, "why": None})
    assert "Capped" not in rows(format_describe(fitting, UTC))


def test_a_running_https_app_names_its_url_and_how_to_open_it() -> None:
    url = "http://job-xxxx.localhost:40123/"
    running = job(httpsApp={"enabled": True, "ports": [443], "dns": {"url": url}})
    assert rows(format_describe(running, UTC))["HTTPS app"] == f"{url} (open while the job runs: runner open {running['id']})"
    ended = job(httpsApp={"enabled": False, "ports": [443], "dns": {"url": url}})
    assert rows(format_describe(ended, UTC))["HTTPS app"] == f"{url} (closed)"
    assert "HTTPS app" not in rows(format_describe(job(), UTC))
