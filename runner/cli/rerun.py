"""`runner rerun JOB`: run one job again alone, as a new root job of its applet with the input it ran with."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from runner.cli import _client
from runner.cli._run_options import RunOptions, deep_merge, json_value, request_fields
from runner.cli.build import build_applet, check_folder
from runner.cli.run import _wait, _watch
from runner.cli.run import run as run_command
from runner.client.api import EngineClient
from runner.client.rerun_options import with_overrides
from runner.client.reruns import RecordedRun, recorded_input, start_rerun
from runner.errors import UsageError
from runner.spec.ids import is_id

# `runner run`'s dx-style flags (instance type, folder, tags, reuse...), shared so that both read alike.
RUN_FLAGS = [param for param in run_command.params if param.name in RunOptions.__dataclass_fields__]


@click.command()
@click.argument("job", metavar="JOB")
@click.option("--entry", metavar="NAME", help="The entry point to run (default: the one JOB ran).")
@click.option("--latest", is_flag=True,
              help="Build the applet's source folder anew first and run that build, not the applet JOB ran.")
@click.option("--watch", is_flag=True, help="Follow the new job's logs after starting (like runner watch).")
@click.option("--wait", is_flag=True, help="Follow the logs until the new job ends; print its output.")
@click.option("--brief", is_flag=True, help="Print only the job ID (with --wait: no log lines).")
@click.pass_context
def rerun(ctx: click.Context, /, job: str, entry: str | None, latest: bool, watch: bool, wait: bool,
          brief: bool, **flags: Any) -> None:
    """Run JOB again alone: entry point NAME (default: the function JOB ran) of JOB's applet, as a new root
    job with the input JOB ran with (job-based references resolved); print the new job's ID.

    The new job runs as JOB ran, as dx run --clone does: the same project, folder, name, tags, properties,
    priority, instance type requests (a subjob's as they resolved for it), execution policy, timeout, debug
    options and rank; each flag given replaces what it sets (--instance-type with entry points replaces those
    entry points' requests only).

    The focused loop for a big tree that failed in one subjob: re-run that subjob by itself. With --latest,
    the applet's source folder is built again first, so the new job runs the code as it is now. --wait and
    --watch follow the new job as with runner run.
    """
    if not is_id(job, "job"):
        raise UsageError(f"{job!r} is not a job ID (job-xxxx)")
    if wait and watch:
        raise UsageError("--wait: not with --watch (choose one way to follow the job)")
    options = RunOptions(**flags)
    given = given_fields(options)  # a bad flag exits 3 before the engine is asked anything
    with _client.connect() as client:
        recorded = recorded_input(client, job)
        applet = _latest_build(client, job, recorded) if latest else recorded.applet
        function = entry or recorded.entry
        run_options = with_overrides(recorded.carried(applet), given, merge_instance_types=_per_entry(options))
        if options.extra_args is not None:
            run_options = deep_merge(run_options, _extra_args(options.extra_args))
        new = start_rerun(client, applet, entry=function, input=recorded.input, rerun_of=job,
                          run_options=run_options)
        if not brief:
            click.echo(f"Started {new}: entry point {function} of {applet} with the input of {job}; "
                       f"follow it with: runner watch {new}", err=True)
        if not wait or brief:
            click.echo(new)  # as runner run --brief [--wait]: the ID alone on stdout, at once
        if not wait:
            if watch:
                ctx.exit(_watch(client, new))
            return
        code = _wait(client, new, quiet=brief, output=not brief)
    ctx.exit(code)


def given_fields(options: RunOptions) -> dict[str, Any]:
    """The run request fields the flags given set (--extra-args aside: it merges over the rest)."""
    fields = request_fields(replace(options, extra_args=None), None)
    if options.destination is None:
        del fields["project"], fields["folder"]  # not given: the job's are carried
    elif fields["project"] is None:
        del fields["project"]  # --folder /path: in the job's project
    if options.extra_args is not None:
        _extra_args(options.extra_args)
    return fields


def _extra_args(text: str) -> dict[str, Any]:
    return dict(json_value("--extra-args", text, (dict,), "a JSON object"))


def _per_entry(options: RunOptions) -> bool:
    """Whether --instance-type names entry points (a JSON object), not one type for them all."""
    return options.instance_type is not None and options.instance_type.lstrip().startswith("{")


def _latest_build(client: EngineClient, job: str, recorded: RecordedRun) -> str:
    """The applet ID of a fresh build of the source folder of the applet `job` ran."""
    if recorded.folder is None:
        raise UsageError(f"--latest: the engine does not know the source folder of {recorded.applet}, the "
                         f"applet {job} ran (it was not built from a folder on this machine)")
    folder = Path(recorded.folder)
    if not (folder / "dxapp.json").is_file():
        what = "no longer exists" if not folder.exists() else "no longer holds a dxapp.json"
        raise UsageError(f"--latest: {folder}, the source folder of {recorded.applet} (the applet {job} "
                         f"ran), {what}")
    check_folder(folder)
    return str(build_applet(client, folder)["id"])


rerun.params.extend(RUN_FLAGS)
