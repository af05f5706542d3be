"""DockerBackend when the Docker engine stops answering mid-job, and once it answers again.

The backend talks to the real engine through DockerProxy; cutting the proxy is, for the backend, exactly
dockerd going away (connections closed, new ones refused), without stopping the engine that other tests use.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from runner.backends import _outage
from runner.backends import docker as docker_backend
from runner.backends._outage import RETRY_REMOVAL_S
from runner.backends.base import LABEL_HOME, BackendError
from runner.backends.docker import DockerBackend
from tests.backends.docker_proxy import DockerProxy
from tests.backends.test_docker_backend import job_spec, run, until_running

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
GIVE_UP_S = 60


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[DockerProxy]:
    proxied = DockerProxy(tmp_path / "docker.sock")
    proxied.start()
    yield proxied
    proxied.close()


@pytest.fixture
def backend(proxy: DockerProxy, client: docker.DockerClient, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[DockerBackend]:
    monkeypatch.setattr(_outage, "RETRY_REMOVAL_S", 0.2)
    proxied = docker.DockerClient(base_url=proxy.url, timeout=10)
    backend = DockerBackend(proxied, tmp_path / "home")
    yield backend
    proxied.close()
    for row in client.api.containers(all=True, filters={"label": [f"{LABEL_HOME}={backend.home}"]}):
        client.api.remove_container(row["Id"], force=True)


async def gone(client: docker.DockerClient, job_id: str) -> bool:
    rows = await asyncio.to_thread(client.api.containers, all=True, filters={"label": [f"runner.job={job_id}"]})
    return not rows


async def test_a_running_job_fails_naming_docker_and_its_container_goes_once_docker_is_back(
        backend: DockerBackend, proxy: DockerProxy, image: str, client: docker.DockerClient) -> None:
    spec = job_spec(image, "bash", "-c", "while true; do echo tick; sleep 0.2; done")
    job = asyncio.create_task(run(backend, spec))
    await until_running(backend, spec.job_id)
    proxy.cut()
    with pytest.raises(BackendError, match=r"^the Docker engine stopped answering: waiting for container \w+"):
        await asyncio.wait_for(job, GIVE_UP_S)
    for _ in range(GIVE_UP_S * 10):
        if not [t for t in threading.enumerate() if t.name.startswith("logs-")]:
            break
        await asyncio.sleep(0.1)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("logs-")], "log followers must end"
    assert not await gone(client, spec.job_id), "while Docker is away its container cannot be removed"
    await asyncio.sleep(RETRY_REMOVAL_S * 2.5)  # an outage longer than a retry: retries that fail keep it pending

    proxy.restore()
    for _ in range(GIVE_UP_S * 10):
        if await gone(client, spec.job_id):
            break
        await asyncio.sleep(0.1)
    assert await gone(client, spec.job_id), "once Docker answers again the container is removed"
    result, lines = await run(backend, job_spec(image, "bash", "-c", "echo back"))
    assert result.exit_code == 0 and lines["stdout"] == ["back"]


async def test_a_job_started_while_docker_is_away_fails_naming_docker(
        backend: DockerBackend, proxy: DockerProxy, image: str) -> None:
    proxy.cut()
    with pytest.raises(BackendError, match="^the Docker engine stopped answering: creating the container of job-"):
        await run(backend, job_spec(image, "true"))


async def test_a_job_that_docker_kills_as_it_shuts_down_fails_naming_docker(
        backend: DockerBackend, proxy: DockerProxy, image: str, client: docker.DockerClient) -> None:
    spec = job_spec(image, "bash", "-c", "echo ready; exec sleep 300")
    lines: list[str] = []
    job = asyncio.create_task(backend.run(spec, timeout_s=None, on_log=lambda stream, line: lines.append(line),
                                          stop_event=asyncio.Event()))
    handle = await until_running(backend, spec.job_id)
    for _ in range(GIVE_UP_S * 10):
        if lines:
            break
        await asyncio.sleep(0.1)
    assert lines == ["ready"], "the backend follows the job (its wait and log calls are under way)"
    # dockerd's shutdown: first no new connections, then it stops the containers; the wait under way answers.
    proxy.refuse_new()
    await asyncio.to_thread(client.api.kill, handle, "SIGTERM")
    with pytest.raises(BackendError, match="^the Docker engine stopped answering: "):
        await asyncio.wait_for(job, GIVE_UP_S)
    proxy.restore()
    for _ in range(GIVE_UP_S * 10):
        if await gone(client, spec.job_id):
            break
        await asyncio.sleep(0.1)
    assert await gone(client, spec.job_id)


async def test_a_job_killed_by_a_signal_while_docker_answers_keeps_its_exit_code(
        backend: DockerBackend, image: str) -> None:
    result, _ = await run(backend, job_spec(image, "bash", "-c", "kill -TERM $$"))
    assert result.exit_code == 143 and not result.stopped_by_runner


async def test_a_wait_without_an_answer_for_a_while_goes_on_while_docker_answers(
        backend: DockerBackend, image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_backend, "WAIT_POLL_S", 1)
    result, lines = await run(backend, job_spec(image, "bash", "-c", "sleep 3; echo still here; exit 5"))
    assert result.exit_code == 5 and lines["stdout"] == ["still here"]
