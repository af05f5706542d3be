"""`runner upload`, `runner download` and `runner cat`: file content in and out of the engine, as `dx` does it."""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from runner.cli import _client
from runner.cli._paths import Caller, Match, folder_exists, normalize_folder, parse_path, resolve_file
from runner.client.files import (
    DEFAULT_PART_SIZE,
    MAX_PART_SIZE,
    describe_file,
    download_file,
    iter_content,
    upload_file,
)
from runner.errors import UsageError


@dataclass(frozen=True, slots=True)
class Destination:
    """Where uploads go: a project's folder, and the name of the one file uploaded (None: its own name)."""

    project: str
    folder: str
    name: str | None = None


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--destination", "--path", "destination", metavar="DEST",
              help="Where to upload: project-xxxx:/folder/ or /folder/ (a folder), or /folder/name (one file).")
@click.option("--folder", metavar="FOLDER", help="The folder of the default project to upload into.")
@click.option("-p", "--parents", is_flag=True, help="Create the destination folder and its parents if missing.")
@click.option("-r", "--recursive", is_flag=True, help="Upload local folders with everything in them.")
@click.option("--brief", is_flag=True, help="Print only the new file IDs, one per line.")
@click.option("--json", "as_json", is_flag=True, help="Print the describe of each new file as JSON, as dx does.")
@click.option("--part-size", type=click.IntRange(1, MAX_PART_SIZE), default=DEFAULT_PART_SIZE, hidden=True)
def upload(paths: tuple[str, ...], destination: str | None, folder: str | None, parents: bool, recursive: bool,
           brief: bool, as_json: bool, part_size: int) -> None:
    """Upload local files (and with -r, folders) to the engine; print the new file IDs."""
    locals_ = [_local(p, recursive) for p in paths]
    described = []
    with _client.connect() as client:
        project = _default_project(client.project)
        where = _destination(client, project, destination, folder, several=len(locals_) > 1)
        for local in locals_:
            for file_id, place, local_file in _upload_one(client, local, where, parents, part_size):
                if as_json:
                    described.append(client.call(f"/{file_id}/describe", {"project": where.project}))
                else:
                    click.echo(file_id if brief else f"{file_id}  {place}  ({local_file.stat().st_size} bytes)")
    if as_json:
        click.echo(json.dumps(described[0] if len(described) == 1 else described, indent=2))


def _local(text: str, recursive: bool) -> Path:
    path = Path(text)
    if not path.exists():
        raise UsageError(f"{text}: no such local file")
    if path.is_dir() and not recursive:
        raise UsageError(f"{text} is a folder: use -r to upload it with its content")
    if not path.is_dir() and not path.is_file():
        raise UsageError(f"{text} is neither a regular file nor a folder")
    return path


def _default_project(project: str | None) -> str:
    if not project:
        raise UsageError("the engine has no default project: give paths as project-xxxx:/folder/name")
    return project


def _destination(client: Caller, project: str, destination: str | None, folder: str | None, *,
                 several: bool) -> Destination:
    """Where `--destination` / `--folder` say the upload goes (the default project's root by default)."""
    if destination is not None and folder is not None:
        raise UsageError("give --destination or --folder, not both")
    if folder is not None:
        return Destination(project, normalize_folder(folder))
    if destination is None:
        return Destination(project, "/")
    target = parse_path(destination, project)
    if target.object_id is not None:
        raise UsageError(f"--destination {destination!r} is an object ID, not a folder or a name")
    assert target.project is not None
    if target.is_folder or several or folder_exists(client, target.project, target.full):
        return Destination(target.project, target.full)
    return Destination(target.project, target.folder, target.name)


def _upload_one(client: Caller, local: Path, where: Destination, parents: bool,
                part_size: int) -> Iterator[tuple[str, str, Path]]:
    """Upload one local file or folder; `(file ID, project:/path, local file)` of each file uploaded."""
    if local.is_file():
        name = where.name or local.name
        file_id = upload_file(client, local, project=where.project, folder=where.folder, name=name,
                              parents=parents, part_size=part_size)
        yield file_id, f"{where.project}:{posixpath.join(where.folder, name)}", local
        return
    top = posixpath.join(where.folder, where.name or local.resolve().name)
    for directory, subfolders, files in os.walk(local):
        subfolders.sort()
        relative = Path(directory).relative_to(local).as_posix()
        folder = normalize_folder(posixpath.join(top, relative))
        if not files:
            client.call(f"/{where.project}/newFolder", {"folder": folder, "parents": True})
        for file_name in sorted(files):
            source = Path(directory, file_name)
            if not source.is_file():
                continue
            file_id = upload_file(client, source, project=where.project, folder=folder, parents=True,
                                  part_size=part_size)
            yield file_id, f"{where.project}:{posixpath.join(folder, file_name)}", source


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-o", "--output", metavar="OUTPUT",
              help="Local file or folder to write to (a folder when several files); '-' for stdout.")
@click.option("-f", "--overwrite", is_flag=True, help="Replace local files that already exist.")
def download(paths: tuple[str, ...], output: str | None, overwrite: bool) -> None:
    """Download files from the engine to local files (by default in the current folder, under their names)."""
    with _client.connect() as client:
        project = _default_project(client.project)
        found = [resolve_file(client, text, project) for text in paths]
        if output == "-":
            _to_stdout(client, found)
            return
        names = [str(describe_file(client, m.id, project=m.project)["name"]) for m in found]
        targets = _local_targets(names, output, overwrite)
        for match, target in zip(found, targets, strict=True):
            download_file(client, match.id, target, project=match.project)


def _local_targets(names: list[str], output: str | None, overwrite: bool) -> list[Path]:
    """The local path each file goes to; UsageError for a clash or an existing file without `overwrite`."""
    if output is not None and not Path(output).is_dir():
        if len(names) > 1:
            raise UsageError(f"-o {output}: downloading several files needs an existing local folder")
        targets = [Path(output)]
        if not targets[0].parent.is_dir():
            raise UsageError(f"-o {output}: the folder {targets[0].parent} does not exist")
    else:
        base = Path(output) if output is not None else Path.cwd()
        targets = [base / _safe_name(name) for name in names]
    if len(set(targets)) < len(targets):
        raise UsageError("several of the files would be written to the same local path: download them one by one")
    for target in targets:
        if target.is_dir():
            raise UsageError(f"{target} is a local folder")
        if target.exists() and not overwrite:
            raise UsageError(f"{target} already exists: use -f/--overwrite to replace it")
    return targets


def _safe_name(name: str) -> str:
    """A file's name made fit for a local file name."""
    cleaned = name.replace("/", "_")
    return cleaned if cleaned not in ("", ".", "..") else "download"


def _to_stdout(client: Caller, found: list[Match]) -> None:
    out = click.get_binary_stream("stdout")
    for match in found:
        for chunk in iter_content(client, match.id, project=match.project):
            out.write(chunk)
    out.flush()


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
def cat(paths: tuple[str, ...]) -> None:
    """Write the content of files to stdout, one after another, byte for byte."""
    with _client.connect() as client:
        project = _default_project(client.project)
        _to_stdout(client, [resolve_file(client, text, project) for text in paths])

