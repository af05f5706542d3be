"""The container of one job try: image, launcher command, DX_* environment, mounts and limits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner import launcher
from runner.backends.base import ContainerSpec, Mount
from runner.engine.job_files import JOB_INPUT, work_folder
from runner.home_files import API_SOCKET_NAME
from runner.spec.run_options import debug_reasons
from runner.store.job_record import record_of


@dataclass(frozen=True, slots=True)
class Reachability:
    """How job containers reach the engine's API.

    Jobs without network access run with no network at all and reach the engine through the launcher's
    forwarder to the Unix socket in `socket_dir`; jobs with access.network join `network` and reach the
    engine at `gateway`:`port`.
    """

    port: int
    socket_dir: Path
    network: str | None = None
    gateway: str | None = None


def container_spec(job: Mapping[str, Any], applet: Mapping[str, Any], token: str, job_dir: Path,
                   reach: Reachability, gpus_available: int) -> ContainerSpec:
    """The ContainerSpec of the current try of `job`, whose engine-owned folder is `job_dir`.

    Only `job_dir`'s work/ is writable in the container; the input file is mounted on its own, read-only.
    """
    info = applet["_runner"]
    resources = record_of(job).resources
    networked = bool(job.get("networkAccess")) and reach.network is not None and reach.gateway is not None
    env = {
        "DX_JOB_ID": job["id"],
        "DX_APISERVER_PROTOCOL": "http",
        "DX_APISERVER_HOST": reach.gateway if networked and reach.gateway else "127.0.0.1",
        "DX_APISERVER_PORT": str(reach.port),
        "DX_SECURITY_CONTEXT": json.dumps({"auth_token_type": "Bearer", "auth_token": token}),
        "DX_WORKSPACE_ID": job["workspace"],
        "DX_PROJECT_CONTEXT_ID": job["project"],
        launcher.ENV_FUNCTION: job["function"],
        launcher.ENV_INTERPRETER: info["interpreter"],
        launcher.ENV_LOG_SOCKETS: "1",
    }
    for variable, key in (("DX_RESOURCES_ID", "resources"), ("DX_PROJECT_CACHE_ID", "projectCache")):
        if job.get(key):  # a job of an app
            env[variable] = str(job[key])
    mounts = [
        Mount(launcher.host_path(), launcher.LAUNCHER_DIR, read_only=True),
        Mount(str(info["folder"]), launcher.APPLET_DIR, read_only=True),
        Mount(str(job_dir / JOB_INPUT), f"{launcher.INPUT_DIR}/{JOB_INPUT}", read_only=True),
        Mount(str(work_folder(job_dir)), launcher.JOB_DIR, read_only=False),
    ]
    if not networked:
        env[launcher.ENV_API_SOCKET] = f"{launcher.API_DIR}/{API_SOCKET_NAME}"
        mounts.append(Mount(str(reach.socket_dir), launcher.API_DIR, read_only=True))
    held_on = debug_on(job)
    if held_on:
        env[launcher.ENV_DEBUG_ON] = ",".join(held_on)
    return ContainerSpec(
        job_id=job["id"],
        tree_id=job["rootExecution"],
        image=info["image"],
        command=tuple(launcher.container_command()),
        env=env,
        mounts=tuple(mounts),
        cpus=resources.cores,
        memory_bytes=resources.memory_bytes,
        gpus=min(resources.gpus, gpus_available),
        network_mode=reach.network if networked and reach.network else "none",
        labels={"runner.function": job["function"], "runner.try": str(job.get("try", 0))},
        disk_bytes=resources.disk_bytes or None,
    )


def debug_on(job: Mapping[str, Any]) -> tuple[str, ...]:
    """The failure reasons that hold `job` for debugging (its run's `debug.debugOn`, "All" meaning every one)."""
    return debug_reasons((job.get("debug") or {}).get("debugOn") or [])
