"""`runner env`: the environment that points DNAnexus's own `dx` (dxpy) at the engine."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from urllib.parse import urlsplit

import click

from runner.cli import _client
from runner.client.engine_process import read_token
from runner.config import runner_home
from runner.errors import ApiError

LOCAL_USER = "user-local"


def dx_environment(url: str, token: str, project: str | None) -> dict[str, str]:
    """The DX_* variables for an engine at `url` with the user `token` and default `project`."""
    parts = urlsplit(url)
    if not parts.hostname or not parts.scheme:
        raise ApiError(f"the engine's URL {url!r} names no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    context = json.dumps({"auth_token_type": "Bearer", "auth_token": token})
    variables = {"DX_APISERVER_PROTOCOL": parts.scheme, "DX_APISERVER_HOST": parts.hostname,
                 "DX_APISERVER_PORT": str(port), "DX_SECURITY_CONTEXT": context}
    if project:
        variables["DX_PROJECT_CONTEXT_ID"] = project
    variables.update({"DX_CLI_WD": "/", "DX_USERNAME": LOCAL_USER})
    return variables


def export_lines(variables: Mapping[str, str]) -> list[str]:
    """`export NAME=VALUE` lines, each value quoted for the shell."""
    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the variables as a JSON object.")
def env(as_json: bool) -> None:
    """Print the exports that point `dx` at the engine: `eval "$(runner env)"`.

    They hold the user token: anyone who reads them may use the engine as you.
    """
    with _client.connect() as client:
        answer = client.ping()
    url, project = answer.get("url"), answer.get("project")
    if not isinstance(url, str):
        url = client.url
    variables = dx_environment(url, read_token(runner_home()), project if isinstance(project, str) else None)
    if as_json:
        click.echo(json.dumps(variables, indent=4))
    else:
        click.echo("\n".join(export_lines(variables)))
