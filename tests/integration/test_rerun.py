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
from tests.integration.helpers import (
    SAMPLE_APPS,
    build_sample,
    run_sample,
    runner_cli,
    tree_jobs,
    wait_terminal,
)

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
    (("job-" + "0" * 24, "--extra-args", "[1]"), "--extra-args: expected a JSON object, got list"),
    (("job-" + "0" * 24, "--folder", "out"), "--folder: 'out': the folder must be an absolute path"),
])
def test_bad_arguments_exit_3_on_one_line(engine_home: Path, args: tuple[str, ...], says: str) -> None:
    result = runner_cli(engine_home, "rerun", *args)
    assert result.returncode == 3 and result.stdout == "", result.stderr
    assert result.stderr.startswith("error: ") and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_job_that_does_not_exist_exits_1(engine: EngineClient, engine_home: Path) -> None:
    result = runner_cli(engine_home, "rerun", "job-" + "0" * 24)
    assert result.returncode == 1 and "job-" + "0" * 24 in result.stderr, result.stderr


# A run with every option a re-run carries (as `dx run --clone`, and what this engine's run takes besides).
OPTIONS: dict[str, Any] = {
    "name": "squares of two", "folder": "/rerun/out", "tags": ["t1", "t2"], "properties": {"k": "v"},
    "priority": "high", "rank": 7, "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x4"}},
    "executionPolicy": {"restartOn": {"AppInternalError": 1}, "maxRestarts": 2},
    "debug": {"debugOn": ["AppError"]}, "delayWorkspaceDestruction": True,
}
CARRIED = ("project", "folder", "name", "tags", "properties", "priority", "rank", "systemRequirements",
           "instanceType", "executionPolicy", "timeout", "delayWorkspaceDestruction", "debug")


def _with_options(engine: EngineClient) -> dict[str, dict[str, Any]]:
    """A finished scatter-gather tree run with OPTIONS and a 7-minute timeout for every entry point."""
    applet = build_sample(engine, SCATTER)
    timeouts = {"timeoutPolicyByExecutable": {applet: {"*": {"minutes": 7}}}}
    return _done_tree(engine, _run(engine, applet, {**OPTIONS, **timeouts}))


def _run(engine: EngineClient, applet: str, options: dict[str, Any]) -> str:
    body = {"project": engine.project, "input": {"n": 1}, **options}
    return str(engine.call(f"/{applet}/run", body)["id"])


def _describe(engine: EngineClient, job: str) -> dict[str, Any]:
    return dict(engine.call(f"/{job}/describe", {"defaultFields": True, "fields": {"debug": True}}))


def test_a_re_run_runs_as_the_job_ran_and_a_flag_replaces_what_it_sets(engine: EngineClient,
                                                                          engine_home: Path) -> None:
    tree = _with_options(engine)
    root = _describe(engine, tree["main"]["id"])
    assert (root["instanceType"], root["timeout"], root["folder"]) == ("mem1_ssd1_v2_x4", 7 * 60_000, "/rerun/out")

    result = runner_cli(engine_home, "rerun", root["id"], "--brief")
    assert result.returncode == 0, result.stderr
    (same,) = result.stdout.split()
    again = _describe(engine, same)
    assert {key: again.get(key) for key in CARRIED} == {key: root.get(key) for key in CARRIED}
    assert again["rerunOf"] == root["id"] and again["originalInput"] == root["originalInput"]
    assert wait_terminal(engine, same)["state"] == "done"
    # The tree's subjobs ran with the run's requests and timeout too, as the first tree's did.
    for job in tree_jobs(engine, same)[1:]:
        assert (job["instanceType"], job["timeout"]) == ("mem1_ssd1_v2_x4", 7 * 60_000), job["function"]

    result = runner_cli(engine_home, "rerun", root["id"], "--tag", "other", "--folder", "/elsewhere",
                        "--instance-type", '{"gather": "mem1_ssd1_v2_x8"}', "--brief")
    assert result.returncode == 0, result.stderr
    (changed,) = result.stdout.split()
    overridden = _describe(engine, changed)
    assert (overridden["tags"], overridden["folder"]) == (["other"], "/elsewhere")
    # Per entry point, as dx run --clone: gather's request added, the carried `*` kept.
    assert overridden["systemRequirements"] == {"*": {"instanceType": "mem1_ssd1_v2_x4"},
                                                "gather": {"instanceType": "mem1_ssd1_v2_x8"}}
    assert {key: overridden.get(key) for key in ("name", "properties", "priority", "executionPolicy", "timeout")} \
        == {key: root.get(key) for key in ("name", "properties", "priority", "executionPolicy", "timeout")}
    assert wait_terminal(engine, changed)["state"] == "done"
    by_function = {job["function"]: job["instanceType"] for job in tree_jobs(engine, changed)}
    assert by_function == {"main": "mem1_ssd1_v2_x4", "square": "mem1_ssd1_v2_x4", "gather": "mem1_ssd1_v2_x8"}

    result = runner_cli(engine_home, "rerun", root["id"], "--instance-type", "mem1_ssd1_v2_x2", "--brief")
    assert result.returncode == 0, result.stderr
    (plain,) = result.stdout.split()
    # One instance type for every entry point replaces the carried requests whole.
    assert _describe(engine, plain)["systemRequirements"] == {"*": {"instanceType": "mem1_ssd1_v2_x2"}}
    assert wait_terminal(engine, plain)["state"] == "done"


def test_a_subjob_re_run_keeps_the_instance_type_it_ran_on(engine: EngineClient, engine_home: Path) -> None:
    applet = build_sample(engine, SCATTER)
    requests = {"systemRequirements": {"square": {"instanceType": "mem1_ssd1_v2_x4"}},
                "timeoutPolicyByExecutable": {applet: {"square": {"minutes": 5}}}}
    square = _done_tree(engine, _run(engine, applet, requests))["square"]
    assert (square["instanceType"], square["timeout"]) == ("mem1_ssd1_v2_x4", 5 * 60_000)

    result = runner_cli(engine_home, "rerun", square["id"], "--wait")
    assert result.returncode == 0, result.stderr
    new = _describe(engine, _started(result))
    assert (new["function"], new["instanceType"], new["timeout"]) == ("square", "mem1_ssd1_v2_x4", 5 * 60_000)
    assert (new["name"], new["project"], new["folder"]) == (square["name"], square["project"], square["folder"])
    assert new["rerunOf"] == square["id"] and new["parentJob"] is None
