"""Routes DNAnexus has no equivalent for, under /runner/: ping, build a folder, follow logs, shut down, JWKS."""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from runner import __version__
from runner.api.core.access import require_job
from runner.api.core.limits import MAX_PATH_CHARS
from runner.api.core.routing import SERVICES, Access, Call, Routes, Services
from runner.api.data.objects import container_arg
from runner.api.executables.applets import build_folder
from runner.api.runner.tree_stream import TreeStream
from runner.api.server import CALLER, json_response
from runner.backends.base import BackendError
from runner.errors import InvalidInput, InvalidState, ResourceNotFound
from runner.spec.events import JobStateChanged, LogLines
from runner.spec.job_states import JobState
from runner.store.jobs import JobNotFound, get_job

routes = Routes()


@routes.raw("GET", "/runner/ping", Access.ANY)
async def ping(request: web.Request) -> web.StreamResponse:
    """Whether the engine answers, and what it is: pid, version, default project, state folder."""
    services = request.app[SERVICES]
    return json_response({"ok": True, "pid": os.getpid(), "version": __version__, "project": services.default_project,
                          "home": str(services.home), "url": services.extras.get("url")})


@routes.raw("GET", "/runner/jwks", Access.PUBLIC)
async def jwks(request: web.Request) -> web.StreamResponse:
    """The public key that verifies job identity tokens, as a JWK set: public on purpose (Access.PUBLIC).

    It is only a public key, as a platform's JWKS endpoint is: a third party checking a job's identity token
    has no runner token, and the key lets it verify signatures, never make them.
    """
    return json_response(request.app[SERVICES].extras["identity_keys"].jwks())


MAX_CHANGED_FILES = 10_000


def changed_files_arg(body: Mapping[str, Any]) -> tuple[str, ...]:
    """`changedFiles`: at most 10,000 relative paths inside the folder, normalized (`a/./b` is `a/b`)."""
    given = body.get("changedFiles", [])
    expected = f"an array of at most {MAX_CHANGED_FILES} relative paths inside the folder"
    if not isinstance(given, list) or len(given) > MAX_CHANGED_FILES:
        count = f" ({len(given)} items)" if isinstance(given, list) else ""
        raise InvalidInput(f"`changedFiles` must be {expected}{count}",
                           {"field": "changedFiles", "expected": expected})
    paths = []
    for index, path in enumerate(given):
        usable = isinstance(path, str) and 0 < len(path) <= MAX_PATH_CHARS and "\0" not in path
        normal = posixpath.normpath(path) if usable else ""
        if not normal or normal.startswith("/") or normal == "." or normal.split("/")[0] == "..":
            raise InvalidInput(f"`changedFiles[{index}]` must be a relative path inside the folder, got "
                               f"{json.dumps(path)[:200]}",
                               {"field": f"changedFiles[{index}]", "expected": expected})
        paths.append(normal)
    return tuple(dict.fromkeys(paths))


@routes.static("runner", "build", Access.USER)
async def build(call: Call) -> dict[str, Any]:
    """Build the applet in a source folder on this machine and store it in the default project (the user only)."""
    project = container_arg(call, default=call.services.default_project)
    folder = call.body.get("folder")
    if not isinstance(folder, str) or not Path(folder).is_absolute() or "\0" in folder:
        raise InvalidInput("`folder` must be the absolute path of an applet source folder")
    changed = changed_files_arg(call.body)
    built, applet = await build_folder(call, Path(folder), project, changed_files=changed)
    return {"id": applet["id"], "name": applet["name"], "project": applet["project"], "imageBuilt": built.image_built,
            "image": built.image_tag, "notes": list(built.notes)}


@routes.static("runner", "shutdown", Access.USER)
async def shutdown(call: Call) -> dict[str, Any]:
    """Stop the engine (running jobs end terminated; the user only)."""
    call.services.extras["shutdown"].set()
    return {"ok": True}


@routes.static("runner", "debugHold", Access.JOB_SELF)
async def debug_hold(call: Call) -> dict[str, Any]:
    """From a job's launcher: its process failed with a reason in its debugOn; hold it (running -> debug_hold)."""
    job_id = call.caller.job_id
    assert job_id is not None  # Access.JOB_SELF
    if not call.services.engine.hold(job_id):
        state = get_job(call.db, job_id)["state"]
        raise InvalidState(f"{job_id} cannot be held for debugging: it is {state}, or its failure reason is not "
                           "in its debugOn")
    return {"id": job_id, "state": JobState.DEBUG_HOLD.value}


async def _shell(services: Services, job_id: str) -> dict[str, Any]:
    try:
        job = get_job(services.db, job_id)
    except JobNotFound:
        raise ResourceNotFound(f"the job {job_id!r} does not exist") from None
    if job["state"] not in (JobState.RUNNING.value, JobState.DEBUG_HOLD.value):
        raise InvalidState(f"{job_id} is {job['state']}: only a running job or one in debug_hold has a shell")
    try:
        argv = await asyncio.to_thread(services.engine.shell_argv, job_id)
    except BackendError as exc:
        raise InvalidState(f"no shell for {job_id}: {exc}") from None
    return {"argv": argv}


@routes.raw("GET", "/runner/shell", Access.USER)
async def shell_get(request: web.Request) -> web.StreamResponse:
    """`GET /runner/shell?job=J`: the `docker exec -it ... bash` command line for `runner ssh J` (the user only)."""
    return json_response(await _shell(request.app[SERVICES], request.query.get("job", "")))


@routes.static("runner", "shell", Access.USER)
async def shell(call: Call) -> dict[str, Any]:
    """`POST /runner/shell {"job": J}`: the same as the GET, for clients that only POST."""
    job_id = call.body.get("job")
    if not isinstance(job_id, str):
        raise InvalidInput("`job` must be a job ID")
    return await _shell(call.services, job_id)


def _record(kind: str, job: Mapping[str, Any], **fields: Any) -> bytes:
    payload = {"kind": kind, "job": job["id"], "name": job.get("name"), "function": job.get("function"), **fields}
    return (json.dumps(payload) + "\n").encode()


def _records(stream: TreeStream, event: LogLines | JobStateChanged) -> bytes:
    job = stream.jobs[event.job]
    if isinstance(event, JobStateChanged):
        return _record("state", job, t=event.time, state=event.to_state)
    return b"".join(_record("log", job, t=event.time, stream=event.stream, line=line)
                    for line in event.text.split("\n"))


@routes.raw("GET", "/runner/logs", Access.ANY)
async def logs(request: web.Request) -> web.StreamResponse:
    """NDJSON records of a job's (and its descendants') log lines and states; `follow=1` until they end.

    Only for a job the caller may act on (as /job-xxxx/describe). A filter of the event stream
    (`tree_stream`).
    """
    services = request.app[SERVICES]
    top = request.query.get("job", "")
    try:
        require_job(services.db, request[CALLER], top)
    except JobNotFound:
        raise ResourceNotFound(f"the job {top!r} does not exist") from None
    stream = TreeStream(services.engine.events, top, recurse=request.query.get("tree", "1") != "0")
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    async for event in stream.events(follow=request.query.get("follow", "1") != "0"):
        await response.write(_records(stream, event))
    if stream.stopped and not stream.ended():
        return response  # the engine stops: no end record, the client says the stream ended before the job
    state = get_job(services.db, top)["state"]
    await response.write((json.dumps({"kind": "end", "job": top, "state": state}) + "\n").encode())
    return response
