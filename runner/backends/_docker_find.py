"""Finding and removing the runner's containers: by their labels, and a pooled one by its slot's assignment.

A job's own container carries runner.job, runner.tree and runner.home; a pooled one (`docker_pool`), made before
its job, carries runner.home and runner.pool, and its slot's assignment.json names its job and tree.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.backends._outage import DockerFailure
from runner.backends._threads import in_own_thread
from runner.backends.base import DEFAULT_WORKDIR, LABEL_HOME, LABEL_JOB, LABEL_TREE, BackendError
from runner.backends.docker_pool import LABEL_POOL, POOL_DIR, ContainerPool, read_assignment

REMOVE_ALL_S = 10.0


@dataclass(frozen=True, slots=True)
class JobContainer:
    """One of the runner's containers, as found by its labels; `state` is Docker's (running, exited, ...)."""

    container_id: str
    name: str
    job_id: str
    tree_id: str
    state: str
    # The slot of a pooled container ("" for a job's own); its job and tree are its assignment's ("" while idle).
    slot_id: str = ""



class LabelledContainers:
    """The Docker backend's finding, reaping and shell parts (a mixin of DockerBackend)."""

    client: Any
    home: str
    _pool: ContainerPool

    def _failure(self, what: str, exc: BaseException) -> BackendError:
        raise NotImplementedError

    def _remove_now(self, handle: str) -> None:
        raise NotImplementedError

    def _find_now(self, home: str, tree_id: str | None, job_id: str | None) -> list[JobContainer]:
        # All of the home's: a pooled container's job and tree are in its slot's assignment, not in labels.
        try:
            rows = self.client.api.containers(all=True, filters={"label": [f"{LABEL_HOME}={home}"]})
        except DockerFailure as exc:
            raise self._failure("listing the runner's containers", exc) from exc
        found = [self._job_container(home, row) for row in rows]
        return [c for c in found if (tree_id is None or c.tree_id == tree_id) and (job_id is None or c.job_id == job_id)
                and (c.job_id or c.slot_id)]

    @staticmethod
    def _job_container(home: str, row: Mapping[str, Any]) -> JobContainer:
        labels = row.get("Labels") or {}
        slot_id = str(labels.get(LABEL_POOL, ""))
        given = read_assignment(home, slot_id) if slot_id else None
        return JobContainer(
            container_id=str(row["Id"]),
            name=str((row.get("Names") or [""])[0]).lstrip("/"),
            job_id=given.job_id if given else str(labels.get(LABEL_JOB, "")),
            tree_id=given.tree_id if given else str(labels.get(LABEL_TREE, "")),
            state=str(row.get("State", "")),
            slot_id=slot_id,
        )

    async def find_containers(
        self, home: Path | str, tree_id: str | None = None, job_id: str | None = None
    ) -> list[JobContainer]:
        """The containers of `home` (optionally of one tree or job), running or not."""
        return await asyncio.to_thread(self._find_now, str(home), tree_id, job_id)

    async def _remove_all(self, containers: list[JobContainer], what: str) -> None:
        removals = [
            asyncio.ensure_future(in_own_thread("remove", functools.partial(self._remove_now, c.container_id)))
            for c in containers
        ]
        if not removals:
            return
        done, pending = await asyncio.wait(removals, timeout=REMOVE_ALL_S)
        for task in pending:
            task.cancel()
        failures = [str(task.exception()) for task in done if task.exception() is not None]
        if pending or failures:
            raise BackendError(
                f"{len(pending) + len(failures)} container(s) of {what} were not removed within "
                f"{REMOVE_ALL_S:.0f} s" + (f": {failures[0]}" if failures else "")
            )

    async def reap_orphans(self, home: Path | str, live_job_ids: Collection[str]) -> list[str]:
        """Remove the containers of `home` whose job is not live (after an engine crash); their job IDs."""
        live = set(live_job_ids)
        orphans = [c for c in await self.find_containers(home) if c.job_id not in live
                   and not (c.slot_id and self._pool.is_ours(c.slot_id))]
        await self._remove_all(orphans, "orphaned jobs")
        await asyncio.to_thread(self._remove_slot_folders, Path(home), {c.slot_id for c in orphans})
        return sorted(c.job_id for c in orphans if c.job_id)

    def _remove_slot_folders(self, home: Path, removed: set[str]) -> None:
        """The folders of the pool slots just removed, and of any slot left without its container."""
        folder = home / POOL_DIR
        kept = {c.slot_id for c in self._find_now(str(home), None, None) if c.slot_id}
        for entry in folder.iterdir() if folder.is_dir() else ():
            if entry.name in removed or (entry.name not in kept and not self._pool.is_ours(entry.name)):
                shutil.rmtree(entry, ignore_errors=True)

    def exec_shell_argv(self, job_id: str) -> list[str]:
        """The `docker exec -it ... bash` command line that opens a shell in a running job (`runner ssh`)."""
        running = [c for c in self._find_now(self.home, None, job_id) if c.state == "running"]
        if not running:
            raise BackendError(f"{job_id} has no running container")
        # A pooled container was created without its job's environment: docker exec is given it.
        given = read_assignment(self.home, running[0].slot_id) if running[0].slot_id else None
        env = [arg for key, value in sorted(given.env.items()) for arg in ("-e", f"{key}={value}")] if given else []
        return ["docker", "exec", "-it", *env, "-w", DEFAULT_WORKDIR, running[0].container_id, "bash"]
