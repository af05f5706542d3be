"""`runner tui [PATH ...]`: the terminal UI on the engine of `$RUNNER_HOME` (started when none runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from runner.cli import _client
from runner.errors import UsageError


@click.command()
@click.argument("paths", metavar="[PATH ...]", nargs=-1,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--web", is_flag=True, help="Serve the TUI to browsers (textual-serve), not to this terminal.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="With --web: the port (default 8566, or the next free one).")
@click.option("--host", default=None, metavar="HOST",
              help="With --web: the address to listen on (default 127.0.0.1: this machine only).")
def tui(paths: tuple[Path, ...], web: bool, port: int | None, host: str | None) -> None:
    """Open the terminal UI: live job trees, logs, describe, applets found under PATH (default sample_apps/)."""
    from runner.client.engine_process import connect
    from runner.tui.app import make_app

    if web:
        _serve(paths, port, host)
    if port is not None or host is not None:
        raise UsageError("--port and --host go with --web (serve the TUI to a browser)")
    with _client.connect() as client:
        # Once open, the TUI follows an engine that restarts but never starts one itself.
        make_app(client, paths=paths, locate=lambda: connect(start=False)).run()


def _serve(paths: tuple[Path, ...], port: int | None, host: str | None) -> None:
    """`--web`: start the engine if none runs, then serve one TUI per browser tab until Ctrl+C."""
    from runner.config import runner_home
    from runner.tui import web

    host = host if host is not None else web.DEFAULT_HOST
    if warning := web.exposure_warning(host):
        click.echo(warning, err=True)
    address = web.resolve_address(host, port)
    with _client.connect():
        pass  # each tab's TUI then finds the engine running
    sys.exit(web.serve(paths, runner_home(), address))
