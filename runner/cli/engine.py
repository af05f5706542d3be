"""`runner engine start|stop|status`: the engine daemon that runs jobs and answers the API."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from runner.client.engine_process import EngineStatus, engine_status, start_engine, stop_engine
from runner.config import runner_home


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
def start(timeout_s: float) -> None:
    """Start the engine for $RUNNER_HOME unless it is running; print where it listens."""
    click.echo(describe(start_engine(runner_home(), timeout_s=timeout_s)))


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
    shown = {key: value for key, value in asdict(current).items() if key != "project"}
    click.echo(json.dumps(shown, indent=2) if as_json else describe(current))
