"""`runner images`: prepare and list the Docker images jobs run in (host administration, no engine needed)."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from runner.backends.docker_host import connect
from runner.build.images import (
    DEFAULT_RELEASE,
    DXPY_VERSION,
    RELEASES,
    ImageStatus,
    PreparedImages,
    describe_images,
    prepare_images,
)
from runner.config import ensure_runner_home


@click.group()
def images() -> None:
    """Prepare and list the Docker images jobs run in."""


@images.command()
@click.option(
    "--release",
    type=click.Choice(RELEASES),
    default=DEFAULT_RELEASE,
    show_default=True,
    help="Ubuntu release whose images to prepare.",
)
def prepare(release: str) -> None:
    """Build (or find) the base and runtime images of an Ubuntu release; quick when they are current."""
    client = connect()
    try:
        result = prepare_images(client, release, ensure_runner_home(), progress=_progress)
    finally:
        client.close()
    click.echo(_summary(result))


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _summary(result: PreparedImages) -> str:
    state = "built" if result.built else "up to date"
    base = result.base.ref
    if result.base.stand_in:
        base += f", a stand-in built from Debian {result.base.suite}"
    python = f", python3 {result.python_version}" if result.python_version else ""
    return f"{result.runtime_tag}: {state} (base {base}{python}, dxpy {DXPY_VERSION})"


@images.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print each image's facts (its apt packages too) as JSON.")
def list_images(as_json: bool) -> None:
    """List the runner's images of every release, and which are stand-ins."""
    client = connect()
    try:
        statuses = describe_images(client)
    finally:
        client.close()
    if as_json:
        click.echo(json.dumps([asdict(status) for status in statuses], indent=2))
        return
    rows = [("TAG", "KIND", "STATE", "BASE")] + [_row(status) for status in statuses]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)] + [row[3]]
        click.echo("  ".join(cells).rstrip())


def _row(status: ImageStatus) -> tuple[str, str, str, str]:
    if not status.present:
        return status.tag, status.kind, "missing", ""
    state = "present" if status.up_to_date is not False else "out of date"
    origin = f"stand-in from Debian {status.suite}" if status.stand_in else "ubuntu"
    return status.tag, status.kind, state, origin
