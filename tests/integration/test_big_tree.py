"""Load: a tree of 500 subjobs on one-core instances finishes with every output present and no container left."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import docker
import pytest

from runner.client.api import EngineClient
from tests.integration.helpers import TERMINAL, job_containers, run_test_applet, tree_jobs, wait_terminal

pytestmark = pytest.mark.docker

LEAVES = 500
# A bound on waiting, not an assertion on speed: two one-core leaves run at a time on a two-core host.
TREE_WAIT_S = 3 * 3600


def _leftover_containers(client: docker.DockerClient, home: Path) -> list[str]:
    # Job containers only: the engine still runs, and the pool's ready containers (no job yet) are meant to stay.
    return [c.name for c in job_containers(client, home)]


def _containers_seen(engine: EngineClient, client: docker.DockerClient, home: Path, root_id: str) -> bool:
    deadline = time.monotonic() + TREE_WAIT_S
    while time.monotonic() < deadline:
        if _leftover_containers(client, home):
            return True
        if engine.call(f"/{root_id}/describe", {})["state"] in TERMINAL:
            return False
        time.sleep(0.5)
    return False


def _wait_no_containers(client: docker.DockerClient, home: Path) -> list[str]:
    # Teardown goes on for a moment after the last job is done; wait for it, then report what is left.
    deadline = time.monotonic() + 60
    while (left := _leftover_containers(client, home)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def test_five_hundred_subjobs_all_outputs_present(engine: EngineClient, engine_home: Path, client: Any) -> None:
    started = time.monotonic()
    root_id = run_test_applet(engine, "big_tree", {"n": LEAVES})
    # The label filter that checks for leftovers at the end must find this home's containers while it runs.
    assert _containers_seen(engine, client, engine_home, root_id), "no container of the tree was ever seen"
    root = wait_terminal(engine, root_id, TREE_WAIT_S)
    elapsed = time.monotonic() - started
    print(f"\n{LEAVES}-subjob tree: {elapsed:.0f} s from run to done ({elapsed / (LEAVES + 2):.2f} s a job)")

    assert root["state"] == "done", (root.get("failureReason"), root.get("failureMessage"))
    assert root["output"]["values"] == [f"leaf-{i}-{i * i}" for i in range(LEAVES)]
    assert root["output"]["count"] == LEAVES
    assert root["output"]["total"] == sum(range(LEAVES))
    jobs = tree_jobs(engine, root_id)
    leaves = [job for job in jobs if job["function"] == "leaf"]
    assert len(jobs) == LEAVES + 2 and len(leaves) == LEAVES
    assert [job["state"] for job in jobs] == ["done"] * len(jobs)
    assert sorted(job["output"]["i"] for job in leaves) == list(range(LEAVES))
    assert _wait_no_containers(client, engine_home) == []
