"""The pool's own life, on real Docker: a slot made from a key alone, its expiry, its removal at close, a refill
that cannot be made. The key is a real job's (the real launcher, mounted as the engine mounts it)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from runner import launcher
from runner.backends.base import LABEL_HOME, ContainerSpec, Mount
from runner.backends.docker_pool import LABEL_POOL, POOL_DIR, READY, ContainerPool, PoolKey, pool_key

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]


def _key(image: str, tmp_path: Path) -> PoolKey:
    job = tmp_path / "jobs" / "job-1"
    (job / "work").mkdir(parents=True)
    (job / "job_input.json").write_text("{}")
    applet = tmp_path / "applet"
    applet.mkdir()
    spec = ContainerSpec(
        job_id="job-1", tree_id="job-1", image=image, command=tuple(launcher.container_command()),
        mounts=(Mount(launcher.host_path(), launcher.LAUNCHER_DIR), Mount(str(applet), launcher.APPLET_DIR),
                Mount(str(job / "job_input.json"), f"{launcher.INPUT_DIR}/job_input.json", per_job=True),
                Mount(str(job / "work"), launcher.JOB_DIR, read_only=False, per_job=True)),
        cpu_ids=(0,), waiting_command=tuple(launcher.waiting_command()), waiting_fifo=launcher.POOL_FIFO)
    key = pool_key(spec, swappiness=False, quota=False)
    assert key is not None
    return key


def _pool_rows(client: docker.DockerClient, home: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = client.api.containers(all=True, filters={"label": [f"{LABEL_HOME}={home}",
                                                                                   LABEL_POOL]})
    return rows


async def _until(what: str, condition: Any, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout_s} s"
        await asyncio.sleep(0.1)


async def test_a_slot_waits_until_its_key_is_idle_then_goes(client: docker.DockerClient, image: str,
                                                             tmp_path: Path) -> None:
    home = tmp_path / "home"
    pool = ContainerPool(client, str(home), lambda: 1, idle_s=1.0)
    key = _key(image, tmp_path)
    pool.want(key)
    pool.refill_soon()
    try:
        await _until("a slot was ready", lambda: any((home / POOL_DIR).glob(f"*/{READY}")))
        (row,) = _pool_rows(client, home)
        assert row["State"] == "running" and row["Names"] == [f"/runner-pool-{row['Labels'][LABEL_POOL]}"]
        await _until("the idle key's slot was removed", lambda: not _pool_rows(client, home))
        assert list((home / POOL_DIR).iterdir()) == []
    finally:
        await pool.close()


async def test_close_removes_the_ready_slots_and_a_failed_refill_only_logs(
        client: docker.DockerClient, image: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    home = tmp_path / "home"
    pool = ContainerPool(client, str(home), lambda: 2)
    key = _key(image, tmp_path)
    missing = dataclasses.replace(key, image="runner-no-such-image:0")
    pool.want(key)
    pool.want(missing)
    pool.refill_soon()
    await _until("two slots were ready", lambda: len(list((home / POOL_DIR).glob(f"*/{READY}"))) == 2)
    await _until("the refill of a missing image gave up", lambda: "could not be made" in caplog.text)
    assert "runner-no-such-image:0" in caplog.text
    await pool.close()
    assert _pool_rows(client, home) == []
    assert list((home / POOL_DIR).iterdir()) == []
