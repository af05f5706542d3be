"""The real `dx` (dxpy, from the job runtime image) against the engine, with the exports of `runner env`.

Each test runs `dx` in a throwaway container of the runtime image on the jobs' network, pointed at the
engine's gateway address (where it listens for jobs with network access) with the user token.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from runner.build.images import runtime_image_tag
from runner.client.api import EngineClient
from runner.errors import InvalidInput, ResourceNotFound
from tests.integration.helpers import (
    SAMPLE_APPS,
    build_sample,
    build_test_applet,
    download_text,
    run_sample,
    runner_cli,
    tree_jobs,
    upload_text,
    wait_state,
    wait_terminal,
)

pytestmark = pytest.mark.docker

JOBS_NETWORK = "applet-runner-jobs"
RUNTIME_IMAGE = runtime_image_tag("24.04")  # hello_bash's release: building it makes the image
DX_TIMEOUT_S = 180
JOB_ID = re.compile(r"\bjob-[0-9A-Za-z]{24}\b")
FILE_ID = re.compile(r"\bfile-[0-9A-Za-z]{24}\b")
APPLET_ID = re.compile(r"applet-[0-9A-Za-z]{24}")


def dx_env(engine_home: Path, engine: EngineClient) -> dict[str, str]:
    """What `runner env` exports, with the host the jobs' network reaches the engine at."""
    info = json.loads((engine_home / "engine.json").read_text())
    assert engine.project is not None
    return {
        "DX_APISERVER_PROTOCOL": "http",
        "DX_APISERVER_HOST": str(info["gateway"]),
        "DX_APISERVER_PORT": str(info["port"]),
        "DX_SECURITY_CONTEXT": (engine_home / "credentials").read_text().strip(),
        "DX_PROJECT_CONTEXT_ID": engine.project,
        "DX_CLI_WD": "/",
        "DX_USERNAME": "user-local",
    }


def dx(engine_home: Path, engine: EngineClient, *args: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """`dx ARGS...` in a throwaway runtime container, `workdir` mounted as its working directory."""
    env = [f"--env={key}={value}" for key, value in dx_env(engine_home, engine).items()]
    command = ["docker", "run", "--rm", f"--network={JOBS_NETWORK}", f"--user={os.getuid()}:{os.getgid()}",
               "--env=HOME=/tmp", *env, f"--volume={workdir}:/work", "--workdir=/work", RUNTIME_IMAGE, "dx", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=DX_TIMEOUT_S, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The standard output of a dx command that must succeed."""
    assert result.returncode == 0, f"dx failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module", autouse=True)
def runtime_image(engine: EngineClient) -> None:
    """Building a sample makes (or finds) the runtime image that holds dx."""
    build_sample(engine, "hello_bash")


@pytest.fixture(scope="module")
def hello_job(engine: EngineClient) -> str:
    """A done run of hello_bash."""
    applet = build_sample(engine, "hello_bash")
    job = str(engine.call(f"/{applet}/run", {"project": engine.project, "input": {"who": "watch"}})["id"])
    assert wait_terminal(engine, job)["state"] == "done"
    return job


def test_describe_job_json(engine: EngineClient, engine_home: Path, hello_job: str, tmp_path: Path) -> None:
    described = json.loads(ok(dx(engine_home, engine, "describe", hello_job, "--json", workdir=tmp_path)))
    expected = engine.call(f"/{hello_job}/describe", {})
    assert (described["id"], described["state"]) == (hello_job, "done") == (expected["id"], expected["state"])
    assert described["output"] == {"greeting": "Hello, watch!"}


def test_describe_job_human(engine: EngineClient, engine_home: Path, hello_job: str, tmp_path: Path) -> None:
    shown = ok(dx(engine_home, engine, "describe", hello_job, workdir=tmp_path))
    assert re.search(rf"^ID\s+{hello_job}$", shown, re.MULTILINE)
    assert re.search(r"^State\s+done$", shown, re.MULTILINE)
    assert re.search(r'^Output\s+greeting = "Hello, watch!"$', shown, re.MULTILINE)


def test_describe_file_human(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    file_id = upload_text(engine, "described.txt", "twelve bytes")["$dnanexus_link"]
    shown = ok(dx(engine_home, engine, "describe", file_id, workdir=tmp_path))
    assert re.search(rf"^ID\s+{file_id}$", shown, re.MULTILINE)
    assert re.search(r"^Name\s+described\.txt$", shown, re.MULTILINE)
    assert re.search(r"^State\s+closed$", shown, re.MULTILINE)
    assert re.search(r"^Size\s+12 bytes$", shown, re.MULTILINE)


def test_find_jobs_brief(engine: EngineClient, engine_home: Path, hello_job: str, tmp_path: Path) -> None:
    found = ok(dx(engine_home, engine, "find", "jobs", "--brief", workdir=tmp_path)).split()
    assert hello_job in found
    assert all(JOB_ID.fullmatch(line) for line in found)


def test_find_jobs_json(engine: EngineClient, engine_home: Path, hello_job: str, tmp_path: Path) -> None:
    found = json.loads(ok(dx(engine_home, engine, "find", "jobs", "--json", workdir=tmp_path)))
    by_id = {job["id"]: job for job in found}
    assert by_id[hello_job]["state"] == "done"
    assert by_id[hello_job]["executableName"] == "hello_bash"


def test_terminate_a_running_tree(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    applet = build_test_applet(engine, "sleepy_tree")
    root = str(engine.call(f"/{applet}/run", {"project": engine.project, "input": {}})["id"])
    try:
        wait_state(engine, root, ("running",))
        ok(dx(engine_home, engine, "terminate", root, workdir=tmp_path))
        ended = wait_terminal(engine, root, 120)
    finally:
        engine.call(f"/{root}/terminate", {})  # a no-op once the tree has ended
    assert ended["state"] == "terminated"
    assert ended["failureReason"] == "Terminated"
    for job in tree_jobs(engine, root):
        assert wait_terminal(engine, job["id"], 60)["state"] == "terminated", job["id"]


def test_upload(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    data = b"uploaded by the real dx\n" * 1000
    (tmp_path / "local.txt").write_bytes(data)
    out = ok(dx(engine_home, engine, "upload", "local.txt", "--brief", workdir=tmp_path)).strip()
    assert FILE_ID.fullmatch(out), out
    described = engine.call(f"/{out}/describe", {})
    assert (described["name"], described["state"], described["size"]) == ("local.txt", "closed", len(data))
    assert described["project"] == engine.project


def test_download(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    text = "line one\nline two, with ü\n"
    file_id = upload_text(engine, "to_download.txt", text)["$dnanexus_link"]
    ok(dx(engine_home, engine, "download", file_id, "-o", "out.txt", workdir=tmp_path))
    assert (tmp_path / "out.txt").read_bytes() == text.encode()


def test_ls(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    upload_text(engine, "listed_by_dx.txt", "x", folder="/dx_ls", project=engine.project)
    assert "dx_ls/" in ok(dx(engine_home, engine, "ls", workdir=tmp_path)).split()
    assert ok(dx(engine_home, engine, "ls", "/dx_ls", workdir=tmp_path)).split() == ["listed_by_dx.txt"]
    long = ok(dx(engine_home, engine, "ls", "-l", "/dx_ls", workdir=tmp_path))
    assert re.search(r"^closed\s.*listed_by_dx\.txt \(file-", long, re.MULTILINE)


def test_run_applet(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    applet = build_sample(engine, "hello_bash")
    out = ok(dx(engine_home, engine, "run", applet, "-i", "who=dx", "-y", "--brief", workdir=tmp_path)).strip()
    assert JOB_ID.fullmatch(out), out
    ended = wait_terminal(engine, out)
    assert ended["state"] == "done"
    assert ended["output"] == {"greeting": "Hello, dx!"}
    assert ended["project"] == engine.project


def test_watch_an_ended_job(engine: EngineClient, engine_home: Path, hello_job: str, tmp_path: Path) -> None:
    out = ok(dx(engine_home, engine, "watch", hello_job, workdir=tmp_path))
    assert re.search(r"STDOUT Hello, watch!$", out, re.MULTILINE)
    assert re.search(rf"\(done\) {hello_job}$", out, re.MULTILINE)
    assert 'Output: greeting = "Hello, watch!"' in out


def test_watch_follows_a_running_job(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    applet = build_sample(engine, "hello_bash")
    job = str(engine.call(f"/{applet}/run", {"project": engine.project, "input": {"who": "live"}})["id"])
    started = time.monotonic()
    out = ok(dx(engine_home, engine, "watch", job, "--get-stdout", workdir=tmp_path))
    assert "Hello, live!" in out.splitlines()
    assert engine.call(f"/{job}/describe", {})["state"] == "done", f"watch returned after {time.monotonic() - started}"


def test_watch_a_job_that_does_not_exist(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    result = dx(engine_home, engine, "watch", "job-" + "0" * 24, workdir=tmp_path)
    assert result.returncode != 0
    assert "ResourceNotFound" in result.stderr


def _dx_folder(engine: EngineClient, folder: str) -> str:
    engine.call(f"/{engine.project}/newFolder", {"folder": folder, "parents": True})
    return folder


def _applets_in(engine: EngineClient, folder: str) -> dict[str, str]:
    listed = engine.call(f"/{engine.project}/listFolder", {"folder": folder, "describe": True, "only": "objects"})
    return {o["id"]: o["describe"]["name"] for o in listed["objects"] if o["id"].startswith("applet-")}


def _started(stderr: str) -> str:
    found = re.search(r"^Started (job-[0-9A-Za-z]{24}) ", stderr, re.MULTILINE)
    assert found, stderr
    return found.group(1)


def _built_by_dx(result: subprocess.CompletedProcess[str]) -> str:
    applet = str(json.loads(ok(result).strip().splitlines()[-1])["id"])
    assert APPLET_ID.fullmatch(applet), result.stdout
    return applet


def test_build_and_run_as_runner_build_and_run_do(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    shutil.copytree(SAMPLE_APPS / "hello_python", tmp_path / "hello_python")
    folder = _dx_folder(engine, "/dx_build/hello")
    applet = _built_by_dx(dx(engine_home, engine, "build", "hello_python", "--destination", f"{folder}/",
                             workdir=tmp_path))
    described = engine.call(f"/{applet}/describe", {})
    assert (described["name"], described["folder"], described["project"]) == ("hello_python", folder, engine.project)
    source = (SAMPLE_APPS / "hello_python" / "src" / "hello_python.py").read_text()
    assert described["runSpec"]["code"] == source
    job = ok(dx(engine_home, engine, "run", applet, "-i", "who=dx build", "-i", "times=2", "-y", "--brief", "--wait",
                workdir=tmp_path)).strip()
    assert JOB_ID.fullmatch(job), job
    ours = runner_cli(engine_home, "run", "sample_apps/hello_python", "-i", "who=dx build", "-i", "times=2", "--wait")
    assert ours.returncode == 0, ours.stderr
    theirs, mine = engine.call(f"/{job}/describe", {}), engine.call(f"/{_started(ours.stderr)}/describe", {})
    assert theirs["output"] == json.loads(ours.stdout) == mine["output"]
    assert theirs["runnerImage"] == mine["runnerImage"]  # the same image, built from the same execDepends


def test_build_again_needs_f_or_a(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    shutil.copytree(SAMPLE_APPS / "hello_bash", tmp_path / "hello_bash")
    folder = _dx_folder(engine, "/dx_build/again")
    build = ("build", "hello_bash", "--destination", f"{folder}/")
    first = _built_by_dx(dx(engine_home, engine, *build, workdir=tmp_path))
    refused = dx(engine_home, engine, *build, workdir=tmp_path)
    assert refused.returncode == 3 and f"An applet already exists at {folder}/hello_bash (id {first})" in refused.stderr
    # -f: the new applet replaces the old one, though nothing changed (dx removes the old one by its ID).
    second = _built_by_dx(dx(engine_home, engine, *build, "-f", workdir=tmp_path))
    assert second != first and _applets_in(engine, folder) == {second: "hello_bash"}
    job = ok(dx(engine_home, engine, "run", second, "-i", "who=again", "-y", "--brief", workdir=tmp_path)).strip()
    assert wait_terminal(engine, job)["output"] == {"greeting": "Hello, again!"}
    # -a: the old one is moved to /.Applet_archive, renamed with its creation time, and says what replaced it.
    third = _built_by_dx(dx(engine_home, engine, *build, "-a", workdir=tmp_path))
    assert _applets_in(engine, folder) == {third: "hello_bash"}
    archived = engine.call(f"/{second}/describe", {"project": engine.project, "properties": True})
    assert archived["folder"] == "/.Applet_archive" and archived["name"].startswith("hello_bash (")
    assert archived["properties"] == {"replacedWith": third}


def test_build_an_applet_with_regional_options(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    # What dx-app-wizard writes: systemRequirements under regionalOptions["aws:us-east-1"].
    (tmp_path / "regional" / "src").mkdir(parents=True)
    (tmp_path / "regional" / "src" / "regional.sh").write_text('main() {\n    echo "in my region"\n}\n')
    (tmp_path / "regional" / "dxapp.json").write_text(json.dumps({
        "name": "regional", "inputSpec": [], "outputSpec": [],
        "runSpec": {"interpreter": "bash", "file": "src/regional.sh", "distribution": "Ubuntu", "release": "24.04"},
        "regionalOptions": {"aws:us-east-1": {"systemRequirements": {"*": {"instanceType": "mem2_ssd1_v2_x2"}}}}}))
    folder = _dx_folder(engine, "/dx_build/regional")
    applet = _built_by_dx(dx(engine_home, engine, "build", "regional", "--destination", f"{folder}/", workdir=tmp_path))
    job = ok(dx(engine_home, engine, "run", applet, "-y", "--brief", "--wait", workdir=tmp_path)).strip()
    described = engine.call(f"/{job}/describe", {})
    assert (described["state"], described["instanceType"]) == ("done", "mem2_ssd1_v2_x2")


def test_build_into_a_folder_that_does_not_exist(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    shutil.copytree(SAMPLE_APPS / "hello_bash", tmp_path / "hello_bash")
    result = dx(engine_home, engine, "build", "hello_bash", "--destination", "/dx_build/none/yet/", workdir=tmp_path)
    assert result.returncode != 0
    assert "the folder /dx_build/none/yet does not exist" in result.stderr


def test_build_uploads_resources_into_bundled_depends(engine: EngineClient, engine_home: Path,
                                                      tmp_path: Path) -> None:
    shutil.copytree(SAMPLE_APPS / "file_pipeline", tmp_path / "file_pipeline")
    folder = _dx_folder(engine, "/dx_build/resources")
    build = ("build", "file_pipeline", "--destination", f"{folder}/")
    applet = _built_by_dx(dx(engine_home, engine, *build, workdir=tmp_path))
    (bundle,) = engine.call(f"/{applet}/describe", {})["runSpec"]["bundledDepends"]
    tarball = bundle["id"]["$dnanexus_link"]
    described = engine.call(f"/{tarball}/describe", {"properties": True})
    assert (bundle["name"], described["hidden"], described["state"]) == ("resources.tar.gz", True, "closed")
    assert described["folder"] == folder and "resource_bundle_checksum" in described["properties"]
    again = dx(engine_home, engine, *build, "-f", workdir=tmp_path)
    assert f"Found existing resource bundle that matches local resources directory: {tarball}" in again.stderr
    rebuilt = _built_by_dx(again)
    assert engine.call(f"/{rebuilt}/describe", {})["runSpec"]["bundledDepends"] == [bundle]
    # The job finds resources/'s tool (count-lines) at / and outputs what runner run's job does.
    reads = upload_text(engine, "dx_reads.txt", "one\ntwo\nthree\n")["$dnanexus_link"]
    job = ok(dx(engine_home, engine, "run", rebuilt, "-i", f"reads={reads}", "-y", "--brief", "--wait",
                workdir=tmp_path)).strip()
    ours = runner_cli(engine_home, "run", "sample_apps/file_pipeline", "-i", f"reads={reads}", "--wait")
    assert ours.returncode == 0, ours.stderr
    theirs, mine = engine.call(f"/{job}/describe", {})["output"], json.loads(ours.stdout)
    assert theirs["total_lines"] == mine["total_lines"] == 3
    assert download_text(engine, theirs["report"]) == download_text(engine, mine["report"]) == (
        "3 /home/dnanexus/in/reads/dx_reads.txt\n")


def test_applet_new_wants_the_code_inline(engine: EngineClient) -> None:
    run_spec = {"interpreter": "bash", "distribution": "Ubuntu", "release": "24.04"}
    for given, field in (({**run_spec, "file": "src/x.sh"}, "runSpec.file"), (run_spec, "runSpec.code")):
        with pytest.raises(InvalidInput) as refused:
            engine.call("/applet/new", {"project": engine.project, "name": "inline", "runSpec": given})
        assert refused.value.details["field"] == field


def test_applet_new_names_what_is_wrong_in_the_request(engine: EngineClient) -> None:
    run_spec = {"interpreter": "bash", "distribution": "Ubuntu", "release": "24.04", "code": "main() { :; }"}
    missing = "file-" + "0" * 24
    with pytest.raises(ResourceNotFound) as not_there:
        engine.call("/applet/new", {"project": engine.project, "runSpec": {
            **run_spec, "bundledDepends": [{"name": "x.tar.gz", "id": {"$dnanexus_link": missing}}]}})
    assert str(not_there.value) == f"runSpec.bundledDepends: the data object {missing} does not exist"
    with pytest.raises(InvalidInput) as invalid:
        engine.call("/applet/new", {"project": engine.project, "runSpec": {**run_spec, "interpreter": "perl"}})
    assert str(invalid.value).startswith("the applet specification is invalid: runSpec.interpreter: ")
    assert "applet-new-" not in str(invalid.value)  # not the engine's scratch folder
    made = engine.call("/applet/new", {"project": engine.project, "runSpec": run_spec, "hidden": True,
                                        "tags": ["t"], "properties": {"k": "v"}})["id"]
    described = engine.call(f"/{made}/describe", {"properties": True})
    assert (described["name"], described["hidden"], described["tags"], described["properties"]) == (
        made, True, ["t"], {"k": "v"})


def test_wait(engine: EngineClient, engine_home: Path, hello_job: str, tmp_path: Path) -> None:
    applet = build_sample(engine, "hello_bash")
    running = str(engine.call(f"/{applet}/run", {"project": engine.project, "input": {"who": "dx wait"}})["id"])
    out = ok(dx(engine_home, engine, "wait", running, hello_job, workdir=tmp_path))
    assert out == f"Waiting for {running} to finish running...\nDone\nWaiting for {hello_job} to finish running...\nDone\n"
    assert engine.call(f"/{running}/describe", {})["state"] == "done"
    failing = run_sample(engine, "failing_subjob", {})
    result = dx(engine_home, engine, "wait", failing, workdir=tmp_path)
    described = engine.call(f"/{failing}/describe", {})
    assert result.returncode == 3
    assert (f"Job has failed because of {described['failureReason']}: {described['failureMessage']} "
            f"(failure from {described['failureFrom']['id']})") in result.stderr
