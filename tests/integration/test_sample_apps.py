"""Every sample applet end to end: its outputs, and the state of every job in its tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import (
    download_text,
    run_sample,
    run_test_applet,
    tree_jobs,
    upload_text,
    wait_terminal,
)

pytestmark = pytest.mark.docker
# Backend-neutral: every test runs on the Docker and on the local backend (tests/integration/conftest.py).
BACKENDS = ("docker", "local")


def assert_done(job: dict[str, Any]) -> None:
    why = (job["id"], job["function"], job.get("failureReason"), job.get("failureMessage"))
    assert job["state"] == "done", why
    assert job["stateTransitions"][-1]["newState"] == "done"


def run_to_end(engine: Any, name: str, input: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run sample_apps/<name>; the root's final describe and the final describes of its whole tree."""
    root = wait_terminal(engine, run_sample(engine, name, input))
    jobs = [wait_terminal(engine, job["id"], 60) for job in tree_jobs(engine, root["id"])]
    assert jobs[0]["id"] == root["id"] and jobs[0]["function"] == "main"
    assert all(job["parentJob"] == root["id"] for job in jobs[1:])
    return root, jobs


def of_function(jobs: list[dict[str, Any]], function: str) -> list[dict[str, Any]]:
    return [job for job in jobs if job["function"] == function]


def test_hello_bash(engine: Any) -> None:
    root, jobs = run_to_end(engine, "hello_bash", {"who": "Ada"})
    assert_done(root)
    assert root["output"] == {"greeting": "Hello, Ada!"}
    assert len(jobs) == 1


def test_hello_python(engine: Any) -> None:
    root, jobs = run_to_end(engine, "hello_python", {"who": "Ada", "times": 2})
    assert_done(root)
    assert root["output"] == {"greeting": "Hello, Ada! Hello, Ada!"}
    assert len(jobs) == 1


def test_scatter_gather_python(engine: Any) -> None:
    root, jobs = run_to_end(engine, "scatter_gather_python", {"n": 4})
    assert_done(root)
    assert root["output"] == {"squares": [0, 1, 4, 9], "total": 14}
    squares, gathers = of_function(jobs, "square"), of_function(jobs, "gather")
    assert len(jobs) == 6 and len(squares) == 4 and len(gathers) == 1
    for job in jobs:
        assert_done(job)
    assert sorted(job["output"]["square"] for job in squares) == [0, 1, 4, 9]
    assert gathers[0]["output"] == {"total": 14}


def test_scatter_gather_bash_with_default_words(engine: Any) -> None:
    root, jobs = run_to_end(engine, "scatter_gather_bash", {})
    assert_done(root)
    assert root["output"] == {"shouted": ["ALPHA!", "BETA!", "GAMMA!"], "count": 3}
    shouts = of_function(jobs, "shout")
    assert len(shouts) == 3 and len(jobs) == 4
    for job in jobs:
        assert_done(job)
    assert sorted(job["output"]["shouted"] for job in shouts) == ["ALPHA!", "BETA!", "GAMMA!"]


def test_file_pipeline(engine: Any, engine_home: Path) -> None:
    contents = {"reads.txt": "a\nb\nc\n", "a.txt": "x\n", "b.txt": "y\nz\n"}
    links = {name: upload_text(engine, name, text) for name, text in contents.items()}
    root, jobs = run_to_end(engine, "file_pipeline",
                            {"reads": links["reads.txt"], "extras": [links["a.txt"], links["b.txt"]]})
    assert_done(root)
    assert len(jobs) == 1
    output = root["output"]
    assert set(output) == {"report", "copies", "total_lines"}
    assert output["total_lines"] == 6
    # The local backend's HOME is the job's folder on the host; the container's is /home/dnanexus.
    report = download_text(engine, output["report"]).replace(f"{engine_home}/jobs/{root['id']}/home",
                                                              "/home/dnanexus")
    assert report == (
        "3 /home/dnanexus/in/reads/reads.txt\n"
        "1 /home/dnanexus/in/extras/0/a.txt\n"
        "2 /home/dnanexus/in/extras/1/b.txt\n"
    )
    assert len(output["copies"]) == 3
    copies = {}
    for link in output["copies"]:
        described = engine.call(f"/{link['$dnanexus_link']}/describe", {})
        assert described["state"] == "closed"
        copies[described["name"]] = download_text(engine, link)
    assert copies == contents


def test_failing_subjob(engine: Any) -> None:
    root, jobs = run_to_end(engine, "failing_subjob", {})
    [explode] = of_function(jobs, "explode")
    [linger] = of_function(jobs, "linger")
    assert len(jobs) == 3
    assert explode["state"] == "failed"
    assert explode["failureReason"] == "AppError"
    assert explode["failureMessage"] == "the input was not good enough"
    assert explode["stateTransitions"][-1]["newState"] == "failed"
    assert linger["state"] == "terminated"
    assert linger["stateTransitions"][-1]["newState"] == "terminated"
    assert root["state"] == "failed"
    assert root["failureReason"] == "AppError"
    assert root["failureMessage"] == "the input was not good enough"
    assert root["failureFrom"]["id"] == explode["id"]
    assert root["failureFrom"]["function"] == "explode"
    assert "output" not in root or not root["output"]


def test_timeout_demo(engine: Any) -> None:
    root, jobs = run_to_end(engine, "timeout_demo", {})
    assert len(jobs) == 1
    assert root["state"] == "failed"
    assert root["failureReason"] == "JobTimeoutExceeded"
    assert root["stateTransitions"][-1]["newState"] == "failed"
    assert "running" in [t["newState"] for t in root["stateTransitions"]]
    ran_for_s = (root["stoppedRunning"] - root["startedRunning"]) / 1000
    assert 5 <= ran_for_s < 120, ran_for_s


def test_oom_demo(engine: Any) -> None:
    root, jobs = run_to_end(engine, "oom_demo", {})
    assert len(jobs) == 1
    assert root["instanceType"] == "mem1_ssd1_x2"
    assert root["state"] == "failed"
    assert root["failureReason"] == "AppInsufficientResourceError"
    assert "memory" in root["failureMessage"]
    assert root["stateTransitions"][-1]["newState"] == "failed"


def test_restart_demo(engine: Any) -> None:
    root, jobs = run_to_end(engine, "restart_demo", {})
    assert len(jobs) == 1
    assert_done(root)
    assert root["output"] == {"tries": 3}
    assert root["try"] == 2
    assert root["failureCounts"] == {"AppInternalError": 2}
    for earlier in (0, 1):
        first = engine.call(f"/{root['id']}/describe", {"try": earlier})
        assert first["try"] == earlier
        assert first["state"] == "restartable"
        assert first["failureReason"] == "AppInternalError"
        assert first["failureMessage"] == f"RuntimeError: simulated crash on try {earlier}"


def test_the_root_jobs_output_files_land_in_the_project_under_its_folder(engine: Any) -> None:
    reads = upload_text(engine, "lines.txt", "1\n2\n")
    root = wait_terminal(engine, run_sample(engine, "file_pipeline", {"reads": reads}, folder="/results/run1"))
    assert_done(root)
    listed = engine.call(f"/{engine.project}/listFolder", {"folder": "/results/run1", "describe": True})
    names = {entry["describe"]["name"]: entry["id"] for entry in listed["objects"]}
    assert names.get("report.txt") == root["output"]["report"]["$dnanexus_link"]
    assert "lines.txt" in names  # the copy, cloned out of the job's workspace


def test_dxpys_own_file_helpers(engine: Any) -> None:
    text = upload_text(engine, "words.txt", "some words\n")
    more = [upload_text(engine, "one.txt", "1"), upload_text(engine, "two.txt", "22")]
    root = wait_terminal(engine, run_test_applet(engine, "py_files", {"text": text, "more": more}))
    assert_done(root)
    assert root["output"]["sizes"] == [11, 1, 2]
    assert root["output"]["names"] == ["words.txt", "one.txt", "two.txt"]
    assert download_text(engine, root["output"]["upper"]) == "SOME WORDS\n"


def test_the_dx_command_inside_a_bash_job(engine: Any) -> None:
    reads = upload_text(engine, "unsorted.txt", "b\nc\na\n")
    root = wait_terminal(engine, run_test_applet(engine, "bash_dx_cli", {"reads": reads}))
    assert_done(root)
    assert root["output"]["reads_name"] == "unsorted.txt"
    assert download_text(engine, root["output"]["sorted"]) == "a\nb\nc\n"
