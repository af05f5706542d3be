"""`runner doctor`: what this host offers the runner (Docker, images, CPUs, memory, GPUs), how it enforces the
instance types' limits, and what to fix."""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runner.backends.docker_host import connect, docker_host, engine_version
from runner.backends.docker_limits import lxcfs_dir, storage_quota_supported
from runner.backends.gpus import host_capacity, host_gpus
from runner.backends.local import doctor_facts as local_backend_facts
from runner.build.images import DEFAULT_RELEASE, ImageStatus, describe_images, runtime_image_tag
from runner.config import current_settings, runner_home
from runner.errors import EnvironmentProblem, RunnerError

if TYPE_CHECKING:
    import docker

GIB = 1024**3
MIN_FREE_DISK = 5 * GIB
PREPARE_FIX = f"run `runner images prepare` (release {DEFAULT_RELEASE})"
LXCFS_FIX = "apt-get install lxcfs, then run `lxcfs /var/lib/lxcfs` (it needs /dev/fuse)"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check this host: Docker, the runner's images, CPUs, memory, GPUs; exit 1 when something needs a fix."""
    facts = gather_facts()
    click.echo(json.dumps(facts, indent=2) if as_json else render(facts))
    ctx.exit(1 if facts["problems"] else 0)


def gather_facts() -> dict[str, Any]:
    """Everything doctor reports, as JSON-ready data; `problems` lists each problem with its fix."""
    problems: list[dict[str, str]] = []
    home = runner_home()
    limits: dict[str, Any] = {}
    docker_problems: list[dict[str, str]] = []
    docker_facts, images = _docker_facts(docker_problems, limits)
    # Jobs of the local backend need no Docker: what Docker lacks is said, but is not a problem of this host.
    if current_settings(home).backend != "local":
        problems += docker_problems
    capacity = host_capacity(home)
    if capacity.disk_free_bytes < MIN_FREE_DISK:
        problems.append(
            _problem(
                f"only {capacity.disk_free_bytes / GIB:.1f} GiB free under {capacity.disk_path}",
                f"free disk space there: images and job folders want at least {MIN_FREE_DISK // GIB} GiB",
            )
        )
    _check_home(home, problems)
    return {
        "docker": docker_facts,
        "images": [asdict(status) for status in images],
        "host": asdict(capacity),
        "gpus": [asdict(gpu) for gpu in host_gpus()],
        "limits": _limits_facts(limits, home),
        "local_backend": local_backend_facts(),
        "runner_home": str(home),
        "problems": problems,
    }


def _docker_facts(problems: list[dict[str, str]],
                  limits: dict[str, Any]) -> tuple[dict[str, Any], list[ImageStatus]]:
    facts: dict[str, Any] = {"reachable": False, "host": docker_host(), "version": None}
    try:
        client = connect()
    except EnvironmentProblem as exc:
        problems.append(_problem(str(exc).split("\n  fix:")[0], exc.fix))
        return facts, []
    try:
        facts.update(reachable=True, version=engine_version(client))
        images = describe_images(client)
        limits.update(_docker_limits(client, images))
    except RunnerError as exc:
        problems.append(_problem(str(exc).split("\n  fix:")[0], getattr(exc, "fix", "") or PREPARE_FIX))
        return facts, []
    finally:
        client.close()
    default = next(s for s in images if s.tag == runtime_image_tag(DEFAULT_RELEASE))
    if not default.present:
        problems.append(_problem(f"the runtime image {default.tag} is missing", PREPARE_FIX))
    elif default.up_to_date is False:
        problems.append(_problem(f"the runtime image {default.tag} is out of date", PREPARE_FIX))
    return facts, images


def _docker_limits(client: docker.DockerClient, images: list[ImageStatus]) -> dict[str, Any]:
    """How this Docker engine enforces disk and swap limits (a probe container for the storage quota)."""
    info = client.info()
    probe_image = next((s.tag for s in images if s.kind == "runtime" and s.present), None)
    quota = storage_quota_supported(client, probe_image, str(runner_home())) if probe_image else None
    root = str(info.get("DockerRootDir") or "")
    layers_readable = bool(root) and os.access(root, os.R_OK | os.X_OK)
    if quota:
        disk = "storage quota (Docker's storage_opt size)"
    elif quota is None:
        disk = "unknown (no runtime image to probe the storage driver with)"
    else:
        how = "its layer folder" if layers_readable else "Docker's SizeRw (the layers cannot be read here)"
        disk = (f"watchdog: the {info.get('Driver')} storage driver takes no size limit, so what a job writes (its "
                f"writable layer, through {how}, and its work/ folder) is measured every few seconds")
    return {"disk": disk, "storage_quota": quota, "cgroup_version": str(info.get("CgroupVersion") or ""),
            "swappiness": str(info.get("CgroupVersion")) == "1"}


def _limits_facts(docker_limits: dict[str, Any], home: Path) -> dict[str, Any]:
    """The limits jobs get here: CPUs, memory (lxcfs or not), disk, and the policies for oversized types."""
    settings = current_settings(home)
    meminfo = lxcfs_dir()
    return {
        "cpus": "a cpuset of the job's cores and a CPU quota; nproc and os.cpu_count() report the cores",
        "memory": "hard limit, no swap" + (" (swappiness 0)" if docker_limits.get("swappiness") else ""),
        "meminfo": f"lxcfs at {meminfo}: /proc/meminfo in jobs shows their limit" if meminfo else
                   f"lxcfs is not running: /proc/meminfo in jobs shows the host's memory ({LXCFS_FIX})",
        "lxcfs": meminfo is not None,
        "disk": docker_limits.get("disk", "unknown (no Docker engine)"),
        "storage_quota": docker_limits.get("storage_quota"),
        "instance_policy": settings.instance_policy,
        "gpu_policy": settings.gpu_policy,
    }


def _check_home(home: Path, problems: list[dict[str, str]]) -> None:
    existing = home
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        problems.append(
            _problem(
                f"the runner's state folder {home} is not writable (checked {existing})",
                "set RUNNER_HOME to a folder you own, or fix its permissions",
            )
        )


def _problem(message: str, fix: str) -> dict[str, str]:
    return {"problem": message, "fix": fix}


def render(facts: dict[str, Any]) -> str:
    """The facts as the lines a person reads."""
    docker_facts = facts["docker"]
    lines = ["Docker engine"]
    if docker_facts["reachable"]:
        lines.append(f"  {docker_facts['version']} at {docker_facts['host']}")
    else:
        lines.append(f"  not reachable at {docker_facts['host']}")
    lines.append("Images")
    lines += [f"  {line}" for line in _image_lines(facts["images"])] or ["  unknown (no Docker engine)"]
    host = facts["host"]
    lines.append("Host")
    lines.append(f"  CPUs    {host['cpus']}")
    lines.append(f"  memory  {host['memory_bytes'] / GIB:.1f} GiB")
    lines.append(f"  disk    {host['disk_free_bytes'] / GIB:.1f} GiB free under {host['disk_path']}")
    gpus = [f"{g['index']}: {g['name']}, {g['memory_mib']} MiB, {g['uuid']}" for g in facts["gpus"]]
    lines.append("  GPUs    " + ("; ".join(gpus) if gpus else "none (no NVIDIA GPU or driver found)"))
    limits = facts["limits"]
    lines.append("Limits")
    lines += [f"  {key:<8}{limits[key]}" for key in ("cpus", "memory", "meminfo", "disk")]
    lines.append(f"  policy  instance-policy {limits['instance_policy']}, gpu-policy {limits['gpu_policy']}")
    lines += facts["local_backend"]["lines"]
    lines.append(f"RUNNER_HOME\n  {facts['runner_home']}")
    lines.append(f"Problems ({len(facts['problems'])})" if facts["problems"] else "Problems\n  none")
    for problem in facts["problems"]:
        lines.append(f"  - {problem['problem']}")
        if problem["fix"]:
            lines.append(f"    fix: {problem['fix']}")
    return "\n".join(lines)


def _image_lines(statuses: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for release in dict.fromkeys(status["release"] for status in statuses):
        of_release = [status for status in statuses if status["release"] == release]
        if not any(status["present"] for status in of_release):
            lines.append(f"Ubuntu {release}: not prepared (runner images prepare --release {release})")
            continue
        lines += [_image_line(status) for status in of_release]
    return lines


def _image_line(status: dict[str, Any]) -> str:
    if not status["present"]:
        return f"{status['tag']}: missing"
    origin = f"stand-in built from Debian {status['suite']}" if status["stand_in"] else "real ubuntu"
    size = f"{status['size'] / 1024**2:.0f} MiB" if status["size"] else "size unknown"
    state = ", out of date" if status["up_to_date"] is False else ""
    line = f"{status['tag']}: {origin}, {size}, created {str(status['created'])[:19]}{state}"
    if status["kind"] == "runtime" and status.get("packages"):
        line += "\n" + "\n".join(f"    {row}" for row in package_rows(status["packages"]))
    return line


def package_rows(packages: list[str] | tuple[str, ...], width: int = 100) -> list[str]:
    """The `name=version` packages as `packages: ...` rows at most `width` wide."""
    return textwrap.wrap(", ".join(packages), width, initial_indent="packages: ", subsequent_indent=" " * 10,
                         break_on_hyphens=False, break_long_words=False)
