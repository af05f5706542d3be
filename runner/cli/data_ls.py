"""`runner ls` and `runner rm`: what is in a project's folders, and removing objects and folders, as `dx` does it."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import click

from runner.cli import _client
from runner.cli._paths import Caller, DxPath, Match, find_objects, folder_exists, one_match, parse_path
from runner.cli.describe import format_size
from runner.errors import ResourceNotFound, UsageError

LIST_FIELDS = {"id": True, "name": True, "class": True, "state": True, "modified": True, "size": True}


@click.command()
@click.argument("path", required=False, metavar="[PATH]")
@click.option("-l", "--long", "long_", is_flag=True, help="Show each object's state, last change, size and ID.")
@click.option("--brief", is_flag=True, help="Show folders, then object IDs instead of names.")
def ls(path: str | None, long_: bool, brief: bool) -> None:
    """List a folder (by default the default project's root): its folders with a trailing '/', then objects."""
    with _client.connect() as client:
        project = _default_project(client.project)
        target = parse_path(path, project) if path is not None else DxPath("", project)
        folders, objects = _listing(client, target, project)
    for folder in folders:
        click.echo(folder + "/" if brief else posixpath.basename(folder) + "/")
    if long_ and objects:
        click.echo(f"{'State':<8}{'Last modified':<21}{'Size':<12}Name (ID)")
    for obj in objects:
        click.echo(obj["id"] if brief else format_long(obj) if long_ else str(obj.get("name", obj["id"])))


def _default_project(project: str | None) -> str:
    if not project:
        raise UsageError("the engine has no default project: give paths as project-xxxx:/folder/name")
    return project


def _listing(client: Caller, target: DxPath, project: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The folders and object describes to show for `target`: a folder's content, or the objects it names."""
    if not target.is_folder and target.project is not None and target.object_id is None \
            and folder_exists(client, target.project, target.full):
        target = DxPath(target.text, target.project, folder=target.full)
    if target.is_folder:
        assert target.project is not None
        answer = client.call(f"/{target.project}/listFolder",
                             {"folder": target.folder, "describe": {"fields": LIST_FIELDS}})
        described = [entry["describe"] for entry in answer["objects"]]
        return sorted(answer["folders"]), sorted(described, key=lambda d: (str(d.get("name")), d["id"]))
    found = find_objects(client, target, project)
    if not found:
        raise ResourceNotFound(f"{target.text}: no such object or folder")
    return [], [client.call(f"/{m.id}/describe", {"project": m.project, "fields": LIST_FIELDS}) for m in found]


def format_long(obj: Mapping[str, Any]) -> str:
    """One `ls -l` line: state, last modified (local time), size, `name (id)`."""
    modified = obj.get("modified")
    stamp = datetime.fromtimestamp(modified / 1000).strftime("%Y-%m-%d %H:%M:%S") \
        if isinstance(modified, int) else ""
    size = obj.get("size")
    shown = format_size(size) if isinstance(size, int) else ""
    return f"{obj.get('state', ''):<8}{stamp:<21}{shown:<12}{obj.get('name', '')} ({obj['id']})"


@dataclass
class Removal:
    """What `rm` will remove: object IDs per project, and folders (project, path)."""

    objects: dict[str, list[str]] = field(default_factory=dict)
    folders: list[tuple[str, str]] = field(default_factory=list)

    def add_objects(self, found: list[Match]) -> None:
        """Add objects, grouped by project, each once."""
        for match in found:
            ids = self.objects.setdefault(match.project, [])
            if match.id not in ids:
                ids.append(match.id)


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-r", "--recursive", is_flag=True, help="Remove folders with everything in them.")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove every object a name matches, not just one.")
def rm(paths: tuple[str, ...], recursive: bool, all_: bool) -> None:
    """Remove objects (and with -r, folders) from their project; nothing is removed unless every path is found."""
    with _client.connect() as client:
        project = _default_project(client.project)
        removal = Removal()
        for text in paths:
            _plan(client, removal, parse_path(text, project), project, recursive=recursive, all_=all_)
        for container, ids in removal.objects.items():
            client.call(f"/{container}/removeObjects", {"objects": ids})
        for container, folder in removal.folders:
            client.call(f"/{container}/removeFolder", {"folder": folder, "recurse": True})


def _plan(client: Caller, removal: Removal, target: DxPath, project: str, *, recursive: bool,
          all_: bool) -> None:
    """Add what `target` names to `removal` (UsageError for a folder without -r or a name matching several)."""
    if not target.is_folder:
        found = find_objects(client, target, project)
        if found:
            removal.add_objects(found if all_ else [one_match(target.text, found)])
            return
        if target.object_id is not None or not folder_exists(client, str(target.project), target.full):
            raise ResourceNotFound(f"{target.text}: no such object or folder")
    if not recursive:
        raise UsageError(f"{target.text} is a folder: use -r to remove it with everything in it")
    if target.full == "/":
        raise UsageError(f"{target.text} is a project's root folder, which cannot be removed")
    removal.folders.append((str(target.project), target.full))
