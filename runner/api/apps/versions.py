"""An app version's life: /app-xxxx[/yyyy]/{publish, addTags, removeTags, delete, isCompatible}, the lists
kept for the whole name (categories, developers, authorized users), install, and /system/findApps."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from typing import Any

from runner.api.apps.apps import app_arg, app_view, describe_fields, live_app
from runner.api.apps.compatibility import incompatibilities
from runner.api.apps.identifiers import resolve
from runner.api.core import checks as check
from runner.api.core.fields import select
from runner.api.core.routing import Access, Call, Routes
from runner.errors import InvalidInput, InvalidState, PermissionDenied
from runner.store import apps as store
from runner.store.db import now_ms

routes = Routes()
RESERVED_CATEGORIES = ("new", "recommended", "popular")


def _label(app: Mapping[str, Any]) -> str:
    return f"{app['id']} (app-{app['name']}/{app['version']})"


@routes.on("app", "publish", Access.USER)
async def publish(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/publish: the version is locked; with makeDefault it takes the "default" tag."""
    app = live_app(call, "published")
    make_default = check.optional_bool(call.body, "makeDefault")
    if app.get("published"):
        raise InvalidState(f"{_label(app)} has already been published")
    store.update_app(call.db, app["id"], {"published": now_ms()})
    if make_default:
        store.add_tags(call.db, app["id"], [store.DEFAULT_TAG])
    return {"id": app["id"]}


def _tags_arg(call: Call, name: str) -> list[str]:
    tags = check.string_list(call.body, "tags", required=True)
    versions = {other["version"] for other in store.versions_of(call.db, name)}
    clash = [tag for tag in tags if tag in versions]
    if clash:
        raise InvalidInput(f"the tag {clash[0]!r} is a version of app-{name}: a tag may not equal a version",
                           {"field": "tags", "expected": "tags that are not versions"})
    return tags


@routes.on("app", "addTags", Access.USER)
async def add_tags(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/addTags: a tag another version had moves to this one."""
    app = live_app(call, "tagged")
    store.add_tags(call.db, app["id"], _tags_arg(call, app["name"]))
    return {"id": app["id"]}


@routes.on("app", "removeTags", Access.USER)
async def remove_tags(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/removeTags: the tags name no version of the app any more ("default" stays)."""
    app = app_arg(call)
    tags = _tags_arg(call, app["name"])
    if store.DEFAULT_TAG in tags:
        raise InvalidInput("the tag 'default' cannot be removed: tag another version 'default' instead "
                           "(addTags, or publish with makeDefault)", {"field": "tags"})
    store.remove_tags(call.db, app["name"], tags)
    return {"name": app["name"]}


@routes.on("app", "delete", Access.USER)
async def delete(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/delete: the version can still be described, but no longer run, changed or published."""
    app = app_arg(call)
    others = [v for v in store.versions_of(call.db, app["name"]) if v["id"] != app["id"] and not v.get("deleted")]
    if store.DEFAULT_TAG in app["aliases"][1:] and others:
        raise InvalidState(f"{_label(app)} has the 'default' tag: delete the other versions of app-{app['name']} "
                           f"first ({', '.join(v['version'] for v in others)}), or tag another version 'default'")
    store.update_app(call.db, app["id"], {"deleted": True})
    store.drop_tags_except_default(call.db, app["id"])
    return {"id": app["id"]}


@routes.on("app", "isCompatible", Access.ANY)
async def is_compatible(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/isCompatible: whether this version can replace otherVersion (which may be deleted)."""
    other_name = call.body.get("otherVersion")
    if not isinstance(other_name, str) or not other_name:
        raise InvalidInput("otherVersion must be a nonempty string: an app identifier", {"field": "otherVersion"})
    app = live_app(call, "checked for compatibility")
    other = resolve(call.db, other_name)
    return {"id": app["id"], "otherVersion": other["id"], "compatible": not incompatibilities(app, other)}


def _name_list(field: str, *, adding: bool, reserved: tuple[str, ...] = ()) -> Callable[[Call], Any]:
    """The handler adding to (or removing from) a list kept for every version of the name."""
    async def change(call: Call) -> dict[str, Any]:
        app = app_arg(call)
        items = check.string_list(call.body, field, required=True)
        bad = [item for item in items if item in reserved]
        if bad:
            raise InvalidInput(f"{field}: {bad[0]!r} is not allowed ({', '.join(reserved)} are reserved)",
                               {"field": field})
        if adding and field == "authorizedUsers" and "PUBLIC" in items:
            raise PermissionDenied('"PUBLIC" cannot be added as an authorized user: making an app available to '
                                   "all users of the platform is done by DNAnexus support")
        for version in store.versions_of(call.db, app["name"]):
            now = list(version.get(field) or [])
            kept = now + [i for i in items if i not in now] if adding else [i for i in now if i not in items]
            store.update_app(call.db, version["id"], {field: kept})
        return {"name": app["name"]}
    return change


for _key, _field, _reserved in (("Categories", "categories", RESERVED_CATEGORIES),
                                ("Developers", "developers", ()), ("AuthorizedUsers", "authorizedUsers", ())):
    routes.on("app", f"add{_key}", Access.USER)(_name_list(_field, adding=True, reserved=_reserved))
    routes.on("app", f"remove{_key}", Access.USER)(_name_list(_field, adding=False))


@routes.on("app", "listCategories", Access.ANY)
async def list_categories(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/listCategories."""
    return {"categories": list(app_arg(call).get("categories") or [])}


@routes.on("app", "listDevelopers", Access.ANY)
async def list_developers(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/listDevelopers."""
    return {"developers": list(app_arg(call).get("developers") or [])}


@routes.on("app", "listAuthorizedUsers", Access.ANY)
async def list_authorized_users(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/listAuthorizedUsers."""
    return {"authorizedUsers": list(app_arg(call).get("authorizedUsers") or [])}


@routes.on("app", "install", Access.USER)
async def install(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/install: a bookmark (the only user has every app installed)."""
    app = live_app(call, "installed")
    if not app.get("published"):
        raise InvalidState(f"{_label(app)} is not published yet: only a published version can be installed")
    return {"name": app["name"]}


@routes.on("app", "uninstall", Access.USER)
async def uninstall(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/uninstall: nothing to undo here; never an error."""
    return {"name": app_arg(call)["name"]}


def _name_test(value: Any) -> Callable[[str], bool]:
    if value is None:
        return lambda name: True
    if isinstance(value, str):
        return lambda name: name == value
    if isinstance(value, Mapping) and isinstance(value.get("glob"), str):
        return lambda name: fnmatch.fnmatchcase(name, value["glob"])
    if isinstance(value, Mapping) and isinstance(value.get("regexp"), str):
        try:
            pattern = re.compile(value["regexp"])
        except re.error as exc:
            raise InvalidInput(f"name.regexp is not a regular expression: {exc}", {"field": "name.regexp"}) from None
        return lambda name: pattern.search(name) is not None
    raise InvalidInput("name must be a string, {\"glob\": ...} or {\"regexp\": ...}", {"field": "name"})


def _limit(body: Mapping[str, Any]) -> int:
    limit = body.get("limit", 1000)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput("limit must be an integer from 1 to 1000", {"field": "limit"})
    return limit


@routes.static("system", "findApps", Access.ANY)
async def find_apps(call: Call) -> dict[str, Any]:
    """/system/findApps: versions not deleted, by name, published, category; the "default" ones unless
    allVersions; each with its describe when asked."""
    body = call.body
    matches, limit = _name_test(body.get("name")), _limit(body)
    published = body.get("published")
    if published is not None and not isinstance(published, bool):
        raise InvalidInput("published must be a boolean", {"field": "published"})
    all_versions = check.optional_bool(body, "allVersions")
    category = check.optional_str(body, "category")
    describe = body.get("describe", False)
    if not isinstance(describe, (bool, Mapping)):
        raise InvalidInput("describe must be a boolean or a JSON object of describe options", {"field": "describe"})
    results = []
    for app in reversed(store.versions_of(call.db)):
        if app.get("deleted") or not matches(app["name"]):
            continue
        if published is not None and bool(app.get("published")) != published:
            continue
        if category is not None and category not in (app.get("categories") or []):
            continue
        if not all_versions and store.DEFAULT_TAG not in app["aliases"][1:]:
            continue
        entry: dict[str, Any] = {"id": app["id"]}
        if describe is not False:
            options = describe if isinstance(describe, Mapping) else {}
            entry["describe"] = select(app_view(app), describe_fields(options))
        results.append(entry)
    return {"results": results[:limit], "next": None}
