"""The request of /applet/new (what `dx build` sends): its checks, the source folder it becomes, the new object.

dxpy's builder inlines the entry-point script as `runSpec.code`, puts the uploaded resources/ tarball into
`runSpec.bundledDepends`, and names the folder, tags, types, properties and hidden flag beside the spec. The
spec is written as a source folder (the code as `src/code.sh|py`, referenced by `runSpec.file`) so that it is
built exactly as `runner build` builds a folder, execDepends image included. As on the platform, every call
makes a new applet object: `dx build -f` creates the new one and then removes the old one by ID, which must
not be the same object even when nothing changed.

An execDepends that cannot be installed does not refuse the request: as the platform does, the applet is
accepted (built without its execDepends) and each of its jobs fails at start with an AppError naming the
package (`_runner.installProblem`). `runner build`, the user's own command, still refuses at build.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from runner.api.core import checks as check
from runner.api.data.objects import folder_arg
from runner.build.applet import code_file_name
from runner.errors import InvalidInput, RunnerError
from runner.spec.ids import new_id
from runner.spec.links import data_link_id
from runner.store.db import Database
from runner.store.objects import create_object

# The request's own keys, not the applet's specification.
OBJECT_KEYS = ("project", "folder", "parents", "nonce", "name", "tags", "types", "properties", "hidden")
CODE_FOLDER = "src"


@dataclass(frozen=True, slots=True)
class NewApplet:
    """A checked /applet/new request: the dxapp.json document to build, its code, and the object's fields."""

    spec: dict[str, Any]
    code: str
    name: str | None
    folder: str
    parents: bool
    tags: tuple[str, ...]
    types: tuple[str, ...]
    properties: dict[str, str]
    hidden: bool
    bundled_files: tuple[str, ...]
    # Why the execDepends could not be installed (then built without them), None when they were.
    install_problem: str | None = None
    exec_depends: Any = None  # the execDepends asked for, which describe shows even when not installed

    def without_exec_depends(self, problem: str) -> NewApplet:
        """The request built without its execDepends, its jobs to fail with `problem`."""
        run_spec = {key: value for key, value in self.spec["runSpec"].items() if key != "execDepends"}
        return replace(self, spec={**self.spec, "runSpec": run_spec}, install_problem=problem,
                       exec_depends=self.spec["runSpec"].get("execDepends"))

    def write_folder(self, folder: Path) -> None:
        """Write the request into `folder` as a source folder: dxapp.json and the code its runSpec.file names."""
        file = self.spec["runSpec"]["file"]
        (folder / CODE_FOLDER).mkdir()
        (folder / file).write_text(self.code, encoding="utf-8")
        document = {"name": self.name or "applet", **self.spec}
        (folder / "dxapp.json").write_text(json.dumps(document), encoding="utf-8")

    def create(self, db: Database, document: Mapping[str, Any], project: str) -> dict[str, Any]:
        """A new applet object in `project` with the built applet's `document` and the request's fields."""
        applet_id = new_id("applet")
        doc = {**document, "tags": list(self.tags), "types": list(self.types), "properties": dict(self.properties),
               "hidden": self.hidden}
        if self.install_problem is not None:
            doc["runSpec"] = {**doc["runSpec"], "execDepends": self.exec_depends}
            doc["_runner"] = {**doc["_runner"], "installProblem": self.install_problem}
        return create_object(db, "applet", project, name=self.name or applet_id, folder=self.folder,
                             state="closed", parents=self.parents, doc=doc, object_id=applet_id)


def new_applet_request(body: Mapping[str, Any]) -> NewApplet:
    """The checked request; InvalidInput naming the field for what the API refuses."""
    run_spec = body.get("runSpec")
    if not isinstance(run_spec, Mapping):
        raise InvalidInput("Expected key 'runSpec' of input to be a JSON object",
                           {"field": "runSpec", "expected": "a JSON object"})
    if "file" in run_spec:
        raise InvalidInput("runSpec.file is for a source folder's dxapp.json: /applet/new takes the script "
                           "inline as runSpec.code (dx build and runner build inline it)",
                           {"field": "runSpec.file", "expected": "runSpec.code instead"})
    code = run_spec.get("code")
    if not isinstance(code, str):
        raise InvalidInput("Expected key 'runSpec.code' of input to be a string (the entry-point script)",
                           {"field": "runSpec.code", "expected": "a string"})
    interpreter = run_spec.get("interpreter")
    file = f"{CODE_FOLDER}/{code_file_name(interpreter if isinstance(interpreter, str) else '')}"
    # regionalOptions is dxapp.json's (and /app/new's): dx build has already put the region's values into
    # runSpec, and the applet API has no such field, so it is left out rather than checked against runSpec.
    spec = {key: value for key, value in body.items() if key not in (*OBJECT_KEYS, "regionalOptions")}
    spec["runSpec"] = {**{k: v for k, v in run_spec.items() if k != "code"}, "file": file}
    return NewApplet(
        spec=spec, code=code, name=check.optional_str(body, "name"), folder=folder_arg(body),
        parents=check.optional_bool(body, "parents"), tags=tuple(check.string_list(body, "tags")),
        types=tuple(check.string_list(body, "types")), properties=check.properties(body),
        hidden=check.optional_bool(body, "hidden"), bundled_files=_bundled_files(run_spec),
    )


def _bundled_files(run_spec: Mapping[str, Any]) -> tuple[str, ...]:
    """The file IDs runSpec.bundledDepends links to (its shape is checked with the rest of the spec)."""
    bundled = run_spec.get("bundledDepends")
    if not isinstance(bundled, list):
        return ()
    found = (data_link_id(item.get("id")) for item in bundled if isinstance(item, Mapping))
    return tuple(dict.fromkeys(file_id for file_id in found if file_id is not None))


class InstallProblem(RunnerError):
    """The execDepends of an /applet/new request could not be installed (the message names the package)."""

    def __init__(self, message: str, cause: RunnerError) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause
