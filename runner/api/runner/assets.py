"""Assets: `/runner/buildAsset` (a folder with dxasset.json) and `/runner/importAsset` (an archive on this machine).

Both make what the platform's asset builder makes, in the project (default: the user's) and folder (`/`):

    record  closed, class record, types ["AssetBundle"], named after the asset,
            details {"archiveFileId": {"$dnanexus_link": "file-..."}},
            properties version, distribution, release, title, description (those known)
    file    closed, the archive (.tar.gz, or what was imported), property AssetBundle = the record's ID

`/runner/importAsset` may name the record's ID (`id`): a platform asset's ID, so that a dxapp.json naming it
resolves here; /record/new cannot take one. The archive is checked member by member (runner.spec.asset_archive)
before anything is stored.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from runner.api.core import checks as check
from runner.api.core.routing import Access, Call, Routes
from runner.api.data.objects import container_arg, created_by, folder_arg
from runner.build.asset import build_asset
from runner.errors import ImageBuildError, InvalidInput, InvalidState, SpecError
from runner.spec.asset_archive import ArchiveRefusal, check_archive
from runner.spec.dxasset import NAME_PATTERN, load_dxasset
from runner.spec.ids import is_id, new_id
from runner.store.db import Database
from runner.store.files import (
    COPY_CHUNK,
    BlobWriter,
    add_part,
    begin_close,
    drop_files,
    finish_close,
    release_blobs,
)
from runner.store.objects import ObjectNotFound, create_object, find_objects, get_object

routes = Routes()
ASSET_TYPE = "AssetBundle"
BUILD_KEYS = frozenset({"source", "project", "folder"})
IMPORT_KEYS = frozenset({"archive", "name", "version", "id", "release", "title", "description", "project",
                         "folder"})
MEDIA = {"tar": "application/x-tar", "tar.gz": "application/gzip", "tar.bz2": "application/x-bzip2"}
RELEASE_PATTERN = re.compile(r"^[0-9]{2}\.[0-9]{2}$")


def _known_keys(body: Mapping[str, Any], known: frozenset[str], route: str) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise InvalidInput(f"unknown key {unknown[0]!r} of input: {route} takes {', '.join(sorted(known))}",
                           {"field": unknown[0], "expected": ", ".join(sorted(known))})


def _absolute_path(body: Mapping[str, Any], key: str, what: str) -> Path:
    value = body.get(key)
    if not isinstance(value, str) or not Path(value).is_absolute() or "\0" in value:
        raise InvalidInput(f"`{key}` must be the absolute path of {what} on this machine",
                           {"field": key, "expected": f"the absolute path of {what}"})
    return Path(value)


def _required_text(body: Mapping[str, Any], key: str, expected: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"`{key}` must be {expected}", {"field": key, "expected": expected})
    return value


@routes.static("runner", "buildAsset", Access.USER)
async def build(call: Call) -> dict[str, Any]:
    """Build the asset in the folder `source` (in a worker thread: Docker) and store its record and archive."""
    _known_keys(call.body, BUILD_KEYS, "/runner/buildAsset")
    source = _absolute_path(call.body, "source", "an asset folder (with a dxasset.json)")
    project, folder = _destination(call)
    notes: list[str] = []
    try:
        # Checked before Docker is asked for anything: a bad dxasset.json is the user's to fix.
        await asyncio.to_thread(load_dxasset, source)
        client = call.services.extras["docker_client"]
        built = await asyncio.to_thread(build_asset, source, call.services.home, client, notes.append)
    except SpecError as exc:
        raise InvalidInput(str(exc), {"problems": [str(p) for p in exc.problems]}) from None
    except ImageBuildError as exc:
        # The folder's own install or make step failed: the user's to fix, with the step's last lines.
        raise InvalidState(f"asset {source} could not be built: {exc}", {"source": str(source)}) from None
    spec = built.spec
    properties = {"version": spec.version, "distribution": spec.distribution, "release": spec.release,
                  "title": spec.title, "description": spec.description}
    try:
        with built.archive.open("rb") as stream:
            answer = await asyncio.to_thread(
                register_asset, call, stream, name=spec.name, file_name=f"{spec.name}.tar.gz",
                properties=properties, project=project, folder=folder, record_id=None, media=MEDIA["tar.gz"])
    finally:
        built.archive.unlink(missing_ok=True)
    return {**answer, "members": len(built.members), "notes": [*built.notes, *answer["notes"]], "log": notes}


@routes.static("runner", "importAsset", Access.USER)
async def import_asset(call: Call) -> dict[str, Any]:
    """Register the archive at `archive` as an asset named `name` at `version` (under the record ID `id`)."""
    body = call.body
    _known_keys(body, IMPORT_KEYS, "/runner/importAsset")
    path = _absolute_path(body, "archive", "a tar, tar.gz or tar.bz2 archive")
    name = _required_text(body, "name", "the asset's name (letters, digits and . _ + -)")
    if not NAME_PATTERN.match(name):
        raise InvalidInput(f"`name` {name!r} may hold only letters, digits and . _ + -",
                           {"field": "name", "expected": "letters, digits and . _ + -"})
    properties = {"version": _required_text(body, "version", "the asset's version, e.g. 1.0.0"),
                  "distribution": "Ubuntu"}
    release = check.optional_str(body, "release")
    if release is not None:
        if not RELEASE_PATTERN.match(release):
            raise InvalidInput(f"`release` {release!r} is not an Ubuntu release such as 24.04",
                               {"field": "release", "expected": "an Ubuntu release such as 24.04"})
        properties["release"] = release
    for key in ("title", "description"):
        if (text := check.optional_str(body, key)) is not None:
            properties[key] = text
    record_id = _free_record_id(call.db, body.get("id"))
    project, folder = _destination(call)
    stream = _open_archive(path)
    with stream:
        try:
            summary = await asyncio.to_thread(check_archive, stream, str(path))
        except ArchiveRefusal as exc:
            raise InvalidInput(str(exc), {"field": "archive", "expected": "a tar, tar.gz or tar.bz2 archive "
                                          "whose members stay inside the folder it is unpacked in"}) from None
        stream.seek(0)
        return await asyncio.to_thread(register_asset, call, stream, name=name, file_name=path.name,
                                       properties=properties, project=project, folder=folder, record_id=record_id,
                                       media=MEDIA[summary.kind])


def _destination(call: Call) -> tuple[str, str]:
    project = container_arg(call, default=call.services.default_project)
    call.caller.require_write(project)
    return project, folder_arg(call.body)


def _free_record_id(db: Database, given: Any) -> str | None:
    """The record ID asked for (None: a new one), once it is known to be well formed and unused."""
    if given is None:
        return None
    expected = "record- followed by 24 letters and digits, e.g. record-BZ9YGpj0x05xKxZ42QPqZkJY"
    if not is_id(given, "record"):
        raise InvalidInput(f"`id` {str(given)[:80]!r} is not a record ID: expected {expected}",
                           {"field": "id", "expected": expected})
    try:
        existing = get_object(db, given)
    except ObjectNotFound:
        return str(given)
    raise InvalidInput(f"`id` {given} is already used by the {existing['class']} {existing['name']!r} in "
                       f"{existing['project']}", {"field": "id", "reason": "in use", "expected": expected})


def _open_archive(path: Path) -> BinaryIO:
    """The archive opened for reading: a regular file (never blocking on a FIFO), InvalidInput otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise InvalidInput(f"`archive` {path} cannot be read: {exc.strerror or exc}",
                           {"field": "archive", "expected": "a readable archive file"}) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidInput(f"`archive` {path} is not a regular file",
                           {"field": "archive", "expected": "a tar, tar.gz or tar.bz2 archive file"})
    return os.fdopen(fd, "rb")


def register_asset(call: Call, stream: BinaryIO, *, name: str, file_name: str, properties: Mapping[str, str],
                   project: str, folder: str, record_id: str | None, media: str) -> dict[str, Any]:
    """Store `stream` as the closed archive file and create the closed AssetBundle record pointing at it."""
    db, home = call.db, call.services.home
    record_id = record_id or new_id("record")
    common = {"tags": [], "hidden": False, "createdBy": created_by(call), "sponsored": False}
    file_id = store_closed_file(db, home, stream, project=project, folder=folder, name=file_name,
                                doc={**common, "types": [], "details": {}, "media": media,
                                     "properties": {ASSET_TYPE: record_id}})
    try:
        create_object(db, "record", project, name=name, folder=folder, state="closed", parents=True,
                      object_id=record_id,
                      doc={**common, "types": [ASSET_TYPE], "properties": dict(properties),
                           "details": {"archiveFileId": {"$dnanexus_link": file_id}}})
    except BaseException:
        _drop_file(db, home, file_id)
        raise
    size = get_object(db, file_id).get("size")
    return {"id": record_id, "name": name, "project": project, "folder": folder, "archive": file_id,
            "archiveSize": size, "properties": dict(properties),
            "notes": same_asset_notes(db, project, name, properties.get("version"), record_id)}


def same_asset_notes(db: Database, project: str, name: str, version: str | None, record_id: str) -> list[str]:
    """A note naming the other assets of this name and version in `project`: the platform allows them, but an
    assetDepends entry naming the asset by name and version then matches more than one."""
    others = [o for o in find_objects(db, container=project, klass="record", name=name)
              if o["id"] != record_id and ASSET_TYPE in (o.get("types") or [])
              and (o.get("properties") or {}).get("version") == version]
    if not others:
        return []
    listed = ", ".join(f"{o['id']} (in {o['folder']})" for o in others)
    note = (f"{project} already has asset {name} {version}: {listed}; an assetDepends entry naming it by name "
            "and version matches each of them (remove the extra ones with runner rm)")
    return [note]


def store_closed_file(db: Database, home: Path, stream: BinaryIO, *, project: str, folder: str, name: str,
                      doc: Mapping[str, Any]) -> str:
    """A new closed file in `project:folder` holding what `stream` reads; its ID (nothing left if it fails)."""
    file_id = str(create_object(db, "file", project, name=name, folder=folder, state="open", parents=True,
                                doc=doc)["id"])
    try:
        writer = BlobWriter(home)
        try:
            while chunk := stream.read(COPY_CHUNK):
                writer.write(chunk)
            add_part(db, home, file_id, 1, writer)
        finally:
            writer.discard()
        begin_close(db, file_id)
        finish_close(db, home, file_id)
    except BaseException:
        _drop_file(db, home, file_id)
        raise
    return file_id


def _drop_file(db: Database, home: Path, file_id: str) -> None:
    with db.transaction() as conn:
        used = drop_files(conn, [file_id])
    release_blobs(db, home, used)
