"""`runner wait JOB... [--from-file]`: wait for jobs to end, as `dx wait` does; exit 0 only when all are done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from runner.cli import _client
from runner.cli.watch import EXIT_INTERRUPTED, FINAL_STATES, outcome
from runner.client import engine_process
from runner.client.api import EngineClient
from runner.client.events import EventQuery, follow_events
from runner.errors import ApiError, EnvironmentProblem, UsageError
from runner.spec.events import Gap, JobStateChanged
from runner.spec.ids import is_id


def read_job_list(path: str) -> list[str]:
    """The job IDs of a file, one a line (blank lines left out), as `dx wait --from-file` reads it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--from-file: cannot read {path}: {exc}") from None
    jobs = [line.strip() for line in text.splitlines() if line.strip()]
    if not jobs:
        raise UsageError(f"--from-file: {path} lists no job ID")
    return jobs


def wait_for(client: EngineClient, job: str) -> dict[str, Any]:
    """The describe of `job` once it has ended (done, failed or terminated), following the engine's events."""
    description = _describe(client, job)
    if description.get("state") in FINAL_STATES:
        return description
    click.echo(f"waiting for {job} ({description.get('name') or '?'}, {description.get('state')}) to end", err=True)
    root = description.get("rootExecution")
    query = EventQuery(root=root if is_id(root, "job") else job, kinds=("job.state",))
    # The stream replays the tree's past state changes first, so an end between describe and here is seen.
    for event in follow_events(client, query, locate=lambda: engine_process.connect(start=False)):
        ended = isinstance(event, JobStateChanged) and event.job == job and event.to_state in FINAL_STATES
        if ended or isinstance(event, Gap):
            description = _describe(client, job)
            if description.get("state") in FINAL_STATES:
                return description
    raise EnvironmentProblem(f"the event stream ended before {job} did", fix=f"runner engine status; runner wait {job}")


def _describe(client: EngineClient, job: str) -> dict[str, Any]:
    answer = client.call(f"/{job}/describe", {})
    if not isinstance(answer, dict):
        raise ApiError(f"/{job}/describe answered {type(answer).__name__}, not a JSON object")
    return answer


@click.command()
@click.argument("job_ids", metavar="JOB...", nargs=-1, required=True)
@click.option("--from-file", is_flag=True, help="JOB is a file that lists the job IDs, one a line.")
@click.pass_context
def wait(ctx: click.Context, job_ids: tuple[str, ...], from_file: bool) -> None:
    """Wait until every JOB has ended; print nothing on stdout (on stderr: each job still running).

    Exits 0 when all are done; 1 when one failed or was terminated (each such job's reason and message on
    stderr, after all have ended) or the engine does not know it; 3 when an argument is not a job ID; 130
    on Ctrl+C (the jobs keep running).
    """
    if from_file:
        if len(job_ids) != 1:
            raise UsageError(f"--from-file: give one file, not {len(job_ids)} arguments")
        job_ids = tuple(read_job_list(job_ids[0]))
    bad = [job for job in job_ids if not is_id(job, "job")]
    if bad:
        raise UsageError(f"not a job ID (job-xxxx): {', '.join(repr(job) for job in bad)}")
    failed = False
    try:
        with _client.connect() as client:
            for job in dict.fromkeys(job_ids):
                failed = not _wait_one(client, job) or failed
    except KeyboardInterrupt:
        click.echo("stopped waiting; the jobs keep running", err=True)
        ctx.exit(EXIT_INTERRUPTED)
    ctx.exit(1 if failed else 0)


def _wait_one(client: EngineClient, job: str) -> bool:
    """Wait for `job`; say on stderr how it ended unless done; whether it is done."""
    try:
        description = wait_for(client, job)
    except ApiError as exc:
        click.echo(f"error: {job}: {exc}", err=True)
        return False
    code, text = outcome(description)
    if code != 0:
        click.echo(text, err=True)
    return code == 0
