"""`runner run` as a subprocess against the real engine: every `dx run` flag shows in the job's describe,
--batch-tsv starts one job per row, local files are uploaded, and input errors print on one line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.errors import InvalidState
from tests.integration.helpers import (
    TEST_APPLETS,
    build_test_applet,
    runner_cli,
    upload_text,
    wait_state,
    wait_terminal,
)

pytestmark = pytest.mark.docker
# Backend-neutral: every test runs on the Docker and on the local backend (tests/integration/conftest.py).
BACKENDS = ("docker", "local")

PROBE = "cli_run_probe"


def started(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def describe(engine: EngineClient, job: str) -> dict[str, Any]:
    answer: dict[str, Any] = engine.call(f"/{job}/describe", {"fields": {
        "name": True, "folder": True, "project": True, "tags": True, "properties": True, "details": True,
        "dependsOn": True, "delayWorkspaceDestruction": True, "rank": True, "instanceType": True,
        "systemRequirements": True, "executionPolicy": True, "timeout": True, "allowSSH": True, "input": True,
        "originalInput": True, "state": True, "output": True, "costLimit": True}})
    return answer


def test_every_flag_shows_in_the_describe(engine: EngineClient, engine_home: Path) -> None:
    applet = build_test_applet(engine, PROBE)
    # An open file to depend on keeps the job waiting (dependsOn lists what is still awaited); closing it
    # lets the job run.
    pending = engine.call("/file/new", {"project": engine.project, "name": "dep.txt"})["id"]
    extra = {"executionPolicy": {"restartOn": {"AppInternalError": 1}, "maxRestarts": 1},
             "timeoutPolicyByExecutable": {applet: {"*": {"minutes": 7}}}}
    result = runner_cli(
        engine_home, "run", applet, "-i", "n=3", "--name", "flagged", "--folder", f"{engine.project}:/cli/out",
        "--instance-type", "mem2_ssd1_v2_x2", "--tag", "t1", "--tag", "t2", "--property", "k=v",
        "--property", "owner=me", "--details", '{"why": "test"}', "--depends-on", pending,
        "--delay-workspace-destruction", "--rank", "5", "--extra-args", json.dumps(extra), "--ignore-reuse",
        "--cost-limit", "3.5", "--debug-on", "AppError", "-y", "--brief")
    (job,) = started(result)
    wait_state(engine, job, ("waiting_on_input",))
    described = describe(engine, job)
    assert described["dependsOn"] == [pending] and described["state"] == "waiting_on_input"
    assert described["costLimit"] == 3.5
    engine.call(f"/{pending}/close", {})
    assert wait_terminal(engine, job)["state"] == "done"
    assert described["name"] == "flagged" and described["folder"] == "/cli/out"
    assert described["project"] == engine.project
    assert described["instanceType"] == "mem2_ssd1_v2_x2"
    assert described["systemRequirements"] == {"*": {"instanceType": "mem2_ssd1_v2_x2"}}, "as the platform: keyed like the request"
    assert described["tags"] == ["t1", "t2"] and described["properties"] == {"k": "v", "owner": "me"}
    assert described["details"] == {"why": "test"}
    assert described["delayWorkspaceDestruction"] is True and described["rank"] == 5
    assert described["executionPolicy"]["maxRestarts"] == 1
    assert described["executionPolicy"]["restartOn"] == {"AppInternalError": 1}
    assert described["timeout"] == 7 * 60 * 1000
    assert described["originalInput"] == {"n": 3, "label": "none"}


def test_instance_types_per_entry_point_and_by_executable(engine: EngineClient, engine_home: Path) -> None:
    applet = build_test_applet(engine, PROBE)
    (job,) = started(runner_cli(engine_home, "run", applet, "-i", "n=1", "--instance-type",
                                '{"main": "mem2_ssd1_v2_x2"}', "--brief"))
    # Resolved for each entry-point key a level names: the run's `main`, and the applet's own `*` (its runSpec's).
    assert describe(engine, job)["systemRequirements"] == {"main": {"instanceType": "mem2_ssd1_v2_x2"},
                                                           "*": {"instanceType": "mem1_ssd1_v2_x2"}}
    by_executable = json.dumps({applet: {"*": "mem1_ssd1_v2_x2"}})
    (job2,) = started(runner_cli(engine_home, "run", applet, "-i", "n=1", "--instance-type", "mem2_ssd1_v2_x2",
                                 "--instance-type-by-executable", by_executable, "--brief"))
    # systemRequirementsByExecutable takes precedence over systemRequirements.
    assert describe(engine, job2)["instanceType"] == "mem1_ssd1_v2_x2"
    for each in (job, job2):
        assert wait_terminal(engine, each)["state"] == "done"


def test_allow_ssh_shows_in_the_describe(engine: EngineClient, engine_home: Path) -> None:
    applet = build_test_applet(engine, PROBE)
    (job,) = started(runner_cli(engine_home, "run", applet, "-i", "n=1", "--allow-ssh", "--allow-ssh",
                                "10.0.0.0/16", "--brief"))
    wait_terminal(engine, job)
    assert describe(engine, job).get("allowSSH") == ["*", "10.0.0.0/16"]


def test_inputs_from_a_file_stdin_and_a_local_upload(engine: EngineClient, engine_home: Path,
                                                     tmp_path: Path) -> None:
    applet = build_test_applet(engine, PROBE)
    local = tmp_path / "reads.fq"
    local.write_text("ACGT\n")
    (job,) = started(runner_cli(engine_home, "run", applet, "-f", "-", "-i", f"reads={local}", "--brief",
                                stdin='{"n": 8, "label": "stdin"}'))
    described = describe(engine, job)
    file_id = described["originalInput"]["reads"]["$dnanexus_link"]
    assert described["originalInput"]["n"] == 8 and described["originalInput"]["label"] == "stdin"
    uploaded = engine.call(f"/{file_id}/describe", {})
    assert uploaded["name"] == "reads.fq" and uploaded["state"] == "closed"
    assert wait_terminal(engine, job)["output"] == {"summary": "stdin:8"}


def test_watch_follows_the_logs(engine: EngineClient, engine_home: Path) -> None:
    applet = build_test_applet(engine, PROBE)
    result = runner_cli(engine_home, "run", applet, "-i", "n=2", "-i", "label=watched", "--watch")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("job-")
    assert any("probe n=2 label=watched" in line for line in lines[1:]), result.stdout


def test_batch_tsv_starts_one_job_per_row(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    applet = build_test_applet(engine, PROBE)
    first = upload_text(engine, "a.fq", "A")["$dnanexus_link"]
    second = upload_text(engine, "b.fq", "B")["$dnanexus_link"]
    tsv = tmp_path / "batch.tsv"
    tsv.write_text("batch ID\tn\treads\treads ID\n"
                   f"alpha\t1\ta.fq\t{first}\n"
                   f"beta\t2\tb.fq\t{second}\n")
    jobs = started(runner_cli(engine_home, "run", applet, "--batch-tsv", str(tsv), "-i", "label=common",
                              "--tag", "batched", "--brief"))
    assert len(jobs) == 2
    for job, (batch_id, n, file_id) in zip(jobs, [("alpha", 1, first), ("beta", 2, second)], strict=True):
        described = describe(engine, job)
        assert described["properties"]["batch-id"] == batch_id and batch_id in described["name"]
        assert described["tags"] == ["batched"]
        assert described["originalInput"] == {"n": n, "reads": {"$dnanexus_link": file_id}, "label": "common"}
    for job in jobs:
        assert wait_terminal(engine, job)["state"] == "done"


def test_a_bad_batch_is_refused_by_validate_batch(engine: EngineClient, engine_home: Path,
                                                  tmp_path: Path) -> None:
    applet = build_test_applet(engine, PROBE)
    tsv = tmp_path / "batch.tsv"
    tsv.write_text("batch ID\tlabel\nalpha\tx\n")  # n is required and given nowhere
    result = runner_cli(engine_home, "run", applet, "--batch-tsv", str(tsv), "--brief")
    assert result.returncode == 3, result.stderr
    assert "'n'" in result.stderr and result.stdout == ""


def test_bad_input_prints_field_reason_and_expected(engine: EngineClient, engine_home: Path) -> None:
    applet = build_test_applet(engine, PROBE)
    result = runner_cli(engine_home, "run", applet, "-j", '{"n": "three"}')
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1] == (
        "error: i/o value for n is not int (field 'n', reason 'class', expected 'int')")
    result = runner_cli(engine_home, "run", applet, "-j", '{"n": 1, "reads": {"id": "file-' + "F" * 24 + '"}}')
    assert result.returncode == 3
    assert "(field 'reads', reason 'malformedLink', expected 'key $dnanexus_link')" in result.stderr


def test_bad_flag_value_exits_3_on_one_line(engine_home: Path) -> None:
    result = runner_cli(engine_home, "run", "applet-" + "A" * 24, "--rank", "5000")
    assert result.returncode == 3 and result.stderr == "error: --rank: 5000 is not from -1024 to 1023\n"


def test_an_input_file_that_is_not_closed_is_invalid_state(engine: EngineClient, engine_home: Path) -> None:
    applet = build_test_applet(engine, PROBE)
    open_file = engine.call("/file/new", {"project": engine.project, "name": "open.txt"})["id"]
    with pytest.raises(InvalidState, match="not in the closed state"):
        engine.call(f"/{applet}/run", {"project": engine.project,
                                       "input": {"n": 1, "reads": {"$dnanexus_link": open_file}}})
    result = runner_cli(engine_home, "run", applet, "-i", "n=1", "-i", f"reads={open_file}")
    assert result.returncode == 1 and "not in the closed state" in result.stderr


def test_the_probe_applet_is_where_the_tests_expect_it() -> None:
    assert (TEST_APPLETS / PROBE / "dxapp.json").is_file()


def test_build_prints_the_applet_id_and_run_takes_a_destination(engine: EngineClient, engine_home: Path) -> None:
    folder = str(TEST_APPLETS / PROBE)
    built = runner_cli(engine_home, "build", folder)
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == build_test_applet(engine, PROBE)
    (job,) = started(runner_cli(engine_home, "run", built.stdout.strip(), "-i", "n=2", "--destination",
                                f"{engine.project}:/cli/dest", "--brief"))
    assert describe(engine, job)["folder"] == "/cli/dest"
    assert wait_terminal(engine, job)["state"] == "done"
