"""The launcher in a real job container: built applets, inputs, outputs, errors, signals; the API is a stub.

The stub API listens on the gateway of an internal job network, where the engine's API will listen.
"""

from __future__ import annotations

import asyncio
import json
import os
import socketserver
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import docker
import pytest

from runner.backends.base import ContainerExit, ContainerSpec, Mount
from runner.backends.docker import DockerBackend
from runner.backends.docker_host import connect
from runner.backends.networks import ensure_job_network, network_gateway, remove_job_network
from runner.build.applet import BuiltApplet, build_applet
from runner.build.images import DEFAULT_RELEASE
from runner.launcher import (
    API_DIR,
    APPLET_DIR,
    ENV_API_SOCKET,
    INPUT_DIR,
    JOB_DIR,
    LAUNCHER_DIR,
    container_command,
    host_path,
)
from runner.spec.ids import new_id

pytestmark = pytest.mark.docker
TOKEN = "test-token"
FILE_ID = new_id("file")


@dataclass
class StubApi:
    """Answers POST /<id>/<method> from `documents[(id, method)]`; records every call."""

    documents: dict[tuple[str, str], Any] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def serve(self, address: str) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((address, 0), self.handler())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def serve_unix(self, path: str) -> socketserver.ThreadingUnixStreamServer:
        server = socketserver.ThreadingUnixStreamServer(path, self.handler())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                _, object_id, method = self.path.split("/", 2)
                api.calls.append((object_id, method))
                document = api.documents.get((object_id, method))
                authorized = self.headers.get("Authorization") == f"Bearer {TOKEN}"
                status = 200 if document is not None and authorized else 404
                if document is None or not authorized:
                    document = {"error": {"type": "ResourceNotFound", "message": self.path}}
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@dataclass
class Site:
    client: docker.DockerClient
    backend: DockerBackend
    network: str
    api: StubApi
    port: int
    home: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    client = connect()
    network = f"runner-test-{uuid.uuid4().hex[:10]}"
    ensure_job_network(client, network, internal=True)
    api = StubApi()
    server = api.serve(network_gateway(client, network))
    home = tmp_path_factory.mktemp("home")
    yield Site(client, DockerBackend(client, home), network, api, server.server_address[1], home)
    server.shutdown()
    server.server_close()
    remove_job_network(client, network)
    client.close()


def applet(site: Site, root: Path, interpreter: str, code: str, **extra: Any) -> BuiltApplet:
    folder = root / "applet"
    (folder / "resources" / "usr" / "local" / "bin").mkdir(parents=True)
    tool = folder / "resources" / "usr" / "local" / "bin" / "say-hi"
    tool.write_text("#!/bin/sh\necho hi from resources\n")
    tool.chmod(0o700)
    name = "code.py" if interpreter == "python3" else "code.sh"
    (folder / name).write_text(code)
    run_spec = {"interpreter": interpreter, "file": name, "distribution": "Ubuntu", "release": DEFAULT_RELEASE}
    (folder / "dxapp.json").write_text(json.dumps({"name": "t", "runSpec": run_spec, **extra}))
    return build_applet(folder, site.home, site.client, progress=lambda message: None)


def run_job(site: Site, built: BuiltApplet, job_dir: Path, job_input: dict[str, Any], *, function: str = "main",
            stop_after_line: str | None = None, api_socket: Path | None = None, pids_limit: int = 4096,
            ) -> tuple[ContainerExit, list[tuple[str, str]]]:
    job_id = new_id("job")
    job_dir.mkdir(exist_ok=True)
    input_file = job_dir.with_name(job_dir.name + "-input.json")
    input_file.write_text(json.dumps(job_input))
    site.api.documents[(job_id, "describe")] = {
        "id": job_id, "function": function, "input": job_input, "applet": built.applet_id, "state": "running",
    }
    env = {
        "DX_JOB_ID": job_id, "DX_APISERVER_HOST": network_gateway(site.client, site.network),
        "DX_APISERVER_PORT": str(site.port), "DX_APISERVER_PROTOCOL": "http",
        "DX_SECURITY_CONTEXT": json.dumps({"auth_token_type": "Bearer", "auth_token": TOKEN}),
        "DX_WORKSPACE_ID": new_id("container"), "DX_PROJECT_CONTEXT_ID": new_id("project"),
        "RUNNER_FUNCTION": function, "RUNNER_INTERPRETER": built.dxapp.run_spec.interpreter,
    }
    mounts = [Mount(host_path(), LAUNCHER_DIR), Mount(str(built.folder), APPLET_DIR),
              Mount(str(input_file), f"{INPUT_DIR}/job_input.json"),
              Mount(str(job_dir), JOB_DIR, read_only=False)]
    network = site.network
    if api_socket is not None:
        # No network at all: the launcher carries the API from its loopback to the engine's socket.
        mounts.append(Mount(str(api_socket.parent), API_DIR))
        env.update({"DX_APISERVER_HOST": "127.0.0.1", "DX_APISERVER_PORT": "8124",
                    ENV_API_SOCKET: f"{API_DIR}/{api_socket.name}"})
        network = "none"
    spec = ContainerSpec(
        job_id=job_id, tree_id=job_id, image=built.image_tag, command=tuple(container_command()), env=env,
        mounts=tuple(mounts), network_mode=network, memory_bytes=512 << 20, pids_limit=pids_limit,
    )
    logs: list[tuple[str, str]] = []
    stop = asyncio.Event()

    def on_log(stream: str, line: str) -> None:
        logs.append((stream, line))
        if line == stop_after_line:
            stop.set()

    async def go() -> ContainerExit:
        return await site.backend.run(spec, timeout_s=120, on_log=on_log, stop_event=stop)

    return asyncio.run(go()), logs


def lines(logs: list[tuple[str, str]], stream: str) -> list[str]:
    return [line for s, line in logs if s == stream]


def document(path: Path) -> Any:
    return json.loads(path.read_text())


BASH = """\
echo "top level \\$1=$1"
main() {
    echo "main: who=$who n=$n second=${arr[1]} home=$HOME pwd=$(pwd)"
    say-hi
    dx-jobutil-add-output greeting "hello $who"
    dx-jobutil-add-output count "$n" --class int
}
fail() {
    echo "about to fail" >&2
    exit 3
}
report() {
    dx-jobutil-report-error "bad input" AppError
}
linger() {
    trap 'echo "got TERM"; exit 143' TERM
    echo "waiting"
    while true; do sleep 0.1; done
}
"""


def test_a_bash_entry_point_runs_with_inputs_resources_and_outputs(site: Site, tmp_path: Path) -> None:
    built = applet(site, tmp_path, "bash", BASH)
    result, logs = run_job(site, built, tmp_path / "job", {"who": "world", "n": 2, "arr": ["a", "b"]})
    assert result.exit_code == 0, logs
    assert lines(logs, "stdout") == [
        "top level $1=main",
        "main: who=world n=2 second=b home=/home/dnanexus pwd=/home/dnanexus",
        "hi from resources",
    ]
    assert document(tmp_path / "job" / "output.json") == {"greeting": "hello world", "count": 2}
    assert not (tmp_path / "job" / "error.json").exists()


def test_a_failing_bash_job_gets_an_error_with_its_stderr(site: Site, tmp_path: Path) -> None:
    result, logs = run_job(site, applet(site, tmp_path, "bash", BASH), tmp_path / "job", {}, function="fail")
    assert result.exit_code == 3 and lines(logs, "stderr") == ["about to fail"]
    error = document(tmp_path / "job" / "error.json")["error"]
    assert error["type"] == "AppInternalError"
    assert "exit code 3" in error["message"] and error["message"].endswith("about to fail")


def test_a_reported_error_is_passed_on(site: Site, tmp_path: Path) -> None:
    result, _ = run_job(site, applet(site, tmp_path, "bash", BASH), tmp_path / "job", {}, function="report")
    assert result.exit_code == 1
    assert document(tmp_path / "job" / "error.json") == {"error": {"type": "AppError", "message": "bad input"}}


def test_stopping_the_container_signals_the_job(site: Site, tmp_path: Path) -> None:
    built = applet(site, tmp_path, "bash", BASH)
    result, logs = run_job(site, built, tmp_path / "job", {}, function="linger", stop_after_line="waiting")
    assert result.stopped_by_runner and result.exit_code == 143
    assert "got TERM" in lines(logs, "stdout")
    assert "exit code 143" in document(tmp_path / "job" / "error.json")["error"]["message"]


def test_file_inputs_get_name_prefix_and_path_from_dx_print_bash_vars(site: Site, tmp_path: Path) -> None:
    code = 'main() { echo "$reads_name|$reads_prefix|$reads_path|$reads"; }\n'
    built = applet(site, tmp_path, "bash", code,
                   inputSpec=[{"name": "reads", "class": "file", "patterns": ["*.fastq.gz"]}])
    site.api.documents[(built.applet_id, "describe")] = {"id": built.applet_id, "inputSpec": [
        {"name": "reads", "class": "file", "patterns": ["*.fastq.gz"]}]}
    site.api.documents[(FILE_ID, "describe")] = {"id": FILE_ID, "class": "file", "name": "sample.fastq.gz",
                                                 "project": new_id("project"), "state": "closed"}
    result, logs = run_job(site, built, tmp_path / "job", {"reads": {"$dnanexus_link": FILE_ID}})
    assert result.exit_code == 0, logs
    link = json.dumps({"$dnanexus_link": FILE_ID})
    assert lines(logs, "stdout") == [f"sample.fastq.gz|sample|/home/dnanexus/in/reads/sample.fastq.gz|{link}"]


def test_a_python3_entry_point_runs_through_dxpy(site: Site, tmp_path: Path) -> None:
    code = (
        "import dxpy\n\n@dxpy.entry_point('main')\ndef main(x):\n    print('doubling', x)\n"
        "    return {'y': x * 2}\n\ndxpy.run()\n"
    )
    result, logs = run_job(site, applet(site, tmp_path, "python3", code), tmp_path / "job", {"x": 21})
    assert result.exit_code == 0, logs
    assert "doubling 21" in lines(logs, "stdout")
    assert document(tmp_path / "job" / "output.json") == {"y": 42}


def test_a_job_without_any_network_reaches_the_api_through_the_launcher(site: Site, tmp_path: Path) -> None:
    code = (
        "import socket\nimport dxpy\n\n@dxpy.entry_point('main')\ndef main(x):\n"
        "    try:\n        socket.create_connection(('172.17.0.1', 80), timeout=2)\n"
        "    except OSError as exc:\n        print('host unreachable:', type(exc).__name__)\n"
        "    return {'y': x + 1}\n\ndxpy.run()\n"
    )
    built = applet(site, tmp_path, "python3", code)
    (tmp_path / "api").mkdir()
    server = site.api.serve_unix(str(tmp_path / "api" / "engine.sock"))
    try:
        result, logs = run_job(site, built, tmp_path / "job", {"x": 1}, api_socket=tmp_path / "api" / "engine.sock")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, logs
    assert "host unreachable: OSError" in lines(logs, "stdout")
    assert document(tmp_path / "job" / "output.json") == {"y": 2}


FORK_BOMB = """\
main() {
    python3 -c 'import subprocess
children = []
while True:
    children.append(subprocess.Popen(["sleep", "60"]))'
}
"""


def test_a_job_that_hits_its_process_limit_is_told_so(site: Site, tmp_path: Path) -> None:
    # Bounded: the children sleep, and they end with the container once the launcher has reported.
    built = applet(site, tmp_path, "bash", FORK_BOMB)
    result, logs = run_job(site, built, tmp_path / "job", {}, pids_limit=48)
    assert result.exit_code == 1, logs
    error = document(tmp_path / "job" / "error.json")["error"]
    assert error["type"] == "AppInternalError"
    assert error["message"].startswith("the job hit its process limit (48 processes): "), error["message"]
    assert "Resource temporarily unavailable" in error["message"]
    told = "[applet-runner] the job hit its process limit (48 processes)"
    assert any(line.startswith(told) for line in lines(logs, "stderr"))


def test_what_the_launcher_writes_belongs_to_the_owner_of_the_work_folder(site: Site, tmp_path: Path) -> None:
    # The launcher is root in its container; the engine's user owns the folder on the host and must be able to
    # remove what is written there. As root here, the folder is given to another user to tell the two apart.
    owner = (4321, 4322) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    built = applet(site, tmp_path, "bash", BASH)
    job = tmp_path / "job"
    job.mkdir()
    os.chown(job, *owner)
    result, logs = run_job(site, built, job, {"who": "x", "n": 1, "arr": []})
    assert result.exit_code == 0, logs
    for name in ("output.json", "bash-vars.sh"):
        written = (job / name).stat()
        assert (written.st_uid, written.st_gid) == owner, name
