"""`runner rerun` as a subprocess against the real engine (real Docker, real dxpy in the jobs): one subjob of
a scatter-gather tree run again alone with its resolved input, and `--latest` running the edited source; a
real build's events carry the changed files it was told of."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.client.events import EventQuery, follow_events
from runner.spec import events as ev
from tests.integration.helpers import SAMPLE_APPS, run_sample, runner_cli, tree_jobs, wait_terminal

pytestmark = pytest.mark.docker
# Backend-neutral: every test runs on the Docker and on the local backend (tests/integration/conftest.py).
BACKENDS = ("docker", "local")

SCATTER = "scatter_gather_python"


def _started(result: subprocess.CompletedProcess[str]) -> str:
    """The new job's ID, from the `Started job-...` line on stderr."""
    found = re.search(r"Started (job-[0-9A-Za-z]{24})", result.stderr)
    assert found is not None, (result.returncode, result.stdout, result.stderr)
    return found.group(1)


def _done_tree(engine: EngineClient, root: str) -> dict[str, dict[str, Any]]:
    """The jobs of a finished tree by function (the first of each)."""
    assert wait_terminal(engine, root)["state"] == "done"
    by_function: dict[str, dict[str, Any]] = {}
    for job in tree_jobs(engine, root):
        by_function.setdefault(job["function"], job)
    return by_function


def test_a_subjob_runs_again_alone_with_its_resolved_input(engine: EngineClient, engine_home: Path) -> None:
    tree = _done_tree(engine, run_sample(engine, SCATTER, {"n": 3}))
    gather = tree["gather"]
    # gather was given job-based references; it ran with the squares they resolved to.
    assert "$dnanexus_link" in json.dumps(gather["originalInput"])
    assert gather["input"] == {"squares": [0, 1, 4]}

    result = runner_cli(engine_home, "rerun", gather["id"], "--wait")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"total": 5}
    new = engine.call(f"/{_started(result)}/describe", {})
    assert (new["function"], new["applet"], new["rerunOf"]) == ("gather", gather["applet"], gather["id"])
    assert new["rootExecution"] == new["id"] and new["parentJob"] is None
    assert new["input"] == new["originalInput"] == {"squares": [0, 1, 4]}
    assert new["state"] == "done" and new["output"] == {"total": 5}
    assert [job["id"] for job in tree_jobs(engine, new["id"])] == [new["id"]]  # gather makes no subjob

    square = tree["square"]
    result = runner_cli(engine_home, "rerun", square["id"], "--entry", "gather", "--brief")
    assert result.returncode == 0, result.stderr
    (other,) = result.stdout.split()
    # gather with square's input {"i": ...}: the code's TypeError fails the job, as it would as a subjob.
    failed = wait_terminal(engine, other)
    assert (failed["function"], failed["input"], failed["state"]) == ("gather", square["input"], "failed")


def test_an_entry_point_the_code_lacks_exits_3_listing_those_it_has(engine: EngineClient,
                                                                    engine_home: Path) -> None:
    tree = _done_tree(engine, run_sample(engine, SCATTER, {"n": 1}))
    result = runner_cli(engine_home, "rerun", tree["square"]["id"], "--entry", "cube")
    assert result.returncode == 3, result.stderr
    assert "entryPoint" in result.stderr and "'cube'" in result.stderr
    assert "main, square, gather" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_latest_builds_the_edited_source_and_runs_that(engine: EngineClient, engine_home: Path,
                                                       tmp_path: Path) -> None:
    folder = tmp_path / SCATTER
    shutil.copytree(SAMPLE_APPS / SCATTER, folder)
    built = runner_cli(engine_home, "build", str(folder))
    assert built.returncode == 0, built.stderr
    body = {"project": engine.project, "input": {"n": 2}}
    root = str(engine.call(f"/{built.stdout.strip()}/run", body)["id"])
    square = _done_tree(engine, root)["square"]
    code = folder / "src" / f"{SCATTER}.py"
    code.write_text(code.read_text().replace('return {"square": i * i}', 'return {"square": i * i + 1000}'))

    result = runner_cli(engine_home, "rerun", square["id"], "--latest", "--wait")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"square": square["input"]["i"] ** 2 + 1000}
    new = engine.call(f"/{_started(result)}/describe", {})
    rebuilt = runner_cli(engine_home, "build", str(folder)).stdout.strip()
    assert new["applet"] == rebuilt != square["applet"]
    assert new["rerunOf"] == square["id"] and new["input"] == square["input"]

    shutil.rmtree(folder)
    gone = runner_cli(engine_home, "rerun", square["id"], "--latest")
    assert gone.returncode == 3, gone.stderr
    assert f"{folder}" in gone.stderr and "no longer exists" in gone.stderr
    brief = runner_cli(engine_home, "rerun", square["id"], "--wait", "--brief")
    assert brief.returncode == 0, brief.stderr
    (again,) = brief.stdout.split()  # as runner run --brief --wait: the ID alone
    assert engine.call(f"/{again}/describe", {})["output"] == {"square": square["input"]["i"] ** 2}
    plain = runner_cli(engine_home, "rerun", square["id"], "--wait")
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout) == {"square": square["input"]["i"] ** 2}


def test_a_real_build_tells_its_changed_files_from_start_to_built(engine: EngineClient,
                                                                  tmp_path: Path) -> None:
    folder = tmp_path / "hello_bash"
    shutil.copytree(SAMPLE_APPS / "hello_bash", folder)
    since = max([e.seq for e in follow_events(engine, EventQuery(follow=False))], default=0)
    body = {"folder": str(folder), "changedFiles": ["src/hello_bash.sh", "./x/../a"]}
    answer = engine.call("/runner/build", body, timeout_s=None)
    events = list(follow_events(engine, EventQuery(since=since, kinds=("applet.*",), follow=False)))
    mine = [e for e in events if getattr(e, "folder", None) == str(folder)]
    assert [type(e) for e in mine] == [ev.AppletBuildStarted, ev.AppletBuilt]
    started, built = mine
    assert isinstance(started, ev.AppletBuildStarted) and isinstance(built, ev.AppletBuilt)
    assert started.changed_files == built.changed_files == ["src/hello_bash.sh", "a"]
    assert (built.applet, built.name) == (answer["id"], "hello_bash")
    described = engine.call(f"/{answer['id']}/describe", {"sourceFolder": True})
    assert described["sourceFolder"] == str(folder)


@pytest.mark.parametrize("args,says", [
    (("job-1",), "'job-1' is not a job ID"),
    (("job-" + "0" * 24, "--wait", "--watch"), "--wait: not with --watch"),
    (("job-" + "0" * 24, "--rank", "5000"), "--rank: 5000 is not from -1024 to 1023"),
    (("job-" + "0" * 24, "--instance-type", "no such"), "--instance-type: 'no such' is not an instance type"),
])
def test_bad_arguments_exit_3_on_one_line(engine_home: Path, args: tuple[str, ...], says: str) -> None:
    result = runner_cli(engine_home, "rerun", *args)
    assert result.returncode == 3 and result.stdout == "", result.stderr
    assert result.stderr.startswith("error: ") and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_job_that_does_not_exist_exits_1(engine: EngineClient, engine_home: Path) -> None:
    result = runner_cli(engine_home, "rerun", "job-" + "0" * 24)
    assert result.returncode == 1 and "job-" + "0" * 24 in result.stderr, result.stderr
