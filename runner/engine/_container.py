"""The container of one job try: image, launcher command, DX_* environment, mounts and limits.

Limits come from what the job was given of its instance type (`instance_policy`): its cores as a CPU quota and a
cpuset of as many host CPUs, its memory (no swap), its storage, GPUs by device ID, and from those a pids limit
(1024 a core, at least 4096, at most 32768) and a /dev/shm of half its memory (at most 32 GiB).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner import launcher
from runner.backends.base import ContainerSpec, Mount
from runner.engine.instance_policy import given_resources
from runner.engine.job_files import JOB_INPUT, work_folder
from runner.home_files import API_SOCKET_NAME
from runner.spec.run_options import debug_reasons
from runner.store.job_record import JobResources, record_of

log = logging.getLogger(__name__)
GIB = 2**30
PIDS_PER_CORE, PIDS_MIN, PIDS_MAX = 1024, 4096, 32768
SHM_MAX = 32 * GIB
SHM_WITHOUT_MEMORY_LIMIT = 64 * 2**20  # Docker's own default
PAGE = 4096  # the kernel keeps memory limits in whole pages: the limit set is the one the job reads back
# For tests only: the instance types' storage is multiplied by this (0 < scale <= 1), so that a test job can
# write past it in seconds. Read by the engine process; documented in docs/execution-environment.md.
DISK_SCALE_VARIABLE = "RUNNER_TEST_DISK_SCALE"


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
                   reach: Reachability, gpus_available: int, cpu_ids: tuple[int, ...] = (),
                   gpu_ids: tuple[int, ...] = ()) -> ContainerSpec:
    """The ContainerSpec of the current try of `job`, whose engine-owned folder is `job_dir`.

    Only `job_dir`'s work/ is writable in the container; the input file is mounted on its own, read-only.
    `cpu_ids` and `gpu_ids` are the host CPUs and GPUs the scheduler assigned; without CPUs the job is pinned to
    the first of the engine's own CPUs, as many as its cores.
    """
    info = applet["_runner"]
    resources = given_resources(job, record_of(job).resources)
    cpus = cpu_ids or default_cpu_ids(resources.cores)
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
        Mount(str(job_dir / JOB_INPUT), f"{launcher.INPUT_DIR}/{JOB_INPUT}", read_only=True, per_job=True),
        Mount(str(work_folder(job_dir)), launcher.JOB_DIR, read_only=False, per_job=True),
    ]
    if not networked:
        env[launcher.ENV_API_SOCKET] = f"{launcher.API_DIR}/{API_SOCKET_NAME}"
        mounts.append(Mount(str(reach.socket_dir), launcher.API_DIR, read_only=True))
    https_app = applet.get("httpsApp") or {}
    if https_app.get("ports"):
        # The launcher serves these ports on sockets in work/ for the engine's HTTPS proxy (runner/https/).
        env[launcher.ENV_HTTPS_PORTS] = ",".join(str(port) for port in https_app["ports"])
    held_on = debug_on(job)
    if held_on:
        env[launcher.ENV_DEBUG_ON] = ",".join(held_on)
    env.update(_device_env(cpus, gpu_ids))
    return ContainerSpec(
        job_id=job["id"],
        tree_id=job["rootExecution"],
        image=info["image"],
        command=tuple(launcher.container_command()),
        env=env,
        mounts=tuple(mounts),
        cpus=resources.cores,
        memory_bytes=resources.memory_bytes // PAGE * PAGE,
        gpus=len(gpu_ids) if gpu_ids else min(resources.gpus, gpus_available),
        pids_limit=pids_limit(len(cpus)),
        network_mode=reach.network if networked and reach.network else "none",
        labels={"runner.function": job["function"], "runner.try": str(job.get("try", 0))},
        disk_bytes=round(resources.disk_bytes * disk_scale()) or None,
        cpu_ids=cpus,
        gpu_ids=gpu_ids,
        shm_bytes=shm_bytes(resources),
        instance_type=str(job.get("instanceType") or ""),
        waiting_command=tuple(launcher.waiting_command()),
        waiting_fifo=launcher.POOL_FIFO,
    )


def default_cpu_ids(cores: float) -> tuple[int, ...]:
    """The first host CPUs this process may use, as many as `cores` (rounded up; all of them at most)."""
    usable = sorted(os.sched_getaffinity(0))
    return tuple(usable[:max(1, min(len(usable), math.ceil(cores)))])


def pids_limit(cores: int) -> int:
    """The most processes and threads a job of `cores` cores may have: 1024 a core, within 4096..32768."""
    return max(PIDS_MIN, min(PIDS_MAX, PIDS_PER_CORE * cores))


def shm_bytes(resources: JobResources) -> int:
    """The size of the job's /dev/shm: half of its memory (as Linux sizes it on a machine), at most 32 GiB."""
    if resources.memory_bytes <= 0:
        return SHM_WITHOUT_MEMORY_LIMIT
    return min(SHM_MAX, resources.memory_bytes // 2 // PAGE * PAGE)


def disk_scale() -> float:
    """The test-only factor on the instance types' storage ($RUNNER_TEST_DISK_SCALE), 1 when unset or invalid."""
    text = os.environ.get(DISK_SCALE_VARIABLE)
    if not text:
        return 1.0
    try:
        scale = float(text)
    except ValueError:
        scale = 0.0
    if not 0 < scale <= 1:
        log.warning("%s=%r is not a number in (0, 1]; the storage limits are not scaled", DISK_SCALE_VARIABLE, text)
        return 1.0
    return scale


def _device_env(cpu_ids: tuple[int, ...], gpu_ids: tuple[int, ...]) -> dict[str, str]:
    """PYTHON_CPU_COUNT (Python 3.13's os.cpu_count()), and the GPUs' variables when GPUs are assigned."""
    env = {"PYTHON_CPU_COUNT": str(len(cpu_ids))}
    if gpu_ids:
        # The NVIDIA runtime takes host IDs; inside the container the assigned GPUs are numbered from 0, so CUDA
        # (which counts what it sees) is told those numbers: host IDs there would name GPUs that are not there.
        env["NVIDIA_VISIBLE_DEVICES"] = ",".join(str(i) for i in gpu_ids)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in range(len(gpu_ids)))
    return env


def debug_on(job: Mapping[str, Any]) -> tuple[str, ...]:
    """The failure reasons that hold `job` for debugging (its run's `debug.debugOn`, "All" meaning every one)."""
    return debug_reasons((job.get("debug") or {}).get("debugOn") or [])
