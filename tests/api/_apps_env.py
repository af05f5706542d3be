"""Helpers of the app tests: an applet with specs in the world's project P, an app made from it, and calls."""

from __future__ import annotations

from typing import Any

from runner.api.apps.app_spec import from_applet
from runner.spec.ids import new_id
from runner.store.apps import create_app
from runner.store.objects import clone_objects, create_container, create_object, get_object
from tests.api._full_env import Api, World, applet_doc

SPEC_IN = [{"name": "n", "class": "int", "optional": True}]
SPEC_OUT = [{"name": "out", "class": "int"}]


def make_applet(api: Api, *, input_spec: Any = SPEC_IN, output_spec: Any = SPEC_OUT, title: str = "") -> str:
    """An applet in P with the given specs (the fake backend never runs it)."""
    doc = {**applet_doc(), "inputSpec": input_spec, "outputSpec": output_spec, "title": title,
           "runSpec": {"interpreter": "bash", "code": "main() { :; }"}}
    made = create_object(api.world.db, "applet", api.world.P, name="demo", state="closed", doc=doc,
                         object_id=new_id("applet"))
    return str(made["id"])


async def ok(api: Api, path: str, body: Any = None, caller: str = "user") -> Any:
    status, answer = await api.post(path, body if body is not None else {}, caller)
    assert status == 200, answer
    return answer


async def error(api: Api, path: str, body: Any = None, caller: str = "user") -> tuple[int, str, str]:
    status, answer = await api.post(path, body if body is not None else {}, caller)
    assert status >= 400, answer
    return status, answer["error"]["type"], answer["error"]["message"]


async def new_app(api: Api, version: str = "1.0.0", name: str = "bwa", **extra: Any) -> dict[str, Any]:
    applet = extra.pop("applet", None) or make_applet(api)
    return dict(await ok(api, "/app/new", {"name": name, "version": version,
                                          "regionalOptions": {"aws:us-east-1": {"applet": applet}}, **extra}))


def add_app(world: World, name: str = "fuzzed", version: str = "1.0.0") -> str:
    """An app version stored directly (no HTTP), made from a new applet with specs in P: its ID."""
    doc = {**applet_doc(), "inputSpec": SPEC_IN, "outputSpec": SPEC_OUT, "runSpec": {"interpreter": "bash"}}
    applet = create_object(world.db, "applet", world.P, name=name, state="closed", doc=doc,
                           object_id=new_id("applet"))["id"]
    resources = create_container(world.db, "container", f"resources of app-{name}/{version}")
    clone_objects(world.db, [applet], source=world.P, destination=resources)
    app = create_app(world.db, name, version, {**from_applet(get_object(world.db, applet)), "resources": resources,
                                               "deleted": False, "developers": ["user-local"]})
    return str(app["id"])
