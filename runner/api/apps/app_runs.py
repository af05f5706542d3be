"""/app-xxxx[/yyyy]/run: the master job of an app's run, made as /applet-xxxx/run makes an applet's."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from runner.api.apps.apps import live_app
from runner.api.core.routing import Access, Call, Routes, once_per_nonce
from runner.api.executables.applets import run_request
from runner.api.executables.batch import expand_batch
from runner.spec.io_spec import stored_io_spec
from runner.store.jobs import get_job
from runner.store.objects import get_object

routes = Routes()


@routes.on("app", "run", Access.ANY)
async def run(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/run: refused (InvalidState) for a deleted version; its jobs get the app's containers."""
    app = live_app(call, "run")
    applet = get_object(call.db, str(app["applet"]), project_hint=str(app["resources"]))
    # The app's specs are the ones a run is checked against (the applet's, copied when the version was made).
    applet = {**applet, "inputSpec": app.get("inputSpec"), "outputSpec": app.get("outputSpec"),
              "access": app.get("access") or {}}

    async def create() -> str:
        invoker = get_job(call.db, call.caller.job_id) if call.caller.is_job and call.caller.job_id else None
        request = run_request(call, applet, invoker)
        if invoker is None or request.detach:
            call.caller.require_write(request.project)
        request = dataclasses.replace(
            request, app=app, name=request.name or app.get("title") or app["name"],
            timeout_policy_by_executable=_as_applet(request.timeout_policy_by_executable, app),
            system_requirements_by_executable=_as_applet(request.system_requirements_by_executable, app))
        return str(call.services.engine.run(applet, request, invoker)["id"])

    return await once_per_nonce(call, create)


def _as_applet(by_executable: Mapping[str, Any] | None, app: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A by-executable setting whose key is the app's ID, keyed by its applet's: the engine places jobs by applet."""
    if not by_executable or app["id"] not in by_executable:
        return by_executable
    renamed = {key: value for key, value in by_executable.items() if key != app["id"]}
    return {**renamed, str(app["applet"]): by_executable[app["id"]]}


@routes.on("app", "validateBatch", Access.ANY)
async def validate_batch(call: Call) -> dict[str, Any]:
    """/app-xxxx[/yyyy]/validateBatch: batch and common inputs expanded into one checked input per run."""
    app = live_app(call, "run")
    return {"expandedBatch": expand_batch(stored_io_spec(app, "inputSpec") or (), call.body)}
