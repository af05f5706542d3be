"""`runner ssh JOB`: an interactive shell in the container of a running job, or of one held for debugging."""

from __future__ import annotations

import os
import shutil
import sys

import click

from runner.cli import _client
from runner.errors import EnvironmentProblem, RunnerError


def without_terminal(argv: list[str]) -> list[str]:
    """`docker exec` arguments without the request for a terminal (`-it` becomes `-i`)."""
    return ["-i" if a == "-it" else a for a in argv if a != "-t"]


@click.command()
@click.argument("job")
def ssh(job: str) -> None:
    """Open bash in JOB's container (`docker exec -it`); JOB must be running or in debug_hold."""
    with _client.connect() as client:
        answer = client.call("/runner/shell", {"job": job})
    argv = answer.get("argv") if isinstance(answer, dict) else None
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise RunnerError(f"the engine gave no shell command for {job}")
    if not sys.stdin.isatty():
        # Commands piped in (`echo ls | runner ssh JOB`): docker exec refuses -t without a terminal.
        argv = without_terminal(argv)
    if shutil.which(argv[0]) is None:
        raise EnvironmentProblem(f"{argv[0]} is not on PATH: it is needed to open a shell in {job}")
    os.execvp(argv[0], argv)
