"""`runner watch JOB`: a job tree's log lines and state changes as they happen, printed like `dx watch`; and how
a job's end reads (its exit code, its output or why it failed), which `run --wait` and `wait` print too."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any

import click

from runner.cli import _client
from runner.errors import EnvironmentProblem, UsageError
from runner.spec.ids import is_id
from runner.spec.job_states import TERMINAL_STATES

EXIT_INTERRUPTED = 130
FAILED_STATES = frozenset({"failed", "terminated"})
FINAL_STATES = frozenset(state.value for state in TERMINAL_STATES)
STREAM_LABELS = {"stdout": "STDOUT", "stderr": "STDERR", "runner": "RUNNER"}


def outcome(description: Mapping[str, Any]) -> tuple[int, str]:
    """The exit code and the text to print for a described job: its output when done, else why it is not."""
    job, state = description.get("id", "?"), description.get("state")
    if state == "done":
        return 0, json.dumps(description.get("output") or {}, indent=2)
    if state not in FINAL_STATES:
        return 1, f"{job} is {state}, not finished, but its log stream ended"
    parts = [str(p) for p in (description.get("failureReason"), description.get("failureMessage")) if p]
    text = f"{job} {state}" + (": " + ": ".join(parts) if parts else "")
    cause = description.get("failureFrom")
    if isinstance(cause, Mapping) and cause.get("id") and cause.get("id") != job:
        text += f"\n  caused by {cause['id']} ({cause.get('name') or '?'})"
    return 1, text


def format_record(record: Mapping[str, Any], tz: tzinfo | None = None) -> str | None:
    """The line `dx watch` would print for a log or state record (None for the end record and unknown kinds).

    Times are shown in `tz`, by default the local time zone.
    """
    kind = record.get("kind")
    name, job = record.get("name") or "?", record.get("job") or "?"
    if kind == "log":
        stamp = _timestamp(record.get("t"), tz)
        stream = record.get("stream")
        label = STREAM_LABELS.get(stream, str(stream).upper()) if isinstance(stream, str) else "?"
        line = str(record.get("line", "")).rstrip("\n")
        return f"{stamp} {name} ({job}) {label} {line}"
    if kind == "state":
        return f"* {name} ({record.get('function') or '?'}) ({record.get('state')}) {job}"
    return None


def print_records(records: Iterable[Mapping[str, Any]], echo: Callable[[str], None]) -> str | None:
    """Print each record through `echo` up to the end record; return its state (None: no end record)."""
    for record in records:
        if record.get("kind") == "end":
            state = record.get("state")
            return state if isinstance(state, str) else "unknown"
        line = format_record(record)
        if line is not None:
            echo(line)
    return None


def print_stream(records: Iterable[Mapping[str, Any]], streams: frozenset[str], echo: Callable[[str], None],
                 job: str | None = None) -> str | None:
    """Print only the raw lines of `streams` (of `job` when given) up to the end record; return its state."""
    for record in records:
        kind = record.get("kind")
        if kind == "end":
            state = record.get("state")
            return state if isinstance(state, str) else "unknown"
        if kind == "log" and record.get("stream") in streams and (job is None or record.get("job") == job):
            echo(str(record.get("line", "")).rstrip("\n"))
    return None


def exit_code(end_state: str | None, *, followed: bool) -> int:
    """1 when the job failed or was terminated, or (following) never said it ended; else 0."""
    if end_state in FAILED_STATES:
        return 1
    # Without --no-follow the stream only ends with the job, so anything but done is a failure.
    return 1 if followed and end_state != "done" else 0


@click.command()
@click.argument("job_id", metavar="JOB")
@click.option("--no-follow", is_flag=True, help="Print what the tree has logged so far, then return.")
@click.option("--get-stdout", is_flag=True, help="Print only JOB's stdout lines, as they are (no subjobs).")
@click.option("--get-stderr", is_flag=True, help="Print only JOB's stderr lines, as they are (no subjobs).")
@click.pass_context
def watch(ctx: click.Context, job_id: str, no_follow: bool, get_stdout: bool, get_stderr: bool) -> None:
    """Print the log lines and state changes of JOB and its subjobs until JOB ends.

    With --get-stdout or --get-stderr, print only that stream of JOB itself, line by line, without
    prefixes. Exits 0 when JOB is done (with --no-follow: unless it failed), 1 when it failed or was
    terminated, 130 on Ctrl+C (the job keeps running).
    """
    if not is_id(job_id, "job"):
        raise UsageError(f"{job_id!r} is not a job ID (job-xxxx)")
    streams = frozenset(name for name, wanted in (("stdout", get_stdout), ("stderr", get_stderr)) if wanted)
    try:
        with _client.connect() as client:
            records = client.stream_logs(job_id, tree=not streams, follow=not no_follow)
            if streams:
                state = print_stream(records, streams, click.echo, job_id)
            else:
                state = print_records(records, click.echo)
    except KeyboardInterrupt:
        ctx.exit(EXIT_INTERRUPTED)
    if state is None and not no_follow:
        raise EnvironmentProblem(f"the log stream of {job_id} ended before the job did",
                                 fix=f"runner engine status; runner watch {job_id}")
    ctx.exit(exit_code(state, followed=not no_follow))


def _timestamp(millis: object, tz: tzinfo | None) -> str:
    if not isinstance(millis, (int, float)) or isinstance(millis, bool):
        return "????-??-?? ??:??:??"
    return datetime.fromtimestamp(millis / 1000, tz).strftime("%Y-%m-%d %H:%M:%S")
