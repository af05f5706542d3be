"""GET /job-xxxx/getLog/websocket: a job's log as DNAnexus streams it, which is what `dx watch` reads.

The client opens the websocket and sends one JSON message: `{access_token, token_type}` plus its options,
`numRecentMessages` (how many earlier lines to send first), `recurseJobs` (the job's descendants too),
`tail` (keep sending until the jobs end; otherwise close after what is there) and `levels` (which levels
to send). Each log line is sent as `{timestamp, source, level, job, jobTry, line, msg}`; the stream ends
with `{source: "SYSTEM", msg: "END_LOG"}` and a normal close (1000). An error closes the socket with
1008 and `{"type", "message"}` as the reason, which dxpy prints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import WSMsgType, web

from runner.api.core.access import caller_of, require_job
from runner.api.core.routing import SERVICES, Access, Routes, Services
from runner.api.runner.tree_stream import TreeEvent, TreeStream
from runner.errors import ApiError, InvalidAuthentication, InvalidInput, ResourceNotFound
from runner.spec.events import LogLines
from runner.store.jobs import JobNotFound

routes = Routes()

OPEN_TIMEOUT_S = 30
DEFAULT_RECENT = 1024 * 256
# The job log's streams as DNAnexus log sources and levels.
SOURCES = {"stdout": ("APP", "STDOUT"), "stderr": ("APP", "STDERR"), "runner": ("SYSTEM", "INFO")}
MAX_REASON_BYTES = 123  # what a websocket close frame holds


def _options(message: Mapping[str, Any]) -> tuple[int, bool, bool, set[str] | None]:
    """`(numRecentMessages, recurseJobs, tail, levels)` of the opening message."""
    recent = message.get("numRecentMessages", DEFAULT_RECENT)
    if isinstance(recent, bool) or not isinstance(recent, int) or recent < 0:
        raise InvalidInput("numRecentMessages must be a non-negative integer")
    levels = message.get("levels")
    if levels is not None and (not isinstance(levels, list) or not all(isinstance(x, str) for x in levels)):
        raise InvalidInput("levels must be an array of strings")
    return recent, bool(message.get("recurseJobs", False)), bool(message.get("tail", False)), \
        set(levels) if levels is not None else None


def _message(job: Mapping[str, Any], event: LogLines, text: str, line: int) -> dict[str, Any]:
    source, level = SOURCES.get(event.stream, ("SYSTEM", "INFO"))
    return {"timestamp": event.time, "source": source, "level": level, "job": job["id"],
            "jobTry": job.get("try", 0), "line": line, "msg": text}


async def _opening(ws: web.WebSocketResponse) -> dict[str, Any]:
    try:
        received = await ws.receive(timeout=OPEN_TIMEOUT_S)
    except TimeoutError:
        raise InvalidInput(f"no opening message within {OPEN_TIMEOUT_S} s") from None
    if received.type != WSMsgType.TEXT:
        raise InvalidInput("the first message must be a JSON object with access_token")
    try:
        message = json.loads(received.data)
    except ValueError:
        raise InvalidInput("the first message is not valid JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("access_token"), str):
        raise InvalidAuthentication("the first message must carry access_token")
    return message


def _authorize(request: web.Request, services: Services, message: Mapping[str, Any]) -> dict[str, Any]:
    """The job to stream, once the opening message's token (Access.ANY_IN_MESSAGE) may act on it."""
    job_id = request.match_info["job_id"]
    caller = caller_of(services.db, message["access_token"])
    try:
        return require_job(services.db, caller, job_id)
    except JobNotFound:
        raise ResourceNotFound(f"the job {job_id} does not exist") from None


async def _stream(ws: web.WebSocketResponse, services: Services, top: str, message: Mapping[str, Any]) -> None:
    recent, recurse, tail, levels = _options(message)
    stream = TreeStream(services.engine.events, top, recurse)
    sent = 0

    async def send(lines: list[tuple[LogLines, str]]) -> None:
        nonlocal sent
        for event, line in lines:
            sent += 1
            out = _message(stream.jobs[event.job], event, line, sent)
            if levels is None or out["level"] in levels:
                await ws.send_str(json.dumps(out))

    try:
        backlog = _lines_of(stream.open())
        await send(backlog[len(backlog) - recent:] if recent else [])
        if tail:
            async for event in stream.live():
                if ws.closed:
                    break
                await send(_lines_of([event]))
    finally:
        stream.close()
    if not ws.closed:
        await ws.send_str(json.dumps({"timestamp": 0, "source": "SYSTEM", "level": "INFO", "job": top,
                                      "line": sent + 1, "msg": "END_LOG"}))


def _lines_of(events: list[TreeEvent]) -> list[tuple[LogLines, str]]:
    """Each log line of `events` (a log event may hold several) with its event."""
    return [(event, line) for event in events if isinstance(event, LogLines)
            for line in event.text.split("\n")]


def _reason(error: ApiError) -> str:
    """The close reason for `error`: its `{type, message}`, the message cut to fit a close frame."""
    message = error.message
    while True:
        reason = json.dumps({"type": error.dx_type, "message": message})
        if len(reason.encode()) <= MAX_REASON_BYTES or not message:
            return reason
        message = message[:-8]


@routes.raw("GET", "/{job_id}/getLog/websocket", Access.ANY_IN_MESSAGE)
async def get_log(request: web.Request) -> web.StreamResponse:
    """Stream a job's log over a websocket (see the module's docstring)."""
    services = request.app[SERVICES]
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    try:
        message = await _opening(ws)
        job = _authorize(request, services, message)
        await _stream(ws, services, job["id"], message)
    except ApiError as exc:
        await ws.close(code=1008, message=_reason(exc).encode())
    except ConnectionResetError:
        pass  # the client went away
    if not ws.closed:
        await ws.close()
    return ws
