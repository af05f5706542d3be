"""`runner build`: read an applet folder as `dx build` does; report on it, or build it in the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from runner.cli import _client
from runner.client.api import EngineClient
from runner.config import current_settings
from runner.errors import ApiError, Problem, SpecError, UsageError
from runner.spec.dxapp import Dxapp, load_dxapp
from runner.spec.io_spec import IOParam
from runner.spec.system_requirements import effective_requirements
from runner.spec.timeouts import effective_timeout

EXIT_BAD_INPUT = 3


def _describe_param(param: IOParam) -> str:
    extras = []
    if param.optional:
        extras.append("optional")
    if param.has_default:
        extras.append(f"default {json.dumps(param.default)}")
    if param.choices is not None:
        extras.append("choices " + ", ".join(json.dumps(c) for c in param.choices))
    suffix = f", {'; '.join(extras)}" if extras else ""
    return f"{param.name} ({param.klass}{suffix})"


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "none"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    return " ".join(parts) or f"{seconds:g}s"


def _report_lines(folder: Path, dxapp: Dxapp) -> list[str]:
    run = dxapp.run_spec
    lines = [f"{folder}: valid applet {dxapp.name!r}" + (f" version {dxapp.version}" if dxapp.version else ""),
             f"  interpreter  {run.interpreter}, {run.distribution} {run.release}"
             + (f" (runSpec.release {run.requested_release}: legacy-release nearest)" if run.requested_release else "")]
    entry_points = sorted({"main", *run.system_requirements, *run.timeout_policy} - {"*"})
    for entry_point in entry_points:
        requirements = effective_requirements("applet", entry_point, run_spec_requirements=run.system_requirements)
        timeout = effective_timeout("applet", entry_point, run_spec_policy=run.timeout_policy)
        lines.append(f"  entry point  {entry_point}: {requirements.instance_type} "
                     f"({requirements.sources['instanceType']}), timeout {_format_duration(timeout.seconds)}")
    for title, spec in (("inputs", dxapp.input_spec), ("outputs", dxapp.output_spec)):
        if spec is None:
            lines.append(f"  {title:<11}  (no {title[:-1]} specification: any {title[:-1]} is accepted)")
        for param in spec or ():
            lines.append(f"  {title[:-1]:<11}  {_describe_param(param)}")
    if run.exec_depends:
        names = ", ".join(f"{d.name} ({d.package_manager})" for d in run.exec_depends)
        lines.append(f"  execDepends  {names}")
    for warning in dxapp.warnings:
        lines.append(f"  warning      {warning}")
    return lines


def _problems_json(problems: list[Problem] | tuple[Problem, ...]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message} for p in problems]


def check_folder(folder: Path) -> Dxapp:
    """The applet of a source folder: UsageError if it is no folder, SpecError (every problem) if invalid."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder (expected an applet source folder with a dxapp.json)")
    return load_dxapp(folder, legacy_release=current_settings().legacy_release)


def build_applet(client: EngineClient, folder: Path) -> dict[str, Any]:
    """Build the applet of `folder` in the engine: `{"id", "name", "imageBuilt", "notes"}`."""
    # No timeout: the first build of an applet with execDepends installs packages into its image.
    answer = client.call("/runner/build", {"folder": str(folder.resolve())}, timeout_s=None)
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise ApiError(f"/runner/build answered without an applet ID: {answer!r}")
    return answer


@click.command()
@click.argument("folder", type=click.Path(path_type=Path), default=Path("."))
@click.option("--dry-run", is_flag=True, help="Validate and report; build nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report (or the engine's answer) as JSON.")
def build(folder: Path, dry_run: bool, as_json: bool) -> None:
    """Build the applet source folder FOLDER (default: the current folder) as `dx build` does; print its ID.

    The engine is started when it is not running. With --dry-run, only validate and report. Exits 3
    with the whole list of problems when the folder is not a valid applet.
    """
    try:
        dxapp = check_folder(folder)
    except SpecError as exc:
        if as_json:
            click.echo(json.dumps({"valid": False, "problems": _problems_json(exc.problems)}, indent=2))
            raise SystemExit(EXIT_BAD_INPUT) from None
        raise
    if not dry_run:
        with _client.connect() as client:
            answer = build_applet(client, folder)
        if as_json:
            click.echo(json.dumps(answer, indent=2))
            return
        for note in answer.get("notes") or ():
            click.echo(f"note: {note}", err=True)
        click.echo(answer["id"])
        return
    if as_json:
        click.echo(json.dumps({"valid": True, "name": dxapp.name, "problems": [],
                               "warnings": _problems_json(dxapp.warnings)}, indent=2))
        return
    for line in _report_lines(folder, dxapp):
        click.echo(line)
