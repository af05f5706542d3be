"""`runner dev DIR`: watch mode. Build and run the applet in DIR, then again on every change under it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from runner.cli import _client
from runner.cli._inputs import parse_inputs
from runner.cli._run_options import RunOptions, read_input_file, request_fields
from runner.cli.run import run as run_command
from runner.cli.watch import EXIT_INTERRUPTED
from runner.client.api import EngineClient
from runner.client.files import upload_file
from runner.dev.loop import ON_BUSY, DevLoop, DevOptions, Starter
from runner.dev.report import ERROR, WARNING, Note
from runner.dev.runs import focused, run_applet
from runner.errors import ApiError, UsageError
from runner.spec.ids import is_id

# The flags of `runner run` that make sense on every re-run (not --batch-tsv, --watch, --wait, ...).
SHARED = ("pairs", "json_input", "json_file", "instance_type", "instance_type_by_executable", "extra_args", "name",
          "destination", "tags", "properties", "details", "depends_on", "delay_workspace_destruction",
          "debug_on", "allow_ssh", "ignore_reuse", "reuse", "rank", "cost_limit")
COLOURS = {ERROR: "red", WARNING: "yellow"}


def _shared_params() -> list[click.Parameter]:
    return [param for param in run_command.params if param.name in SHARED]


def say(note: Note) -> None:
    """Print a note, its first line marked, errors in red and warnings in yellow (on a terminal)."""
    first, *rest = note.lines
    click.echo(click.style(f"[dev] {first}", fg=COLOURS.get(note.level)))
    for line in rest:
        click.echo(click.style(line, fg=COLOURS.get(note.level)) if note.level == ERROR else line)


class _Uploads:
    """Local files given to file inputs, uploaded once for every re-run."""

    def __init__(self, client: EngineClient, project: str | None) -> None:
        self.client, self.project = client, project
        self.done: dict[Path, str] = {}

    def __call__(self, path: Path) -> str:
        key = path.resolve()
        if key not in self.done:
            if self.project is None:
                raise UsageError(f"{path}: no project to upload it to (use --folder project-xxxx:/folder)")
            self.done[key] = upload_file(self.client, path, project=self.project, folder="/", name=path.name)
        return self.done[key]


def plain_starter(client: EngineClient, pairs: tuple[str, ...], json_input: str | None,
                  options: RunOptions) -> Starter:
    """Each build run with the flags' request and input, read against the build's inputSpec."""
    body = request_fields(options, client.project)
    uploads = _Uploads(client, body["project"])

    def start(applet: str, rerun_of: str | None) -> str:
        described = client.call(f"/{applet}/describe", {})
        if not isinstance(described, dict):
            raise ApiError(f"/{applet}/describe answered {type(described).__name__}, not a JSON object")
        spec = described.get("inputSpec")
        request = {**body, "input": parse_inputs(pairs, spec if isinstance(spec, list) else None, json_input,
                                                 uploads)}
        return run_applet(client, applet, request, rerun_of)

    return start


@click.command(params=_shared_params())
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--poll", is_flag=True,
              help="Poll for changes instead of waiting for the file system's events (network and container "
                   "file systems; WATCHFILES_FORCE_POLLING=1 does the same).")
@click.option("--on-busy", type=click.Choice(ON_BUSY), default="restart", show_default=True,
              help="A change while the tree runs: terminate it and re-run (restart), re-run when it ends "
                   "(queue), or do nothing (ignore).")
@click.option("--keep-running", is_flag=True, help="On Ctrl+C, leave the running tree running.")
@click.option("--entry", metavar="NAME", help="With --input-from: re-run only entry point NAME, as a root job.")
@click.option("--input-from", metavar="JOB", help="With --entry: the input JOB ran with (references resolved).")
@click.pass_context
def dev(ctx: click.Context, /, folder: Path, pairs: tuple[str, ...], json_input: str | None,
        json_file: str | None, poll: bool, on_busy: str, keep_running: bool, entry: str | None,
        input_from: str | None, **flags: Any) -> None:
    """Watch mode: build and run the applet in DIR, then rebuild and re-run it on every change under DIR.

    Each re-run says which files changed and how its outputs compare with the previous run's. A broken
    build is reported (as runner build --dry-run does) and the last good build stays; a failed run says
    why, and watching goes on. Ctrl+C stops watching and terminates the running tree (unless
    --keep-running); it exits 130. With --entry NAME --input-from JOB, every change re-runs only entry
    point NAME with the input JOB had.
    """
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder (expected an applet source folder with a dxapp.json)")
    if (entry is None) != (input_from is None):
        raise UsageError("--entry and --input-from go together (re-run entry point NAME with JOB's input)")
    if input_from is not None and not is_id(input_from, "job"):
        raise UsageError(f"--input-from: {input_from!r} is not a job ID (job-xxxx)")
    if input_from is not None and (pairs or json_input or json_file):
        raise UsageError("-i/-j/-f: not with --input-from (the input is the one that job had)")
    if json_file is not None:
        if json_input is not None:
            raise UsageError("-f: not with -j (give the inputs one way)")
        json_input = read_input_file(json_file)
    options = RunOptions(**flags)
    parse_inputs(pairs, None, json_input)  # bad syntax fails here, before anything starts
    request_fields(options, None)
    watch = DevOptions(folder, on_busy=on_busy, poll=poll, keep_running=keep_running, focus=entry)
    with _client.connect() as client:
        if input_from is not None and entry is not None:
            start = focused(client, input_from, entry, request_fields(options, client.project))
        else:
            start = plain_starter(client, pairs, json_input, options)
        loop = DevLoop(client, watch, start, say)
        try:
            loop.run()
        except KeyboardInterrupt:
            loop.finish(terminate=not keep_running)
            ctx.exit(EXIT_INTERRUPTED)
