"""`runner open JOB`: log in to a job's HTTPS app with a one-time link, in a browser or printed."""

from __future__ import annotations

import click

from runner.cli import _client
from runner.errors import UsageError
from runner.spec.ids import is_id
from runner.tui.https_app import open_in_browser

HTTPS_PORTS = ("443", "8080", "8081")


@click.command(name="open")
@click.argument("job_id", metavar="JOB")
@click.option("--port", type=click.Choice(HTTPS_PORTS), default=None,
              help="The app port to open (default: 443 when the app opens it, else its first port).")
@click.option("--print-url", is_flag=True, help="Print the login link instead of opening a browser.")
def open_app(job_id: str, port: str | None, print_url: bool) -> None:
    """Open JOB's HTTPS app in a browser through the engine's proxy, logged in by a one-time link.

    The link works once, within two minutes, and opens a session in the browser that follows it; the session
    ends after `https_session_idle_minutes` (15) without a request. Where no browser opens, the link is
    printed (as with --print-url) to paste into one on this machine.
    """
    if not is_id(job_id, "job"):
        raise UsageError(f"not a job ID (job-xxxx): {job_id!r}")
    body: dict[str, object] = {"job": job_id}
    if port is not None:
        body["port"] = int(port)
    with _client.connect() as client:
        login = client.call("/runner/httpsLogin", body)
    url = str(login["url"])
    if login.get("state") != "running":
        click.echo(f"{job_id} is {login['state']}: its app answers once the job runs", err=True)
    if print_url:
        click.echo(url)
    elif open_in_browser(url):
        click.echo(f"opened {login['appUrl']} in a browser (the login link is good once)", err=True)
    else:
        click.echo(f"no browser opens here: open this one-time login link, good for {login['expiresIn']} s:",
                   err=True)
        click.echo(url)
