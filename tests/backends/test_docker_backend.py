"""DockerBackend against the real engine: exit codes, logs, limits, timeout, stop, labels, teardown by label."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from runner.backends.base import LABEL_HOME, LABEL_JOB, LABEL_TREE, ContainerExit, ContainerSpec
from runner.backends.docker import CAP_DROP, DockerBackend
from runner.backends.docker_host import docker_host
from runner.spec.ids import new_id

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
MIB = 1024 * 1024


def job_spec(image: str, *command: str, tree_id: str | None = None, **limits: Any) -> ContainerSpec:
    job_id = new_id("job")
    return ContainerSpec(job_id=job_id, tree_id=tree_id or job_id, image=image, command=command, **limits)


async def run(backend: DockerBackend, spec: ContainerSpec, *, timeout_s: float | None = None,
              stop: asyncio.Event | None = None) -> tuple[ContainerExit, dict[str, list[str]]]:
    lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
    result = await backend.run(spec, timeout_s=timeout_s, on_log=lambda stream, line: lines[stream].append(line),
                               stop_event=stop or asyncio.Event())
    return result, lines


async def until_running(backend: DockerBackend, job_id: str) -> str:
    for _ in range(200):
        found = await backend.find_containers(backend.home, job_id=job_id)
        if found and found[0].state == "running":
            return found[0].container_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"{job_id} never ran")


async def test_exit_code_and_logs_per_stream(backend: DockerBackend, image: str) -> None:
    spec = job_spec(image, "bash", "-c", "echo one; echo oops >&2; echo two; printf 'no newline'; exit 7")
    result, lines = await run(backend, spec)
    assert result.exit_code == 7 and not result.oom_killed
    assert not result.timed_out and not result.stopped_by_runner
    assert lines == {"stdout": ["one", "two", "no newline"], "stderr": ["oops"]}
    assert result.started_at is not None and result.finished_at is not None
    # Docker stamps StartedAt once its start call returns: a process of a few ms can end "before" it, by a little.
    assert -0.5 < result.finished_at - result.started_at < 30
    assert await backend.find_containers(backend.home, job_id=spec.job_id) == []


async def test_memory_limit_ends_in_oom_killed(backend: DockerBackend, image: str) -> None:
    spec = job_spec(image, "python3", "-c", "x = bytearray(256 << 20); print('survived')", memory_bytes=64 * MIB)
    result, lines = await run(backend, spec)
    assert result.oom_killed and result.exit_code == 137
    assert "survived" not in lines["stdout"]


async def test_timeout_stops_the_container(backend: DockerBackend, image: str) -> None:
    result, _ = await run(backend, job_spec(image, "sleep", "60"), timeout_s=1)
    assert result.timed_out and not result.stopped_by_runner and not result.oom_killed
    # Stopped, not run out: the container's own clock shows it ended before its `sleep 60` could.
    assert result.exit_code != 0 and result.started_at is not None and result.finished_at is not None
    assert result.finished_at - result.started_at < 60


async def test_stop_event_kills_a_job_ignoring_sigterm_after_the_grace(backend: DockerBackend, image: str) -> None:
    backend.stop_grace_s = 1
    spec = job_spec(image, "bash", "-c", "trap 'echo got TERM' TERM; while true; do sleep 0.1; done")
    stop = asyncio.Event()
    task = asyncio.create_task(run(backend, spec, stop=stop))
    await until_running(backend, spec.job_id)
    stop.set()
    result, lines = await task
    # The loop never ends by itself: the TERM was caught (printed), so only the kill after the grace ended it.
    assert result.stopped_by_runner and not result.timed_out and result.exit_code == 137
    assert "got TERM" in lines["stdout"]
    assert await backend.find_containers(backend.home, job_id=spec.job_id) == []


async def test_limits_labels_and_hardening(
    backend: DockerBackend, image: str, client: docker.DockerClient
) -> None:
    spec = job_spec(image, "sleep", "60", cpus=0.5, memory_bytes=128 * MIB, labels={"extra": "yes"})
    stop = asyncio.Event()
    task = asyncio.create_task(run(backend, spec, stop=stop))
    try:
        attrs = client.api.inspect_container(await until_running(backend, spec.job_id))
    finally:
        stop.set()
        await task
    host = attrs["HostConfig"]
    assert host["PidsLimit"] == 4096
    assert host["NanoCpus"] == 500_000_000
    assert host["Memory"] == host["MemorySwap"] == 128 * MIB
    assert host["Privileged"] is False and host["Init"] is True
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert sorted(host["CapDrop"]) == sorted(CAP_DROP)
    assert not host.get("CapAdd")
    assert host["NetworkMode"] == "none"
    assert all("docker.sock" not in str(mount.get("Source")) for mount in attrs["Mounts"])
    labels = attrs["Config"]["Labels"]
    assert labels[LABEL_JOB] == spec.job_id and labels[LABEL_TREE] == spec.tree_id
    assert labels[LABEL_HOME] == backend.home and labels["extra"] == "yes"


async def test_a_disk_limit_is_applied_or_recorded_as_not_enforced(backend: DockerBackend, image: str) -> None:
    result, _ = await run(backend, job_spec(image, "true", disk_bytes=1 << 30))
    assert result.exit_code == 0 and result.disk_limit_enforced in (True, False)
    plain, _ = await run(backend, job_spec(image, "true"))
    assert plain.disk_limit_enforced is None


async def test_containers_removed_under_running_jobs_end_them(backend: DockerBackend, image: str) -> None:
    tree = new_id("job")
    specs = [job_spec(image, "sleep", "60", tree_id=tree) for _ in range(2)]
    other = job_spec(image, "sleep", "60")
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run(backend, spec, stop=stop)) for spec in [*specs, other]]
    for spec in [*specs, other]:
        await until_running(backend, spec.job_id)
    found = await backend.find_containers(backend.home, tree_id=tree)
    assert sorted(c.job_id for c in found) == sorted(spec.job_id for spec in specs)
    for container in found:  # as `docker rm -f` by hand would
        await asyncio.to_thread(backend.client.api.remove_container, container.container_id, force=True)
    for task in tasks[:2]:
        result, _ = await task
        assert result.exit_code == 137 and not result.stopped_by_runner
    assert [c.job_id for c in await backend.find_containers(backend.home)] == [other.job_id]
    stop.set()
    await tasks[2]


async def test_reap_orphans_keeps_live_jobs_and_other_homes(
    backend: DockerBackend, image: str, client: docker.DockerClient, tmp_path: Path
) -> None:
    stranger = DockerBackend(client, tmp_path / "another-home")
    live, orphan, foreign = (job_spec(image, "sleep", "60") for _ in range(3))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run(b, s, stop=stop))
             for b, s in ((backend, live), (backend, orphan), (stranger, foreign))]
    for b, s in ((backend, live), (backend, orphan), (stranger, foreign)):
        await until_running(b, s.job_id)
    assert await backend.reap_orphans(backend.home, {live.job_id}) == [orphan.job_id]
    assert [c.job_id for c in await backend.find_containers(backend.home)] == [live.job_id]
    assert [c.job_id for c in await stranger.find_containers(stranger.home)] == [foreign.job_id]
    stop.set()
    await asyncio.gather(*tasks)


async def test_exec_shell_argv_names_the_running_container(backend: DockerBackend, image: str) -> None:
    spec = job_spec(image, "sleep", "60")
    stop = asyncio.Event()
    task = asyncio.create_task(run(backend, spec, stop=stop))
    container_id = await until_running(backend, spec.job_id)
    argv = await asyncio.to_thread(backend.exec_shell_argv, spec.job_id)
    stop.set()
    await task
    assert argv == ["docker", "exec", "-it", "-w", "/home/dnanexus", container_id, "bash"]


async def test_a_job_costs_docker_one_inspect_one_wait_and_two_log_reads(
    client: docker.DockerClient, tmp_path: Path, image: str,
) -> None:
    # The engine's CPU per job is mostly these calls: the logs endpoint is read without the SDK's inspect (our
    # containers have no TTY), both streams in one request, and the read after the exit waits on run()'s wait.
    counting = docker.DockerClient(base_url=docker_host())
    calls: Counter[str] = Counter()

    def record(response: requests.Response, **_: object) -> None:
        method, path = response.request.method, (response.request.path_url or "").split("?")[0]
        if "/containers/" in path:
            after = path.split("/containers/", 1)[1]
            calls[f"{method} {after.split('/', 1)[1] if '/' in after else after[:6]}"] += 1

    counting.api.hooks["response"].append(record)
    backend = DockerBackend(counting, tmp_path / "counted")
    spec = job_spec(image, "bash", "-c", "echo out; echo err >&2; printf end")
    try:
        result, lines = await run(backend, spec)
    finally:
        for row in client.api.containers(all=True, filters={"label": [f"{LABEL_HOME}={backend.home}"]}):
            client.api.remove_container(row["Id"], force=True)
        counting.close()
    assert result.exit_code == 0 and lines == {"stdout": ["out", "end"], "stderr": ["err"]}
    removed = next(call for call in calls if call.startswith("DELETE"))
    assert calls == {"POST create": 1, "POST start": 1, "GET logs": 2, "POST wait": 1, "GET json": 1, removed: 1}
