"""dx-style paths on the command line: `file-xxxx`, `project-xxxx:file-xxxx`, `project-xxxx:/folder/name`,
`/folder/name` or `name` (in the default project's root), `project-xxxx:` (its root), `folder/` (a folder).

`parse_path` only reads the text; the `resolve_*` functions ask the engine what a path names.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from runner.errors import ResourceNotFound, UsageError
from runner.spec.ids import CONTAINER_CLASSES, id_class, is_id


class Caller(Protocol):
    """What resolving needs of a client: `call(route, body)` (an `EngineClient` is one)."""

    def call(self, route: str, body: Mapping[str, Any] | None = None, *,
             timeout_s: float | None = ...) -> Any:
        """POST `body` to `route` and return the decoded answer."""


@dataclass(frozen=True, slots=True)
class DxPath:
    """A parsed path: an object ID (`project` None when none was given), or a folder and maybe a name in it."""

    text: str
    project: str | None
    folder: str = "/"
    name: str | None = None
    object_id: str | None = None

    @property
    def is_folder(self) -> bool:
        """Whether the path can only name a folder (it ends with `/`, or is a project's root)."""
        return self.object_id is None and self.name is None

    @property
    def full(self) -> str:
        """`folder/name` (or the folder) as one absolute path."""
        return posixpath.join(self.folder, self.name) if self.name is not None else self.folder


@dataclass(frozen=True, slots=True)
class Match:
    """One object a path names: the project it was found in and its ID."""

    project: str
    id: str

    @property
    def klass(self) -> str:
        """The object's class, from its ID (`file`, `applet`, ...)."""
        return id_class(self.id) or "?"


def parse_path(text: str, default_project: str) -> DxPath:
    """Read a dx-style path (UsageError when it is empty or names its project by anything but an ID)."""
    if not text.strip():
        raise UsageError("an empty path names nothing: give file-xxxx, project-xxxx:/folder/name or /folder/name")
    if is_id(text):
        if id_class(text) in CONTAINER_CLASSES:
            return DxPath(text, text)
        return DxPath(text, None, object_id=text)
    project, rest = default_project, text
    if ":" in text:
        prefix, rest = text.split(":", 1)
        if id_class(prefix) not in CONTAINER_CLASSES:
            raise UsageError(f"{text!r}: the part before ':' must be a project ID (project-xxxx), not {prefix!r}")
        project = prefix
    if is_id(rest):
        return DxPath(text, project, object_id=rest)
    if rest in ("", "/") or rest.endswith(("/", "/.", "/..")) or rest in (".", ".."):
        return DxPath(text, project, folder=normalize_folder(rest))
    full = normalize_folder(rest)
    if full == "/":
        return DxPath(text, project)
    folder, name = posixpath.split(full)
    return DxPath(text, project, folder=folder, name=name)


def normalize_folder(path: str) -> str:
    """An absolute folder path without a trailing slash; relative paths start at the root."""
    joined = posixpath.normpath("/" + path.lstrip("/")) if path else "/"
    return "/" if joined in ("/", "//") else joined


def folder_exists(client: Caller, project: str, folder: str) -> bool:
    """Whether `folder` exists in `project` (ResourceNotFound from the engine when the project does not)."""
    try:
        client.call(f"/{project}/listFolder", {"folder": folder, "only": "folders"})
    except ResourceNotFound:
        client.call(f"/{project}/describe", {"fields": {"id": True}})
        return False
    return True


def find_objects(client: Caller, path: DxPath, default_project: str) -> list[Match]:
    """The objects `path` names (none for a folder path); each found once per project it is in."""
    if path.object_id is not None:
        spec = {"id": path.object_id, **({"project": path.project} if path.project else {})}
        found = _resolve(client, spec)
        if path.project is None and len(found) > 1:
            # One object in several projects is one object: prefer the default project's copy.
            preferred = [m for m in found if m.project == default_project]
            found = preferred or found[:1]
        return found
    if path.name is None:
        return []
    assert path.project is not None
    return _resolve(client, {"project": path.project, "folder": path.folder, "name": path.name})


def _resolve(client: Caller, spec: dict[str, str]) -> list[Match]:
    answer = client.call("/system/resolveDataObjects", {"objects": [spec]})
    return [Match(str(r["project"]), str(r["id"])) for r in answer["results"][0]]


def resolve_file(client: Caller, text: str, default_project: str) -> Match:
    """The one file a path names: ResourceNotFound when none, UsageError listing the IDs when several."""
    path = parse_path(text, default_project)
    if path.is_folder:
        raise UsageError(f"{text!r} is a folder, not a file")
    found = [m for m in find_objects(client, path, default_project) if m.klass == "file"]
    if not found:
        raise ResourceNotFound(f"{text}: no such file" + _where(path))
    return one_match(text, found)


def one_match(text: str, found: list[Match]) -> Match:
    """The only element of `found`; UsageError listing every ID when there are several."""
    if len(found) > 1:
        ids = ", ".join(f"{m.project}:{m.id}" for m in found)
        raise UsageError(f"{text!r} names {len(found)} objects: {ids}; give one by ID")
    return found[0]


def _where(path: DxPath) -> str:
    if path.object_id is not None:
        return f" in {path.project}" if path.project else ""
    return f" in {path.project}:{path.folder}"
