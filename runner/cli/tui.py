"""`runner tui [PATH ...] [--run NAME -i NAME=VALUE ...]`: the terminal UI on the engine of `$RUNNER_HOME`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from runner.cli import _client
from runner.client.api import EngineClient
from runner.errors import UsageError
from runner.tui.applets import AppletSource, find_sources

DEFAULT_PATHS = (Path("sample_apps"),)  # as runner.tui.app has it, without importing textual here


def named_source(paths: Sequence[Path], name: str) -> AppletSource:
    """The applet folder under `paths` whose applet (or folder) is `name`; UsageError listing those found."""
    found = find_sources(paths or DEFAULT_PATHS)
    for source in found:
        if name in (source.name, source.folder.name):
            return source
    where = ", ".join(str(p) for p in paths or DEFAULT_PATHS)
    names = ", ".join(sorted({s.name for s in found})) or "none"
    raise UsageError(f"--run {name}: no applet of that name under {where} (applets found: {names})")


def start_named(client: EngineClient, source: AppletSource, pairs: Sequence[str]) -> str:
    """Build the source folder, run it with the `-i` inputs (local files uploaded); the root job's ID."""
    from runner.cli._run_options import RunOptions
    from runner.cli.build import build_applet
    from runner.cli.run import _start

    applet = build_applet(client, source.folder)["id"]
    job, name = _start(client, applet, tuple(pairs), None, RunOptions())
    click.echo(f"Started {job} ({name})", err=True)
    return job


@click.command()
@click.argument("paths", metavar="[PATH ...]", nargs=-1,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--run", "run_name", metavar="NAME",
              help="Start the applet folder NAME found under the paths (built first) and select its tree.")
@click.option("-i", "--input", "pairs", multiple=True, metavar="NAME=VALUE",
              help="An input of the --run applet, as runner run -i takes it (defaults when none); "
                   "repeatable.")
@click.option("--web", is_flag=True, help="Serve the TUI to browsers (textual-serve), not to this terminal.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="With --web: the port (default 8566, or the next free one).")
@click.option("--host", default=None, metavar="HOST",
              help="With --web: the address to listen on (default 127.0.0.1: this machine only).")
def tui(paths: tuple[Path, ...], run_name: str | None, pairs: tuple[str, ...], web: bool, port: int | None,
        host: str | None) -> None:
    """Open the terminal UI: live job trees, logs, describe, applets found under PATH (default sample_apps/).

    With --run NAME, the applet NAME is built and started first (with the -i inputs), and its tree selected.
    """
    from runner.cli._inputs import parse_inputs
    from runner.cli.build import check_folder
    from runner.client.engine_process import connect
    from runner.tui.app import make_app

    if (port is not None or host is not None) and not web:
        raise UsageError("--port and --host go with --web (serve the TUI to a browser)")
    source = named_source(paths, run_name) if run_name is not None else None
    if source is None and pairs:
        raise UsageError("-i: only with --run NAME (the applet the inputs are for)")
    if source is not None:
        # Bad inputs are refused here, before the engine starts; local files are uploaded once it runs.
        parse_inputs(pairs, check_folder(source.folder).raw.get("inputSpec"), None)
    if web:
        _serve(paths, port, host, source, pairs)
    with _client.connect() as client:
        job = start_named(client, source, pairs) if source is not None else None
        # Once open, the TUI follows an engine that restarts but never starts one itself.
        make_app(client, paths=paths, locate=lambda: connect(start=False), select=job).run()


def _serve(paths: tuple[Path, ...], port: int | None, host: str | None, source: AppletSource | None,
           pairs: tuple[str, ...]) -> None:
    """`--web`: start the engine if none runs (and the --run applet, once), then serve one TUI per browser tab
    until Ctrl+C."""
    from runner.config import runner_home
    from runner.tui import web

    host = host if host is not None else web.DEFAULT_HOST
    if warning := web.exposure_warning(host):
        click.echo(warning, err=True)
    address = web.resolve_address(host, port)
    with _client.connect() as client:
        if source is not None:
            start_named(client, source, pairs)  # each tab's TUI then finds the engine running, and the job
    sys.exit(web.serve(paths, runner_home(), address))
