"""`runner run`: start an applet (an `applet-xxxx` ID, or a source folder built first) with inputs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from runner.cli import _client
from runner.cli._inputs import parse_inputs
from runner.cli.build import build_applet, check_folder
from runner.cli.watch import EXIT_INTERRUPTED, print_records
from runner.client.api import EngineClient
from runner.errors import ApiError, UsageError
from runner.spec.ids import is_id

FINAL_STATES = frozenset({"done", "failed", "terminated"})


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


@click.command()
@click.argument("target", metavar="APPLET_OR_DIR")
@click.option("-i", "--input", "pairs", multiple=True, metavar="NAME=VALUE",
              help="An input, as NAME=VALUE or NAME:CLASS=VALUE; repeat it for array inputs.")
@click.option("-j", "--input-json", "json_input", metavar="JSON",
              help="Inputs as a JSON object (-i values override its keys).")
@click.option("--folder", default="/", show_default=True, help="The project folder for the job's outputs.")
@click.option("--name", help="The job's name (default: the applet's).")
@click.option("--wait", is_flag=True, help="Follow the logs until the job ends; print its output.")
@click.option("--brief", is_flag=True, help="Print only the job ID (with --wait: no log lines).")
@click.pass_context
def run(ctx: click.Context, target: str, pairs: tuple[str, ...], json_input: str | None, folder: str,
        name: str | None, wait: bool, brief: bool) -> None:
    """Run APPLET_OR_DIR (an applet ID, or a source folder, built first) and print the job's ID.

    With --wait, follow the job tree's logs (on stderr) until the job ends, then print its output as
    JSON and exit 0, or say why it failed and exit 1.
    """
    parse_inputs(pairs, None, json_input)  # bad syntax or JSON fails here, before the engine starts
    source = None if is_id(target, "applet") else Path(target)
    if source is not None:
        if not source.is_dir():
            raise UsageError(f"{target}: neither an applet ID (applet-xxxx) nor an applet source folder")
        check_folder(source)
    with _client.connect() as client:
        applet = build_applet(client, source)["id"] if source is not None else target
        job, job_name = _start(client, applet, pairs, json_input, folder, name)
        if not brief:
            click.echo(f"Started {job} ({job_name}); follow it with: runner watch {job}", err=True)
        if not wait:
            click.echo(job)
            return
        code = _wait(client, job, quiet=brief)
    ctx.exit(code)


def _start(client: EngineClient, applet: str, pairs: Sequence[str], json_input: str | None, folder: str,
           name: str | None) -> tuple[str, str]:
    description = client.call(f"/{applet}/describe", {})
    input_spec = description.get("inputSpec") if isinstance(description, dict) else None
    body: dict[str, Any] = {"project": client.project, "input": parse_inputs(pairs, input_spec, json_input),
                            "folder": folder}
    if name:
        body["name"] = name
    answer = client.call(f"/{applet}/run", body)
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise ApiError(f"/{applet}/run answered without a job ID: {answer!r}")
    # Like DNAnexus, a job is named after the applet's title, else its name.
    return answer["id"], name or str(description.get("title") or description.get("name") or applet)


def _wait(client: EngineClient, job: str, *, quiet: bool) -> int:
    def echo(line: str) -> None:
        if not quiet:
            click.echo(line, err=True)

    try:
        print_records(client.stream_logs(job, tree=True, follow=True), echo)
    except KeyboardInterrupt:
        click.echo(f"stopped waiting; {job} keeps running (runner watch {job})", err=True)
        return EXIT_INTERRUPTED
    code, text = outcome(client.call(f"/{job}/describe", {}))
    click.echo(text, err=code != 0)
    return code
