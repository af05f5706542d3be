"""`runner app`: versioned apps made from applets (build, publish, tag, delete, describe, list, is-compatible)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from runner.cli import _client
from runner.cli.build import build_applet, check_folder
from runner.cli.describe import format_rows, format_spec, format_time
from runner.client.api import EngineClient
from runner.errors import ApiError, InvalidInput, UsageError
from runner.spec.app_identifiers import parse_identifier

REGION = "aws:us-east-1"
# What /app/new answers for a version that exists (dx build --app recognises it the same way).
TAKEN = "Specified name and version conflict with an existing alias"


def _app_arg(text: str) -> str:
    """An app identifier, refused (InvalidInput: exit 3) before any engine starts as the engine would refuse it."""
    parse_identifier(text)
    return text


def _call(client: EngineClient, route: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    answer = client.call(route, dict(body or {}))
    if not isinstance(answer, dict):
        raise ApiError(f"{route} answered {type(answer).__name__}, not a JSON object")
    return answer


@click.group()
def app() -> None:
    """Make and manage versioned apps (run one with: runner run app-NAME[/VERSION])."""


def _new_or_update(client: EngineClient, name: str, version: str, body: dict[str, Any]) -> tuple[str, str]:
    """(app ID, what was done): a new version, or the unpublished one of that version updated in place."""
    try:
        return str(_call(client, "/app/new", {"name": name, "version": version, **body})["id"]), "created"
    except InvalidInput as exc:
        if exc.message != TAKEN:
            raise
    existing = _call(client, f"/app-{name}/{version}/describe", {"fields": {"published": True}})
    if existing.get("published"):
        raise UsageError(f"app-{name}/{version} is already published: a published version cannot change; "
                         "build with another --version")
    return str(_call(client, f"/app-{name}/{version}/update", body)["id"]), "updated"


@app.command("build")
@click.argument("folder", type=click.Path(path_type=Path), default=Path("."))
@click.option("--version", "version", metavar="V", help="The app's version (default: dxapp.json's version).")
@click.option("--resource", "resources", multiple=True, metavar="ID",
              help="A data object to put into the app's resources container; repeatable.")
@click.option("--publish", is_flag=True, help="Publish the version once it is made.")
def build(folder: Path, version: str | None, resources: tuple[str, ...], publish: bool) -> None:
    """Build the applet in FOLDER if needed, then make (or update, while unpublished) app-NAME/VERSION.

    The applet must have both an inputSpec and an outputSpec. As dx build --app does, the first version of a
    name with no published version takes the "default" tag. Prints the app's ID.
    """
    dxapp = check_folder(folder)
    missing = [key for key, spec in (("inputSpec", dxapp.input_spec), ("outputSpec", dxapp.output_spec))
               if spec is None]
    if missing:
        raise UsageError(f"{folder}: an app needs both an inputSpec and an outputSpec; dxapp.json has no "
                         f"{' and no '.join(missing)} (an empty list [] declares none)")
    version = version or dxapp.version
    if not version:
        raise UsageError(f"{folder}: no version: give --version V (or \"version\" in dxapp.json)")
    with _client.connect() as client:
        applet = build_applet(client, folder)["id"]
        options: dict[str, Any] = {"applet": applet}
        if resources:
            options["resources"] = list(resources)
        app_id, done = _new_or_update(client, dxapp.name, version, {"regionalOptions": {REGION: options}})
        if publish:
            _call(client, f"/{app_id}/publish", {"makeDefault": True})
        published = _call(client, "/system/findApps", {"name": dxapp.name, "published": True, "limit": 1})
        if not published.get("results"):
            _call(client, f"/{app_id}/addTags", {"tags": ["default"]})
    click.echo(f"{done} app-{dxapp.name}/{version} from {applet}" + (", published" if publish else ""), err=True)
    click.echo(app_id)


@app.command("publish")
@click.argument("target", metavar="APP")
@click.option("--make-default", is_flag=True, help='Give this version the "default" tag (what app-NAME runs).')
def publish(target: str, make_default: bool) -> None:
    """Publish APP (app-NAME/VERSION): it can no longer be updated."""
    target = _app_arg(target)
    with _client.connect() as client:
        app_id = _call(client, f"/{target}/publish", {"makeDefault": make_default})["id"]
    click.echo(app_id)


@app.group("tag")
def tag() -> None:
    """Add or remove the tags (aliases: app-NAME/TAG) of an app's versions."""


@tag.command("add")
@click.argument("target", metavar="APP")
@click.argument("tags", metavar="TAG...", nargs=-1, required=True)
def tag_add(target: str, tags: tuple[str, ...]) -> None:
    """Tag APP's version with each TAG (a tag another version had moves to this one)."""
    _change_tags(target, "addTags", tags)


@tag.command("remove")
@click.argument("target", metavar="APP")
@click.argument("tags", metavar="TAG...", nargs=-1, required=True)
def tag_remove(target: str, tags: tuple[str, ...]) -> None:
    """Remove each TAG from whichever version of APP's name has it ("default" cannot be removed)."""
    _change_tags(target, "removeTags", tags)


def _change_tags(target: str, method: str, tags: tuple[str, ...]) -> None:
    target = _app_arg(target)
    with _client.connect() as client:
        _call(client, f"/{target}/{method}", {"tags": list(tags)})


@app.command("delete")
@click.argument("target", metavar="APP")
def delete(target: str) -> None:
    """Delete APP's version: it can still be described, but no longer run."""
    target = _app_arg(target)
    with _client.connect() as client:
        _call(client, f"/{target}/delete")


def app_rows(app: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rows `runner app describe` shows."""
    published = app.get("published")
    rows = [("ID", str(app.get("id"))), ("Class", "app"), ("Name", str(app.get("name"))),
            ("Version", str(app.get("version"))), ("Aliases", ", ".join(app.get("aliases") or []) or "-"),
            ("Published", format_time(published) if published else "no (it can still be updated)"),
            ("Deleted", "yes" if app.get("deleted") else "no"), ("Applet", str(app.get("applet") or "-")),
            ("Created", format_time(app.get("created")))]
    if not app.get("deleted"):
        rows += [("Title", str(app.get("title") or "-")), ("Summary", str(app.get("summary") or "-")),
                 ("Resources", str(app.get("resources") or "-")),
                 ("Input Spec", format_spec(app.get("inputSpec"))),
                 ("Output Spec", format_spec(app.get("outputSpec")))]
    return rows


@app.command("describe")
@click.argument("target", metavar="APP")
@click.option("--json", "as_json", is_flag=True, help="Print the engine's answer as JSON.")
def describe(target: str, as_json: bool) -> None:
    """Describe APP (app-<id>, app-NAME, app-NAME/VERSION or app-NAME/TAG)."""
    target = _app_arg(target)
    with _client.connect() as client:
        answer = _call(client, f"/{target}/describe")
    click.echo(json.dumps(answer, indent=2) if as_json else format_rows(app_rows(answer)))


@app.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the versions' describe as a JSON array.")
def list_apps(as_json: bool) -> None:
    """List every version not deleted: app-NAME/VERSION, its ID, its tags and whether it is published."""
    with _client.connect() as client:
        found = _call(client, "/system/findApps", {"allVersions": True, "describe": True})
    apps = [entry["describe"] for entry in found.get("results") or []]
    if as_json:
        click.echo(json.dumps(apps, indent=2))
        return
    for one in sorted(apps, key=lambda a: (a["name"], a["created"])):
        tags = ",".join(one.get("aliases", [])[1:]) or "-"
        state = "published" if one.get("published") else "unpublished"
        click.echo(f"app-{one['name']}/{one['version']}\t{one['id']}\t{tags}\t{state}")


@app.command("is-compatible")
@click.argument("new", metavar="NEW")
@click.argument("other", metavar="OTHER")
@click.pass_context
def is_compatible(ctx: click.Context, new: str, other: str) -> None:
    """Whether NEW can replace OTHER in a workflow without the user: exits 0 when it can, 1 when not."""
    new, other = _app_arg(new), _app_arg(other)
    with _client.connect() as client:
        answer = _call(client, f"/{new}/isCompatible", {"otherVersion": other})
    verdict = "compatible" if answer.get("compatible") else "not compatible"
    click.echo(f"{answer['id']} is {verdict} with {answer['otherVersion']}")
    ctx.exit(0 if answer.get("compatible") else 1)
