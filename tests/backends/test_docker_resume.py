"""DockerBackend.find_job() and resume() on real containers, as a restarted engine finds them."""

from __future__ import annotations

import asyncio

import docker
import pytest

from runner.backends.base import ContainerExit, Found
from runner.backends.docker import DockerBackend
from tests.backends.test_docker_backend import job_spec

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
# Prints five numbered lines per stream, then waits for /tmp/go (created with docker exec), then five more.
TALKER = ("for n in 1 2 3 4 5; do echo out-$n; echo err-$n >&2; done; "
          "while [ ! -e /tmp/go ]; do sleep 0.1; done; "
          "for n in 6 7 8 9 10; do echo out-$n; echo err-$n >&2; done; exit 3")


async def left_by_a_dead_engine(backend: DockerBackend, image: str, start: bool = True) -> str:
    """The job ID of a container created (and started) as the previous engine did, then abandoned."""
    spec = job_spec(image, "bash", "-c", TALKER)
    created = await backend._create(spec)
    if start:
        await backend._start(created.handle)
    return spec.job_id


async def resume(backend: DockerBackend, found: Found, already: dict[str, int],
                 go: docker.models.containers.Container | None = None) -> tuple[ContainerExit, dict[str, list[str]]]:
    lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
    task = asyncio.create_task(backend.resume(found, timeout_s=60, on_log=lambda s, line: lines[s].append(line),
                                              stop_event=asyncio.Event(), already=already))
    if go is not None:
        await asyncio.to_thread(go.exec_run, ["touch", "/tmp/go"])
    return await task, lines


async def test_a_running_container_is_followed_again_from_the_first_line_not_yet_logged(
        backend: DockerBackend, image: str, client: docker.DockerClient) -> None:
    job_id = await left_by_a_dead_engine(backend, image)
    container = client.containers.get(f"runner-{job_id}")
    while b"out-5" not in container.logs(stdout=True, stderr=False):
        await asyncio.sleep(0.05)
    found = await backend.find_job(job_id)
    assert found is not None and found.state == "running"
    result, lines = await resume(backend, found, {"stdout": 2, "stderr": 4}, go=container)
    assert result.exit_code == 3 and not result.stopped_by_runner and not result.timed_out
    assert lines == {"stdout": [f"out-{n}" for n in range(3, 11)], "stderr": [f"err-{n}" for n in range(5, 11)]}
    assert await backend.find_job(job_id) is None, "the container is removed once collected"


async def test_an_exited_container_is_collected_with_its_exit_code_and_last_lines(
        backend: DockerBackend, image: str, client: docker.DockerClient) -> None:
    job_id = await left_by_a_dead_engine(backend, image)
    container = client.containers.get(f"runner-{job_id}")
    await asyncio.to_thread(container.exec_run, ["touch", "/tmp/go"])
    await asyncio.to_thread(container.wait)
    found = await backend.find_job(job_id)
    assert found is not None and found.state == "exited"
    result, lines = await resume(backend, found, {"stdout": 9, "stderr": 10})
    assert result.exit_code == 3
    assert lines == {"stdout": ["out-10"], "stderr": []}


async def test_a_container_created_but_not_started_is_started(backend: DockerBackend, image: str,
                                                               client: docker.DockerClient) -> None:
    job_id = await left_by_a_dead_engine(backend, image, start=False)
    found = await backend.find_job(job_id)
    assert found is not None and found.state == "created"
    task = asyncio.create_task(resume(backend, found, {}))
    container = client.containers.get(f"runner-{job_id}")
    while container.status != "running":
        await asyncio.sleep(0.05)
        container.reload()
    await asyncio.to_thread(container.exec_run, ["touch", "/tmp/go"])
    result, lines = await task
    assert result.exit_code == 3 and len(lines["stdout"]) == 10


async def test_no_container_means_none_found(backend: DockerBackend) -> None:
    assert await backend.find_job("job-" + "x" * 24) is None
