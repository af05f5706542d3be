"""`runner find jobs`: the jobs the engine knows, listed (or drawn as trees) like `dx find jobs`."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import click

from runner.cli import _client
from runner.cli.describe import format_duration, format_time
from runner.errors import ApiError, UsageError
from runner.spec.ids import is_id
from runner.spec.job_states import JobState

JOB_STATES = tuple(state.value for state in JobState)


@dataclass
class JobNode:
    """A described job and the nodes of the subjobs it started (those that were found)."""

    job: Mapping[str, Any]
    children: list[JobNode] = field(default_factory=list)


def runtime_ms(job: Mapping[str, Any], now_ms: int) -> int | None:
    """How long the job has run (until it stopped, else until `now_ms`); None when it never started."""
    started, stopped = job.get("startedRunning"), job.get("stoppedRunning")
    if not isinstance(started, int):
        return None
    return (stopped if isinstance(stopped, int) else now_ms) - started


def job_lines(job: Mapping[str, Any], now_ms: int, tz: tzinfo | None = None) -> list[str]:
    """The two lines `dx find jobs` prints for a job: `* name (state) id`, then launcher, time, runtime."""
    header = f"* {job.get('name') or '?'} ({job.get('state') or '?'}) {job.get('id') or '?'}"
    detail = f"  {job.get('launchedBy') or '?'} {format_time(job.get('created'), tz)}"
    ran = runtime_ms(job, now_ms)
    if ran is not None:
        detail += f" (runtime {format_duration(ran)})"
    return [header, detail]


def build_forest(jobs: Sequence[Mapping[str, Any]]) -> list[JobNode]:
    """Trees of jobs by `parentJob`: a job whose parent is not among `jobs` is a root; subjobs by creation."""
    nodes = {str(job.get("id")): JobNode(job) for job in jobs}
    roots = []
    for job in jobs:
        node = nodes[str(job.get("id"))]
        parent = nodes.get(str(job.get("parentJob")))
        if parent is None or parent is node:
            roots.append(node)
        else:
            parent.children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda child: (_number(child.job.get("created")), str(child.job.get("id"))))
    return roots


def format_tree(node: JobNode, now_ms: int, tz: tzinfo | None = None) -> list[str]:
    """A job and its subjobs, each subjob's lines under its parent behind `├── ` / `└── ` connectors."""
    header, detail = job_lines(node.job, now_ms, tz)
    lines = [header, "│ " + detail[2:] if node.children else detail]
    for index, child in enumerate(node.children):
        last = index == len(node.children) - 1
        first, *rest = format_tree(child, now_ms, tz)
        lines.append(("└── " if last else "├── ") + first)
        lines.extend(("    " if last else "│   ") + line for line in rest)
    return lines


def format_jobs(jobs: Sequence[Mapping[str, Any]], now_ms: int, *, tree: bool = False,
                tz: tzinfo | None = None) -> list[str]:
    """Every job's lines in the order given, or (`tree`) each tree's lines from its root."""
    if tree:
        return [line for root in build_forest(jobs) for line in format_tree(root, now_ms, tz)]
    return [line for job in jobs for line in job_lines(job, now_ms, tz)]


def find_body(states: Sequence[str], name: str | None, project: str | None, root: str | None,
              limit: int | None) -> dict[str, Any]:
    """The /system/findExecutions request for the command's options."""
    body: dict[str, Any] = {"describe": True}
    if states:
        body["state"] = list(states)
    optional = {"name": name, "project": project, "rootExecution": root, "limit": limit}
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


@click.group()
def find() -> None:
    """Find objects in the engine (jobs)."""


@find.command("jobs")
@click.option("--state", "states", multiple=True, type=click.Choice(JOB_STATES),
              help="Only jobs in this state (repeat it for several).")
@click.option("--name", help="Only jobs of this name.")
@click.option("--project", help="Only jobs in this project (default: the engine's default project).")
@click.option("--all-projects", is_flag=True, help="Jobs of every project.")
@click.option("--root", "root", metavar="JOB", help="Only jobs of the tree that JOB is the root of.")
@click.option("--tree", is_flag=True, help="Show subjobs indented under their parents.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many jobs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the list of job describes as JSON.")
def jobs(states: tuple[str, ...], name: str | None, project: str | None, all_projects: bool,
         root: str | None, tree: bool, limit: int | None, as_json: bool) -> None:
    """List jobs, newest first: `* NAME (STATE) JOB`, then who launched it, when, and its runtime."""
    if root is not None and not is_id(root, "job"):
        raise UsageError(f"--root {root!r} is not a job ID (job-xxxx)")
    if project is not None and not (is_id(project, "project") or is_id(project, "container")):
        raise UsageError(f"--project {project!r} is not a project ID (project-xxxx)")
    if project is not None and all_projects:
        raise UsageError("--project and --all-projects exclude each other")
    with _client.connect() as client:
        scope = None if all_projects else project or client.project
        answer = client.call("/system/findExecutions", find_body(states, name, scope, root, limit))
    found = _describes(answer)
    if as_json:
        click.echo(json.dumps(found, indent=4, sort_keys=True))
        return
    for line in format_jobs(found, int(time.time() * 1000), tree=tree):
        click.echo(line)


def _describes(answer: object) -> list[dict[str, Any]]:
    results = answer.get("results") if isinstance(answer, Mapping) else None
    if not isinstance(results, list):
        raise ApiError(f"/system/findExecutions answered without results: {answer!r}"[:300])
    return [entry["describe"] for entry in results
            if isinstance(entry, Mapping) and isinstance(entry.get("describe"), dict)]


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
