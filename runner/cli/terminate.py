"""`runner terminate JOB...`: end job trees, like `dx terminate` (silent on success)."""

from __future__ import annotations

import click

from runner.cli import _client
from runner.errors import RunnerError, UsageError
from runner.spec.ids import is_id


@click.command()
@click.argument("job_ids", metavar="JOB...", nargs=-1, required=True)
@click.pass_context
def terminate(ctx: click.Context, job_ids: tuple[str, ...]) -> None:
    """Terminate each JOB and every job of its tree; print nothing when all went well.

    A job that has already ended is left as it is. Exits 1, after trying every JOB, when the engine
    refused one (each refusal on its own line), 3 when an argument is not a job ID.
    """
    bad = [job for job in job_ids if not is_id(job, "job")]
    if bad:
        raise UsageError(f"not a job ID (job-xxxx): {', '.join(repr(job) for job in bad)}")
    failed = False
    with _client.connect() as client:
        for job in job_ids:
            try:
                client.call(f"/{job}/terminate", {})
            except RunnerError as exc:
                click.echo(f"error: {job}: {exc}", err=True)
                failed = True
    ctx.exit(1 if failed else 0)
