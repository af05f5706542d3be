"""/project/new and, for projects and containers alike, /{project,container}-xxxx/{describe, newFolder,
listFolder, clone, move, renameFolder, removeFolder, removeObjects}."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from runner.api.core import checks as check
from runner.api.core.fields import select, wanted_fields
from runner.api.core.routing import Access, Call, Routes
from runner.api.data.describers import describe_object
from runner.api.data.objects import LOCAL_USER, container_arg, folder_arg, id_list
from runner.errors import InvalidInput, InvalidState, ResourceNotFound
from runner.spec.dxapp import DEFAULT_REGION
from runner.spec.ids import CONTAINER_CLASSES
from runner.store.files import file_blobs, release_blobs
from runner.store.objects import (
    FolderConflict,
    clone_objects,
    find_objects,
    folder_exists,
    get_container,
    list_folder,
    list_folders,
    move_folders,
    move_objects,
    new_folder,
    remove_folder,
    remove_objects,
    rename_folder,
)

# The region whose regionalOptions a build uses: dx build refuses an applet whose regionalOptions lack the
# project's region, so projects say the same one ("local" would refuse every applet that has regionalOptions).
PROJECT_REGION = DEFAULT_REGION
routes = Routes()

CLASSES = CONTAINER_CLASSES
FLAGS = ("protected", "restricted", "downloadRestricted", "previewViewerRestricted", "externalUploadRestricted",
         "databaseUIViewOnly", "containsPHI")
DESCRIBE_DEFAULTS = ("id", "class", "name", "summary", "description", "tags", "properties", "region", "billTo",
                     "level", "created", "modified", "dataUsage", *FLAGS, "allowedExecutables",
                     "databaseResultsRestricted")
DESCRIBE_ASKED = ("folders", "fileUploadParameters", "permissions")
FILE_UPLOAD_PARAMETERS = {"minimumPartSize": 5242880, "maximumPartSize": 5368709120, "maximumNumParts": 10000,
                          "maximumFileSize": 5497558138880, "emptyLastPartAllowed": True}


def _container_id(call: Call) -> str:
    get_container(call.db, call.target)
    return call.target


def _readable(call: Call) -> str:
    container_id = _container_id(call)
    call.caller.require_read(container_id)
    return container_id


def _writable(call: Call) -> str:
    container_id = _container_id(call)
    call.caller.require_write(container_id)
    return container_id


@contextmanager
def _folder_conflicts() -> Iterator[None]:
    try:
        yield
    except FolderConflict as exc:
        raise InvalidState(str(exc)) from None


def _level(call: Call, container_id: str) -> str:
    if not call.caller.is_job:
        return "ADMINISTER"
    return "CONTRIBUTE" if call.caller.may_write(container_id) else "VIEW"


def describe_container(call: Call, container: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """A project's or container's describe, honouring `fields` / `defaultFields` and the old `folders: true`."""
    names = wanted_fields(body, (*DESCRIBE_DEFAULTS, *DESCRIBE_ASKED), DESCRIBE_DEFAULTS)
    if body.get("folders") is True:
        names.add("folders")
    view = {
        "id": container["id"], "class": container["class"], "name": container["name"],
        "summary": container.get("summary", ""), "description": container.get("description", ""),
        "tags": container.get("tags", []), "properties": container.get("properties", {}), "region": PROJECT_REGION,
        "billTo": LOCAL_USER, "level": _level(call, container["id"]), "created": container["created"],
        "modified": container["modified"], "dataUsage": 0,
        **{flag: bool(container.get(flag, False)) for flag in FLAGS},
        "allowedExecutables": container.get("allowedExecutables"),
        "databaseResultsRestricted": container.get("databaseResultsRestricted"),
        "fileUploadParameters": FILE_UPLOAD_PARAMETERS, "permissions": {LOCAL_USER: "ADMINISTER"},
    }
    if "folders" in names:
        view["folders"] = list_folders(call.db, container["id"])
    return select(view, names)


@routes.on(CLASSES, "describe", Access.ANY)
async def describe(call: Call) -> dict[str, Any]:
    """/{project,container}-xxxx/describe: `folders` with `folders: true`; `fileUploadParameters` when asked."""
    return describe_container(call, get_container(call.db, _readable(call)), call.body)


@routes.on(CLASSES, "newFolder", Access.ANY)
async def new_folder_route(call: Call) -> dict[str, Any]:
    """/{project,container}-xxxx/newFolder {folder, parents?}."""
    container_id = _writable(call)
    new_folder(call.db, container_id, folder_arg(call.body, default=None),
               parents=check.optional_bool(call.body, "parents"))
    return {"id": container_id}


@routes.on(CLASSES, "listFolder", Access.ANY)
async def list_folder_route(call: Call) -> dict[str, Any]:
    """/{project,container}-xxxx/listFolder {folder?, describe?, only?, includeHidden?}."""
    container_id = _readable(call)
    only = call.body.get("only", "all")
    if only not in ("folders", "objects", "all"):
        raise InvalidInput("only must be one of 'folders', 'objects' or 'all'")
    folder = folder_arg(call.body)
    if not folder_exists(call.db, container_id, folder):
        # The platform's wording, which dx shows as it is.
        raise ResourceNotFound(f'Folder "{folder}" does not exist in project "{container_id}"')
    folders, objects = list_folder(call.db, container_id, folder)
    if not check.optional_bool(call.body, "includeHidden"):
        objects = [o for o in objects if not o.get("hidden")]
    option = call.body.get("describe", False)
    if not isinstance(option, (bool, dict)):
        raise InvalidInput("describe must be a boolean or a JSON object of describe options")
    entries = []
    for obj in objects:
        entry: dict[str, Any] = {"id": obj["id"]}
        if option is not False:
            entry["describe"] = describe_object(call, obj, option if isinstance(option, dict) else {})
        entries.append(entry)
    result: dict[str, Any] = {}
    if only in ("objects", "all"):
        result["objects"] = entries
    if only in ("folders", "all"):
        result["folders"] = folders
    return result


def _folder_list(call: Call, key: str) -> list[str]:
    return [folder_arg({key: f}, key) for f in check.string_list(call.body, key)]


@routes.on(CLASSES, "clone", Access.ANY)
async def clone(call: Call) -> dict[str, Any]:
    """/{project,container}-xxxx/clone {objects, folders?, project, destination?, parents?}: same IDs, another
    container; objects must be closed. `exists` lists those already in the destination (left where they are)."""
    source = _readable(call)
    destination = container_arg(call, "project")
    call.caller.require_write(destination)
    ids, folders = id_list(call.body, "objects"), _folder_list(call, "folders")
    chosen = find_objects(call.db, container=source, ids=ids) if ids else []
    missing = set(ids) - {o["id"] for o in chosen}
    if missing:
        raise ResourceNotFound(f"not in {source}: {', '.join(sorted(missing))}")
    for folder in folders:
        chosen.extend(find_objects(call.db, container=source, folder=folder, recurse=True))
    not_closed = sorted(o["id"] for o in chosen if o["state"] != "closed")
    if not_closed:
        raise InvalidState(f"only closed objects can be cloned; these are not: {', '.join(not_closed)}")
    target = folder_arg(call.body, "destination")
    taken = [f for f in folders
             if f != "/" and folder_exists(call.db, destination, posixpath.join(target, posixpath.basename(f)))]
    if taken:
        raise InvalidState(f"If cloned, a folder would conflict with an existing folder: "
                           f"{posixpath.join(target, posixpath.basename(taken[0]))} is already in {destination}")
    with _folder_conflicts():
        exists = clone_objects(call.db, ids, source, destination, target,
                               parents=check.optional_bool(call.body, "parents"), folders=folders)
    return {"id": source, "project": destination, "exists": exists}


@routes.on(CLASSES, "move", Access.ANY)
async def move(call: Call) -> dict[str, Any]:
    """/{project,container}-xxxx/move {objects?, folders?, destination}: within the container."""
    container_id = _writable(call)
    destination = folder_arg(call.body, "destination", default=None)
    ids, folders = id_list(call.body, "objects"), _folder_list(call, "folders")
    with _folder_conflicts():
        move_objects(call.db, container_id, ids, destination)
        move_folders(call.db, container_id, folders, destination)
    return {"id": container_id}


@routes.on(CLASSES, "renameFolder", Access.ANY)
async def rename_folder_route(call: Call) -> dict[str, Any]:
    """/{project,container}-xxxx/renameFolder {folder, name} (or {folder, newpath}, as `dx mv` sends it: the
    folder's new full path, maybe under another parent)."""
    container_id = _writable(call)
    folder = folder_arg(call.body, default=None)
    if "newpath" in call.body and "name" not in call.body:
        return _move_folder_to(call, container_id, folder)
    name = check.optional_str(call.body, "name")
    if not name or "/" in name or name in (".", ".."):
        raise InvalidInput(f"{name!r} is not a folder name: it must be non-empty and have no '/'")
    if folder == "/":
        raise InvalidInput("the root folder cannot be renamed")
    with _folder_conflicts():
        rename_folder(call.db, container_id, folder, name)
    return {"id": container_id}


def _move_folder_to(call: Call, container_id: str, folder: str) -> dict[str, Any]:
    """renameFolder's `newpath`: the folder moved under the new path's parent, then given its last name."""
    newpath = folder_arg(call.body, "newpath", default=None)
    if folder == "/" or newpath == "/":
        raise InvalidInput("the root folder cannot be renamed", {"field": "newpath"})
    parent, _, name = newpath.rpartition("/")
    with _folder_conflicts():
        if (parent or "/") != (folder.rpartition("/")[0] or "/"):
            move_folders(call.db, container_id, [folder], parent or "/")
            folder = f"{parent}/{folder.rpartition('/')[2]}"
        if folder != newpath:
            rename_folder(call.db, container_id, folder, name)
    return {"id": container_id}


@routes.on(CLASSES, "removeFolder", Access.ANY)
async def remove_folder_route(call: Call) -> dict[str, Any]:
    """/{project,container}-xxxx/removeFolder {folder, recurse?}: a non-empty folder needs `recurse`."""
    container_id = _writable(call)
    folder = folder_arg(call.body, default=None)
    if folder == "/":
        raise InvalidInput("the root folder cannot be removed")
    files = find_objects(call.db, container=container_id, folder=folder, recurse=True, klass="file")
    blobs = file_blobs(call.db, [f["id"] for f in files])
    with _folder_conflicts():
        remove_folder(call.db, container_id, folder, recurse=check.optional_bool(call.body, "recurse"))
    release_blobs(call.db, call.services.home, blobs)
    return {"id": container_id, "completed": True}


@routes.on(CLASSES, "removeObjects", Access.ANY)
async def remove_objects_route(call: Call) -> dict[str, Any]:
    """/{project,container}-xxxx/removeObjects {objects, force?}: `force` ignores objects not there."""
    container_id = _writable(call)
    ids = id_list(call.body, "objects")
    present = find_objects(call.db, container=container_id, ids=ids) if ids else []
    missing = set(ids) - {o["id"] for o in present}
    if missing and not check.optional_bool(call.body, "force"):
        raise ResourceNotFound(f"not in {container_id}: {', '.join(sorted(missing))}")
    blobs = file_blobs(call.db, [o["id"] for o in present if o["class"] == "file"])
    remove_objects(call.db, container_id, [o["id"] for o in present])
    release_blobs(call.db, call.services.home, blobs)
    return {"id": container_id}
