"""`runner engine start|stop|status`: the engine daemon that runs jobs and answers the API."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import click

from runner.client.engine_process import EngineStatus, engine_status, start_engine, stop_engine
from runner.config import CHOICES, ENV_PREFIX, current_settings, runner_home
from runner.home_files import ENGINE_JSON

LOCAL_WARNING = ("warning: the local backend runs jobs as your own processes, with no isolation: an applet can "
                 "read and change your files and use the network. Run only applets you trust.")


def describe(status: EngineStatus) -> str:
    """`engine running at URL (pid N)`, or `engine not running`."""
    if not status.running:
        return "engine not running"
    return f"engine running at {status.url} (pid {status.pid})"


@click.group()
def engine() -> None:
    """Start, stop and inspect the engine daemon (other commands start it when they need it)."""


@engine.command()
@click.option("--timeout", "timeout_s", type=float, default=60, show_default=True,
              help="Seconds to wait for the engine to answer.")
@click.option("--backend", type=click.Choice(CHOICES["backend"]), default=None,
              help="Where jobs run: docker containers, or local host processes (no isolation; no Docker needed). "
                   "Default: the backend setting.")
def start(timeout_s: float, backend: str | None) -> None:
    """Start the engine for $RUNNER_HOME unless it is running; print where it listens."""
    home = runner_home()
    if backend is not None:
        os.environ[ENV_PREFIX + "BACKEND"] = backend  # the daemon started next reads it, over config.toml
    wanted = backend or current_settings(home).backend
    if wanted == "local":
        click.echo(LOCAL_WARNING, err=True)
    status = start_engine(home, timeout_s=timeout_s)
    click.echo(describe(status))
    running = running_backend(home)
    if running is not None and running != wanted:
        click.echo(f"note: the engine was already running with the {running} backend; stop it first "
                   f"(runner engine stop) to start it with the {wanted} backend", err=True)


def running_backend(home: Path) -> str | None:
    """The backend the running engine of `home` uses, as its engine.json says (None when unknown)."""
    try:
        document = json.loads((home / ENGINE_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    # An engine older than the local backend wrote no "backend": it was Docker's.
    return str(document.get("backend") or "docker") if isinstance(document, dict) else None


@engine.command()
@click.option("--timeout", "timeout_s", type=float, default=30, show_default=True,
              help="Seconds to wait for a clean shutdown before signalling the engine.")
def stop(timeout_s: float) -> None:
    """Stop the engine (its running jobs end terminated); signal it if it does not stop within the timeout."""
    stopped = stop_engine(runner_home(), timeout_s=timeout_s)
    click.echo("engine stopped" if stopped else "engine not running")


@engine.command()
@click.option("--json", "as_json", is_flag=True, help="Print running, pid, url, started and version as JSON.")
def status(as_json: bool) -> None:
    """Say whether the engine is running, and where; exits 0 either way."""
    current = engine_status(runner_home())
    click.echo(json.dumps(asdict(current), indent=2) if as_json else describe(current))
