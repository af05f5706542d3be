"""The scheduler inside a real engine (real store, fake backend): rank inheritance, released parents, lending,
max-parallel, GPUs given one job each, the nvidiaDriver check, and why a runnable job waits."""

from __future__ import annotations

from typing import Any

import pytest

from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeJob
from runner.config import write_setting
from runner.engine.logs import read_entries
from runner.engine.scheduler import Host
from tests.engine.conftest import Harness, Make, function_of, outputs, ref

pytestmark = pytest.mark.asyncio
GIB = 2**30
ONE_CORE = {"*": {"instanceType": "mem2_hdd2_x1"}}  # 1 core, 3.8 GiB
GPU_TYPE = "mem3_ssd1_gpu_x8"  # 8 cores, 61 GiB, 1 GPU


def runner_lines(h: Harness, job_id: str) -> list[str]:
    """The runner's own lines in the job's log."""
    return [e.text for e in read_entries(h.home / "jobs" / job_id)[0] if e.stream == "runner"]


def started_line(h: Harness, job_id: str) -> str:
    """The job's `try 0 started: ...` line."""
    return next(line for line in runner_lines(h, job_id) if line.startswith("try 0 started"))


async def finish(h: Harness, job_id: str) -> None:
    """End the job's fake container, once it exists."""
    await h.until(lambda: any(spec.job_id == job_id for spec in h.backend.created), f"{job_id}'s container")
    h.backend.finish(job_id)


def cpus_of(h: Harness, job_id: str) -> set[str]:
    """The CPU IDs the job's try runs on, from its `started` line."""
    return set(started_line(h, job_id).split(", on CPU")[1].split(" ")[1].split(","))


async def test_children_inherit_the_roots_rank(make: Make) -> None:
    h = await make()
    children: list[str] = []

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            children.append(h.subjob(spec, "child"))
            return outputs(spec, {})
        return FakeJob()

    h.script = script
    root = h.run(rank=700)
    await h.ended(root)
    assert [h.describe(child)["rank"] for child in children] == [700]


async def test_a_parent_waiting_on_output_holds_no_cores(make: Make) -> None:
    h = await make(cores=2)
    children: list[str] = []

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":  # 2 cores: the whole host
            children.extend(h.subjob(spec, "child", system_requirements=ONE_CORE) for _ in range(3))
            return outputs(spec, {"all": [ref(child, "x") for child in children]})
        return outputs(spec, {"x": 1}, duration_s=None)

    h.script = script
    root = h.run()
    await h.until(lambda: len(children) == 3, "the children")
    await h.in_state(root, "waiting_on_output")
    await h.in_state(children[0], "running")
    await h.in_state(children[1], "running")
    assert h.describe(children[2])["state"] == "runnable"
    await finish(h, children[0])
    await h.in_state(children[2], "running")
    assert not any("inside the reservation" in line for line in runner_lines(h, children[2])), \
        "it started on the host's own room: the parent waiting on output holds none"
    for child in children[1:]:
        await finish(h, child)
    assert (await h.ended(root))["state"] == "done"


async def test_a_running_parent_lends_its_cores_to_the_children_it_waits_on(make: Make) -> None:
    h = await make(cores=2)
    children: list[str] = []

    def script(spec: ContainerSpec) -> FakeJob:
        if function_of(spec) == "main":
            children.extend(h.subjob(spec, "child", system_requirements=ONE_CORE) for _ in range(3))
            return outputs(spec, {}, duration_s=None)  # blocks (dx wait) until the test ends it
        return outputs(spec, {"x": 1}, duration_s=None)

    h.script = script
    root = h.run()
    await h.until(lambda: len(children) == 3, "the children")
    await h.in_state(children[1], "running")
    await h.in_state(children[0], "running")
    waiting = await h.in_state(children[2], "runnable")
    assert h.engine.waiting[waiting["id"]] == "needs 1 core; 0 free"
    for child in children[:2]:
        assert any(f"inside the reservation of its ancestor {root}" in line for line in runner_lines(h, child))
    await finish(h, children[0])
    await h.in_state(children[2], "running")
    for child in children[1:]:
        await finish(h, child)
    await finish(h, root)
    assert (await h.ended(root))["state"] == "done"


async def test_max_parallel_is_read_at_once_and_said_in_describe(make: Make) -> None:
    h = await make(cores=8)
    write_setting("max-parallel", "1", h.home)
    h.script = lambda spec: FakeJob(duration_s=None)
    first, second = h.run(), h.run()
    await h.in_state(first, "running")
    await h.in_state(second, "runnable")
    await h.until(lambda: h.engine.waiting.get(second) == "max-parallel 1 reached", "the reason")
    write_setting("max-parallel", "0", h.home)
    h.engine.wake()
    await h.in_state(second, "running")
    for job_id in (first, second):
        await finish(h, job_id)
        await h.ended(job_id)


async def test_each_gpu_job_gets_its_own_gpu_and_the_next_waits(make: Make) -> None:
    host = Host(cpu_ids=tuple(range(32)), memory_bytes=256 * GIB, gpu_ids=(0, 1), nvidia_driver="535.104.05")
    h = await make(host=host, instance_type=GPU_TYPE)
    h.script = lambda spec: FakeJob(duration_s=None)
    jobs = [h.run() for _ in range(3)]
    for job_id in jobs[:2]:
        await h.in_state(job_id, "running")
    await h.until(lambda: h.engine.waiting.get(jobs[2]) == "waiting for a GPU: both busy", "the GPU reason")
    gpus = {started_line(h, job_id).rsplit("GPU ", 1)[1] for job_id in jobs[:2]}
    assert gpus == {"0", "1"}, "two jobs never share a GPU"
    freed = started_line(h, jobs[0]).rsplit("GPU ", 1)[1]
    await finish(h, jobs[0])
    await h.in_state(jobs[2], "running")
    assert started_line(h, jobs[2]).endswith(f"and GPU {freed}")
    assert cpus_of(h, jobs[2]).isdisjoint(cpus_of(h, jobs[1])), "CPUs are exclusive while free ones remain"
    for job_id in jobs[1:]:
        await finish(h, job_id)
        await h.ended(job_id)


async def test_a_host_driver_too_old_for_the_nvidia_driver_asked_fails_the_job(make: Make) -> None:
    host = Host(cpu_ids=tuple(range(8)), memory_bytes=64 * GIB, gpu_ids=(0,), nvidia_driver="470.82.01")
    h = await make(host=host)
    job_id = h.run(system_requirements={"*": {"instanceType": GPU_TYPE, "nvidiaDriver": "R535"}})
    job: dict[str, Any] = await h.ended(job_id)
    assert job["state"] == "failed"
    assert job["failureMessage"] == ("the job asks for nvidiaDriver R535 (CUDA 12.2), which needs an NVIDIA driver "
                                     "535 or newer; this host's driver is 470.82.01")
    assert h.backend.created == [], "no container was made"
