"""`runner tui [PATH ...]`: the terminal UI on the engine of `$RUNNER_HOME` (started when none runs)."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli import _client


@click.command()
@click.argument("paths", metavar="[PATH ...]", nargs=-1,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
def tui(paths: tuple[Path, ...]) -> None:
    """Open the terminal UI: live job trees, logs, describe, applets found under PATH (default sample_apps/)."""
    from runner.client.engine_process import connect
    from runner.tui.app import make_app

    with _client.connect() as client:
        # Once open, the TUI follows an engine that restarts but never starts one itself.
        make_app(client, paths=paths, locate=lambda: connect(start=False)).run()
