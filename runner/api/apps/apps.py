"""App versions: /app/new, /app-xxxx[/yyyy]/{describe, get, update}."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.api.apps.app_spec import (
    Source,
    copy_contents,
    fill_resources,
    from_applet,
    metadata_args,
    source_arg,
)
from runner.api.apps.identifiers import NAME_PATTERN, VERSION_PATTERN, resolve
from runner.api.core import checks as check
from runner.api.core.fields import select, wanted_fields
from runner.api.core.routing import Access, Call, Routes
from runner.api.data.objects import LOCAL_USER
from runner.engine.submit import REGION
from runner.errors import InvalidInput, InvalidState, PermissionDenied
from runner.store import apps as store
from runner.store.nonces import check_nonce, record_nonce
from runner.store.objects import create_container, get_object

routes = Routes()

DESCRIBE_FIELDS = (
    "id", "class", "billTo", "name", "version", "aliases", "createdBy", "created", "modified", "installed",
    "openSource", "deleted", "installs", "isDeveloperFor", "authorizedUsers", "regionalOptions", "published",
    "title", "summary", "description", "developerNotes", "details", "categories", "pricingPolicy",
    "lineItemPerTest", "access", "inputSpec", "outputSpec", "dxapi", "runSpec", "httpsApp", "ignoreReuse",
    "region", "applet", "resources",
)
# What describe leaves out of a deleted version (the reference: "If the app has not been deleted").
LIVE_ONLY = ("title", "summary", "description", "developerNotes", "details", "categories", "pricingPolicy",
             "lineItemPerTest", "access", "inputSpec", "outputSpec", "dxapi", "runSpec", "resources")


def app_arg(call: Call) -> dict[str, Any]:
    """The app version the path names."""
    return resolve(call.db, call.target)


def live_app(call: Call, what: str) -> dict[str, Any]:
    """The version the path names, refused with InvalidState once it is deleted."""
    app = app_arg(call)
    if app.get("deleted"):
        raise InvalidState(f"{app['id']} (app-{app['name']}/{app['version']}) has been deleted: it can be described "
                           f"but not {what}")
    return app


def app_view(app: Mapping[str, Any], *, with_code: bool = False) -> dict[str, Any]:
    """A stored version as describe shows it (get: `with_code`, the run spec's code kept)."""
    view = {k: v for k, v in app.items() if not k.startswith("_")}
    run_spec = dict(view.get("runSpec") or {})
    if not with_code:
        run_spec.pop("code", None)
    view["runSpec"] = run_spec
    view["region"] = REGION
    if app.get("deleted"):
        for key in LIVE_ONLY:
            view.pop(key, None)
    return view


def describe_fields(body: Mapping[str, Any]) -> set[str]:
    """The fields an app's describe answers with: `id` only when asked for, once `fields` is given (an app's
    describe with `{"name": true, "version": true}` has those two alone, as dxpy's TestDXApp expects)."""
    names = wanted_fields(body, DESCRIBE_FIELDS, DESCRIBE_FIELDS)
    fields = body.get("fields")
    if isinstance(fields, Mapping) and fields.get("id") is not True and body.get("defaultFields") is not True:
        names.discard("id")
    return names


@routes.on("app", "describe", Access.ANY)
async def describe(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/describe: a deleted version too (it says so)."""
    return select(app_view(app_arg(call)), describe_fields(call.body))


@routes.on("app", "get", Access.ANY)
async def get(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/get: describe's fields with the run spec's code; for the user or a job of the app."""
    app = live_app(call, "read with get")
    resources = str(app["resources"])
    if call.caller.is_job and not call.caller.may_read(resources):
        raise PermissionDenied(f"{call.caller.job_id} may not get {app['id']}: that needs VIEW access to its "
                               f"resources container {resources} (a developer, or a job running the app)")
    return select(app_view(app, with_code=True), describe_fields(call.body))


def _name_and_version(call: Call, base: Mapping[str, Any] | None) -> tuple[str, str]:
    body = call.body
    name = check.optional_str(body, "name") or (base["name"] if base else None)
    if name is None:
        raise InvalidInput("the key 'name' is missing: an app needs a name", {"field": "name"})
    if not NAME_PATTERN.match(name) or name.startswith("app-"):
        raise InvalidInput(f"name {name!r} must match /^[a-zA-Z0-9._-]+$/ and cannot start with 'app-'",
                           {"field": "name", "expected": "/^[a-zA-Z0-9._-]+$/"})
    version = check.optional_str(body, "version")
    if not version or not VERSION_PATTERN.match(version):
        raise InvalidInput("the key 'version' must be a nonempty string matching /^[a-zA-Z0-9._+-]+$/",
                           {"field": "version", "expected": "/^[a-zA-Z0-9._+-]+$/"})
    for other in store.versions_of(call.db, name):
        published_tags = other["aliases"][1:] if other.get("published") else []
        if other["version"] == version or version in published_tags:
            # dx build --app recognises this exact message (then updates the unpublished version).
            raise InvalidInput("Specified name and version conflict with an existing alias",
                               {"field": "version", "conflictsWith": other["id"]})
    return name, version


def _base(call: Call) -> dict[str, Any] | None:
    """The version initializeFrom names (its fields are the defaults), None without it."""
    origin = check.optional_str(call.body, "initializeFrom")
    if origin is None:
        return None
    if "applet" in call.body or any(isinstance(v, Mapping) and "applet" in v
                                    for v in (call.body.get("regionalOptions") or {}).values()):
        raise InvalidInput("Only one of initializeFrom or applet may be specified", {"field": "initializeFrom"})
    return resolve(call.db, origin)


def _check_bill_to(body: Mapping[str, Any]) -> None:
    bill_to = check.optional_str(body, "billTo")
    if bill_to is not None and bill_to != LOCAL_USER:
        raise PermissionDenied(f"billTo must be the ID of the requesting user ({LOCAL_USER}), not {bill_to!r}")


def _new_document(call: Call, source: Source, base: Mapping[str, Any] | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "billTo": LOCAL_USER, "createdBy": LOCAL_USER, "installed": True, "installs": 1, "openSource": False,
        "deleted": False, "isDeveloperFor": True, "authorizedUsers": [], "developers": [LOCAL_USER],
        "categories": [], "pricingPolicy": None, "lineItemPerTest": False, "details": {},
    }
    if base is not None:
        fields.update({k: v for k, v in base.items() if k in DESCRIBE_FIELDS or k in ("developers",)})
        for key in ("id", "class", "name", "version", "aliases", "created", "modified", "published", "resources",
                    "regionalOptions", "region"):
            fields.pop(key, None)
    if source.applet is not None:
        fields.update(from_applet(source.applet))
    fields.update(metadata_args(call.body))
    return fields


@routes.static("app", "new", Access.USER)
async def new_app(call: Call) -> dict[str, Any]:
    """/app/new: a version from an applet (or initializeFrom), with its resources container."""
    earlier = check_nonce(call.db, "/app/new", call.body)
    if earlier is not None:
        return earlier
    base = _base(call)
    name, version = _name_and_version(call, base)
    source = source_arg(call, required=base is None)
    _check_bill_to(call.body)
    doc = _new_document(call, source, base)
    doc["title"] = doc.get("title") or name  # "if no (or an empty) title is found ... name is used"
    resources = create_container(call.db, "container", f"resources of app-{name}/{version}")
    if source.applet is not None:
        fill_resources(call, resources, source.applet, source.resources)
    elif source.resources is not None:
        assert base is not None
        fill_resources(call, resources, _applet_of(call, base), source.resources)
    else:
        assert base is not None
        copy_contents(call.db, str(base["resources"]), resources)
    doc.update({"resources": resources, "regionalOptions": {REGION: {"applet": doc["applet"], "resources": resources}}})
    app = store.create_app(call.db, name, version, doc)
    if not store.has_tag(call.db, name, store.DEFAULT_TAG):
        # As the platform does (dxpy's TestDXApp.test_create_app): a name's first version is its default.
        store.add_tags(call.db, app["id"], [store.DEFAULT_TAG])
    result = {"id": app["id"], "resourcesByRegion": {REGION: resources}, "resources": resources}
    record_nonce(call.db, "/app/new", call.body, result)
    return result


def _applet_of(call: Call, app: Mapping[str, Any]) -> dict[str, Any]:
    return get_object(call.db, str(app["applet"]), project_hint=str(app["resources"]))


@routes.on("app", "update", Access.USER)
async def update(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/update: an unpublished version's fields (and applet, resources) changed in place."""
    app = live_app(call, "updated")
    if app.get("published"):
        raise InvalidState(f"{app['id']} (app-{app['name']}/{app['version']}) has already been published: a "
                           "published version cannot be updated; create a new version instead")
    source = source_arg(call, required=False)
    changes = metadata_args(call.body)
    if source.applet is not None or source.resources is not None:
        applet = source.applet or _applet_of(call, app)
        fill_resources(call, str(app["resources"]), applet, source.resources)
        if source.applet is not None:
            changes.update(from_applet(source.applet))
            changes.update(metadata_args(call.body))
            changes["regionalOptions"] = {REGION: {"applet": source.applet["id"], "resources": app["resources"]}}
    store.update_app(call.db, app["id"], changes)
    return {"id": app["id"]}
