"""What /app/new and /app-xxxx/update read: the applet (regionalOptions or the deprecated `applet`), the
resources, the metadata fields; and the resources container an app version's jobs read.

The resources container holds the applet, its bundledDepends and what `resources` names (a project's
contents, or data objects cloned into its root), as the reference says /app/new makes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.api.core import checks as check
from runner.api.core.routing import Call
from runner.api.data.objects import details_arg, readable_object
from runner.engine.submit import REGION
from runner.errors import InvalidInput, PermissionDenied
from runner.spec.ids import is_id
from runner.store.db import Database
from runner.store.objects import clone_objects, find_objects, list_folders, remove_objects

TEXT_FIELDS = ("title", "summary", "description", "developerNotes")


@dataclass(frozen=True, slots=True)
class Source:
    """The applet a version is made from (None: keep the one it has) and its resources (None: none asked)."""

    applet: dict[str, Any] | None
    resources: str | list[str] | None


def _resources_arg(value: Any, where: str) -> str | list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) and is_id(value, "project"):
        return value
    if isinstance(value, list) and all(is_id(item) for item in value):
        return list(value)
    raise InvalidInput(f"{where} must be the ID of a project or an array of data object IDs",
                       {"field": where, "expected": "project-xxxx or [data object IDs]"})


def _regional(body: Mapping[str, Any]) -> tuple[str | None, Any]:
    """(applet ID, resources) of the request: regionalOptions' region, else the deprecated top-level fields."""
    options = body.get("regionalOptions")
    if options is None:
        applet = body.get("applet")
        if applet is not None and not isinstance(applet, str):
            raise InvalidInput("Expected key 'applet' of input to be a string", {"field": "applet"})
        return applet, body.get("resources")
    if not isinstance(options, Mapping) or not options:
        raise InvalidInput("regionalOptions must be a non-empty JSON object of region names to configurations",
                           {"field": "regionalOptions", "expected": "a non-empty JSON object"})
    unknown = [region for region in options if region != REGION]
    if unknown:
        raise InvalidInput(f"regionalOptions: this engine runs in {REGION} only; {unknown[0]!r} is not a region "
                           "an app may be enabled in here", {"field": f"regionalOptions.{unknown[0]}",
                                                            "expected": REGION})
    config = options[REGION]
    if not isinstance(config, Mapping):
        raise InvalidInput(f"regionalOptions.{REGION} must be a JSON object", {"field": f"regionalOptions.{REGION}"})
    applet = config.get("applet")
    if applet is not None and not isinstance(applet, str):
        raise InvalidInput(f"Expected key 'regionalOptions.{REGION}.applet' of input to be a string")
    return applet, config.get("resources")


def source_arg(call: Call, *, required: bool) -> Source:
    """The applet (readable by the caller, with both specs) and resources the request names."""
    applet_id, resources = _regional(call.body)
    where = "regionalOptions.*.resources" if "regionalOptions" in call.body else "resources"
    checked = _resources_arg(resources, where)
    if applet_id is None:
        if required:
            raise InvalidInput("an app is made from an applet: give regionalOptions.<region>.applet (or applet) "
                               "or initializeFrom", {"field": "applet", "expected": "applet-xxxx"})
        return Source(None, checked)
    if not is_id(applet_id, "applet"):
        raise InvalidInput(f"{applet_id!r} is not an applet ID", {"field": "applet", "expected": "applet-xxxx"})
    applet = readable_object(call, applet_id)
    for key in ("inputSpec", "outputSpec"):
        if not isinstance(applet.get(key), list):
            raise InvalidInput(f"the applet {applet_id} has no {key}: an app must have both input and output "
                               "specifications (inputSpec and outputSpec in dxapp.json)",
                               {"field": "applet", "reason": f"no {key}", "expected": "inputSpec and outputSpec"})
    return Source(applet, checked)


def from_applet(applet: Mapping[str, Any]) -> dict[str, Any]:
    """The fields an app version copies from its applet, as the platform does."""
    copied = {key: applet.get(key) for key in ("inputSpec", "outputSpec", "runSpec", "dxapi", "access",
                                               "httpsApp", "ignoreReuse", *TEXT_FIELDS)}
    return {**copied, "applet": applet["id"], "access": dict(applet.get("access") or {})}


def metadata_args(body: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata fields the request sets (those it does not give are left out)."""
    fields: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        value = check.optional_str(body, key)
        if value is not None:
            fields[key] = value
    if "details" in body:
        fields["details"] = details_arg(body)
    if "openSource" in body:
        fields["openSource"] = check.optional_bool(body, "openSource")
    access = check.optional_mapping(body, "access")
    if access is not None:
        fields["access"] = access
    return fields


def fill_resources(call: Call, container: str, applet: Mapping[str, Any], resources: str | list[str] | None) -> None:
    """Put the applet, its bundledDepends and `resources` into the resources container (emptied first)."""
    db = call.db
    # The applet stays when it is the one already there (an update of the resources alone).
    there = [obj["id"] for obj in find_objects(db, container=container) if obj["id"] != applet["id"]]
    if there:
        remove_objects(db, container, there)
    if applet["project"] != container:
        clone_objects(db, [applet["id"]], source=applet["project"], destination=container)
    bundled = [entry["id"]["$dnanexus_link"] for entry in (applet.get("runSpec") or {}).get("bundledDepends") or []
               if isinstance(entry.get("id"), Mapping) and "$dnanexus_link" in entry["id"]]
    for file_id in bundled:
        _clone_readable(call, file_id, container)
    if isinstance(resources, list):
        for object_id in resources:
            _clone_readable(call, object_id, container)
    elif isinstance(resources, str):
        call.caller.require_read(resources)
        copy_contents(db, resources, container)


def copy_contents(db: Database, source: str, destination: str) -> None:
    """Clone everything in `source` (its root's objects and its folders) into `destination`'s root."""
    top = [f for f in list_folders(db, source) if f.count("/") == 1 and f != "/"]
    root = [obj["id"] for obj in find_objects(db, container=source, folder="/")]
    clone_objects(db, root, source=source, destination=destination, folders=top)


def _clone_readable(call: Call, object_id: str, container: str) -> None:
    try:
        obj = readable_object(call, object_id)
    except PermissionDenied as exc:
        raise PermissionDenied(f"resources: {exc.message}", {"field": "resources"}) from None
    clone_objects(call.db, [object_id], source=obj["project"], destination=container)
