"""The aiohttp application: JSON bodies, tokens, error rendering, and dispatch to the route table.

Every DNAnexus route is `POST /{class}/{method}` or `POST /{class}-xxxx/{method}`. A handler raises an
ApiError for anything the caller got wrong; the store's not-found errors become ResourceNotFound; any
other exception is a 500 InternalError (which dxpy retries), logged with its traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from runner.api._routes import SERVICES, Call, Caller, Routes, Services
from runner.errors import (
    ApiError,
    InvalidAuthentication,
    InvalidInput,
    InvalidJSON,
    ResourceNotFound,
)
from runner.spec.ids import id_class, is_id
from runner.store.jobs import JobNotFound, get_job
from runner.store.objects import FolderNotFound, ObjectNotFound
from runner.store.tokens import lookup_token

log = logging.getLogger(__name__)

ROUTES = web.AppKey("routes", Routes)
MAX_BODY_BYTES = 64 << 20
JSON_HEADERS = {"Content-Type": "application/json"}


def json_response(value: Any, status: int = 200) -> web.Response:
    """A JSON response with the content type dxpy requires."""
    return web.Response(text=json.dumps(value), status=status, headers=JSON_HEADERS)


def error_response(error: ApiError) -> web.Response:
    """The `{"error": {type, message, details}}` body of an ApiError, with its status."""
    return json_response(error.document(), status=error.http_status)


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer T` header."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate(services: Services, request: web.Request) -> Caller:
    """Who the request's token belongs to; InvalidAuthentication for no, unknown or revoked tokens."""
    token = bearer_token(request)
    if token is None:
        raise InvalidAuthentication("no token: send the header 'Authorization: Bearer <token>'")
    info = lookup_token(services.db, token)
    if info is None:
        raise InvalidAuthentication("the token could not be found")
    if info.kind != "job":
        return Caller(kind="user")
    if info.revoked or info.job_id is None:
        raise InvalidAuthentication(f"the token of {info.job_id} is no longer valid: that job has ended")
    try:
        job = get_job(services.db, info.job_id)
    except JobNotFound:
        raise InvalidAuthentication("the token's job no longer exists") from None
    return Caller(kind="job", job_id=job["id"], workspace=job.get("workspace"), project=job.get("project"))


async def read_body(request: web.Request) -> dict[str, Any]:
    """The JSON object of a request (`{}` for an empty body)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJSON(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput("the input is not a hash (a JSON object)")
    return body


def _split_path(path: str) -> tuple[str, str, str | None]:
    """`(class, method, object ID or None)` of `/{class}/{method}` or `/{class}-xxxx/{method}`."""
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2:
        raise ResourceNotFound(f"no API route {path}")
    head, method = parts
    if is_id(head):
        klass = id_class(head)
        assert klass is not None
        return klass, method, head
    return head, method, None


async def dispatch(request: web.Request) -> web.Response:
    """Answer one DNAnexus-style POST."""
    services = request.app[SERVICES]
    routes = request.app[ROUTES]
    try:
        klass, method, object_id = _split_path(request.path)
        handler = routes.handlers.get((klass, method, object_id is not None))
        if handler is None:
            shown = f"/{klass}-xxxx/{method}" if object_id else f"/{klass}/{method}"
            raise ResourceNotFound(f"no API route {shown}")
        caller = authenticate(services, request)
        body = await read_body(request)
        result = await handler(Call(services, caller, body, request, object_id))
    except ApiError as exc:
        return error_response(exc)
    except (JobNotFound, ObjectNotFound, FolderNotFound) as exc:
        return error_response(ResourceNotFound(str(exc)))
    return json_response(result)


@web.middleware
async def internal_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn an unexpected exception into a logged 500 InternalError instead of a bare page."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except ApiError as exc:
        return error_response(exc)
    except Exception as exc:  # noqa: BLE001 - the edge of the server: report, log, keep serving
        log.exception("internal error answering %s", request.path)
        error = ApiError(f"internal error: {type(exc).__name__}: {exc}")
        return error_response(error)


def make_app(services: Services, routes: Routes) -> web.Application:
    """The API application: `routes.raw` GET/PUT routes first, then every POST through `dispatch`."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[internal_errors])
    app[SERVICES] = services
    app[ROUTES] = routes
    for method, path, handler in routes.raw_routes:
        app.router.add_route(method, path, handler)
    app.router.add_route("POST", "/{path:.*}", dispatch)
    return app
