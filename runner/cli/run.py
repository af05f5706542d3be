"""`runner run`: start an applet (an `applet-xxxx` ID, or a source folder built first) or an app
(app-NAME[/VERSION or TAG], app-xxxx) with inputs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from runner.cli import _client
from runner.cli._inputs import Uploader, parse_inputs
from runner.cli._run_options import RunOptions, read_input_file, request_fields
from runner.cli.watch import EXIT_INTERRUPTED, exit_code, outcome, print_records
from runner.client.api import EngineClient
from runner.errors import ApiError, EnvironmentProblem, UsageError
from runner.spec.ids import is_id
from runner.spec.run_options import DEBUG_ON_CHOICES


@click.command()
@click.argument("target", metavar="EXECUTABLE_OR_DIR")
@click.option("-i", "--input", "pairs", multiple=True, metavar="NAME=VALUE",
              help="An input, as NAME=VALUE or NAME:CLASS=VALUE; repeat it for array inputs. VALUE may be "
                   "job-xxxx:field, and for a file input a local file (uploaded first).")
@click.option("-j", "--input-json", "json_input", metavar="JSON",
              help="Inputs as a JSON object (-i values override its keys).")
@click.option("-f", "--input-json-file", "json_file", metavar="FILE",
              help="Inputs as a JSON object read from FILE ('-': standard input).")
@click.option("--batch-tsv", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Start one job per row of FILE (header: 'batch ID', then input names; 'NAME ID' columns "
                   "for files); -i/-j/-f give the inputs common to every row.")
@click.option("--instance-type", metavar="NAME|JSON",
              help='An instance type for every entry point, or a JSON object {"entry": "type"}.')
@click.option("--instance-type-by-executable", metavar="JSON",
              help='Instance types for the whole tree: {"applet-xxxx": {"entry": "type"}}.')
@click.option("--extra-args", metavar="JSON",
              help="A JSON object merged into the /applet-xxxx/run request (e.g. executionPolicy, "
                   "timeoutPolicyByExecutable, systemRequirementsByExecutable).")
@click.option("--name", help="The job's name (default: the applet's title, else its name).")
@click.option("--folder", "--destination", "destination", metavar="[PROJECT:]/FOLDER",
              help="Where the outputs go: /folder, or project-xxxx:/folder (default: / of the default project).")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag for the job; repeatable.")
@click.option("--property", "properties", multiple=True, metavar="KEY=VALUE",
              help="A property of the job; repeatable.")
@click.option("--details", metavar="JSON", help="The job's details (a JSON object or array).")
@click.option("--depends-on", multiple=True, metavar="ID",
              help="A job or data object to wait for before starting; repeatable.")
@click.option("--delay-workspace-destruction", is_flag=True, help="Keep the job's workspace after it ends.")
@click.option("--debug-on", multiple=True, metavar="ERROR",
              help=f"Keep the job's container after this error ({', '.join(DEBUG_ON_CHOICES)}); repeatable.")
@click.option("--allow-ssh", multiple=True, is_flag=False, flag_value="*", metavar="[ADDRESS]",
              help="Allow SSH from ADDRESS (an IP or CIDR block; alone: '*', this client); repeatable.")
@click.option("--ignore-reuse", is_flag=True, help="Do not reuse the results of an earlier identical job.")
@click.option("--reuse", is_flag=True, help="Reuse the results of an earlier identical job if there is one.")
@click.option("--rank", metavar="N", help="The priority of the tree, from -1024 to 1023 (default 0).")
@click.option("--cost-limit", metavar="X", help="The cost the tree may accrue before it is terminated.")
@click.option("--watch", is_flag=True, help="Follow the tree's logs after starting (like runner watch).")
@click.option("--wait", is_flag=True, help="Follow the logs until the job ends; print its output.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (runner never asks).")
@click.option("--brief", is_flag=True, help="Print only job IDs (with --wait: no log lines, no output JSON).")
@click.pass_context
def run(ctx: click.Context, /, target: str, pairs: tuple[str, ...], json_input: str | None, json_file: str | None,
        batch_tsv: Path | None, watch: bool, wait: bool, yes: bool, brief: bool, **flags: Any) -> None:
    """Run EXECUTABLE_OR_DIR (an applet ID, an app: app-NAME[/VERSION], or a source folder, built first) and
    print the job's ID.

    With --wait, follow the job tree's logs (on stderr) until the job ends, then print its output as
    JSON and exit 0, or say why it failed and exit 1; with --brief --wait, as dx run --brief --wait,
    print only the job ID (the output: runner describe). With --watch, print the logs on stdout and
    exit as runner watch does.
    """
    values: dict[str, Any] = dict(flags)
    options = RunOptions(**values)
    json_input = _json_text(json_input, json_file)
    # Bad syntax, JSON or flag values fail here, before the engine starts.
    parse_inputs(pairs, None, json_input)
    request_fields(options, None)
    if batch_tsv is not None:
        # Here and in _start_batch, not above: a run without --batch-tsv (the common one) needs none of it.
        from runner.cli.batch import read_batch_tsv
        read_batch_tsv(batch_tsv, None)
        if wait or watch:
            raise UsageError("--batch-tsv: not with --wait or --watch (follow each job with runner watch)")
    source = None if is_id(target, "applet") or is_app(target) else Path(target)
    if source is not None:
        # Here, not above: the dxapp.json reader is half of this command's start, and an ID needs none of it.
        from runner.cli.build import build_applet, check_folder
        if not source.is_dir():
            raise UsageError(f"{target}: neither an applet ID (applet-xxxx), an app (app-NAME[/VERSION], "
                             "app-xxxx) nor an applet source folder")
        check_folder(source)
    with _client.connect() as client:
        applet = build_applet(client, source)["id"] if source is not None else target
        if batch_tsv is not None:
            for job in _start_batch(client, applet, pairs, json_input, options, batch_tsv, brief):
                click.echo(job)
            return
        job, job_name = _start(client, applet, pairs, json_input, options)
        if not brief:
            click.echo(f"Started {job} ({job_name}); follow it with: runner watch {job}", err=True)
        if not wait or brief:
            # As dx run --brief [--wait]: the ID alone on stdout, at once (a script reads it before the end).
            click.echo(job)
        if not wait:
            if watch:
                ctx.exit(_watch(client, job))
            return
        code = _wait(client, job, quiet=brief, output=not brief)
    ctx.exit(code)


def is_app(target: str) -> bool:
    """Whether `target` names an app (app-<id>, app-NAME, app-NAME/VERSION or TAG) rather than a folder."""
    return target.startswith("app-") and target.count("/") <= 1 and not Path(target).is_dir()


def _json_text(json_input: str | None, json_file: str | None) -> str | None:
    if json_file is None:
        return json_input
    if json_input is not None:
        raise UsageError("-f: not with -j (give the inputs one way)")
    return read_input_file(json_file)


def _describe(client: EngineClient, applet: str) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    description = client.call(f"/{applet}/describe", {})
    if not isinstance(description, dict):
        raise ApiError(f"/{applet}/describe answered {type(description).__name__}, not a JSON object")
    spec = description.get("inputSpec")
    return description, spec if isinstance(spec, list) else None


def _default_name(description: Mapping[str, Any], applet: str) -> str:
    # Like DNAnexus, a job is named after the applet's title, else its name.
    return str(description.get("title") or description.get("name") or applet)


def _start(client: EngineClient, applet: str, pairs: tuple[str, ...], json_input: str | None,
           options: RunOptions) -> tuple[str, str]:
    description, input_spec = _describe(client, applet)
    body = request_fields(options, client.project)
    body["input"] = parse_inputs(pairs, input_spec, json_input, _uploader(client, body["project"]))
    answer = client.call(f"/{applet}/run", body)
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise ApiError(f"/{applet}/run answered without a job ID: {answer!r}")
    return answer["id"], options.name or _default_name(description, applet)


def _start_batch(client: EngineClient, applet: str, pairs: tuple[str, ...], json_input: str | None,
                 options: RunOptions, batch_tsv: Path, brief: bool) -> list[str]:
    from runner.cli.batch import read_batch_tsv, run_batch
    description, input_spec = _describe(client, applet)
    body = request_fields(options, client.project)
    upload = _uploader(client, body["project"])
    plan = read_batch_tsv(batch_tsv, input_spec, upload)
    common = parse_inputs(pairs, input_spec, json_input, upload)
    jobs = run_batch(client, applet, plan, common, body, options.name or _default_name(description, applet))
    if not brief:
        click.echo(f"Started {len(jobs)} jobs of {applet}, one per row of {batch_tsv}", err=True)
    return jobs


def _uploader(client: EngineClient, project: str | None) -> Uploader:
    """Upload a local file given to a file input into `project` (root folder); its new file ID."""
    def upload(path: Path) -> str:
        from runner.client.files import upload_file  # only a run given a local file uploads
        if project is None:
            raise UsageError(f"{path}: no project to upload it to (use --folder project-xxxx:/folder)")
        return upload_file(client, path, project=project, folder="/", name=path.name)
    return upload


def _watch(client: EngineClient, job: str) -> int:
    try:
        state = print_records(client.stream_logs(job, tree=True, follow=True), click.echo)
    except KeyboardInterrupt:
        click.echo(f"stopped watching; {job} keeps running (runner watch {job})", err=True)
        return EXIT_INTERRUPTED
    if state is None:
        raise EnvironmentProblem(f"the log stream of {job} ended before the job did",
                                 fix=f"runner engine status; runner watch {job}")
    return exit_code(state, followed=True)


def _wait(client: EngineClient, job: str, *, quiet: bool, output: bool = True) -> int:
    """Follow `job`'s tree (its log lines on stderr unless `quiet`) to its end; print its output (when
    `output`) or why it failed; the exit code."""
    def echo(line: str) -> None:
        if not quiet:
            click.echo(line, err=True)

    try:
        print_records(client.stream_logs(job, tree=True, follow=True), echo)
    except KeyboardInterrupt:
        click.echo(f"stopped waiting; {job} keeps running (runner watch {job})", err=True)
        return EXIT_INTERRUPTED
    code, text = outcome(client.call(f"/{job}/describe", {}))
    if code != 0 or output:
        click.echo(text, err=code != 0)
    return code
