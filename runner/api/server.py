"""The aiohttp application: JSON bodies, tokens and access, error rendering, and dispatch to the route table.

Every DNAnexus route is `POST /{class}/{method}` or `POST /{class}-xxxx/{method}`; the raw routes (GET and
PUT) are wrapped. Before any handler runs, the request's caller is checked against the Access its route
declared (`core.access`), and a JSON body against the limits of `core.limits`. A handler raises an ApiError for
anything the caller got wrong; the store's not-found errors become ResourceNotFound; aiohttp's own answers
(404, 405, 413, ...) get the same `{"error": {type, message, details}}` body; any other exception is a 500
InternalError (which dxpy retries), logged with its traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from runner.api.core.access import Access, Caller, caller_of, require_access, require_job
from runner.api.core.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, check_body
from runner.api.core.routing import SERVICES, Call, RawHandler, RawRoute, Routes, Services
from runner.api.core.signing import check_signed
from runner.errors import (
    ApiError,
    InvalidInput,
    InvalidJSON,
    NotFound,
    ResourceNotFound,
)
from runner.spec.ids import id_class, is_id

log = logging.getLogger(__name__)

ROUTES = web.AppKey("routes", Routes)
CALLER = web.RequestKey("caller", Caller)
SIGNED_QUERY = web.RequestKey("signed_query", dict)
# The routes whose body is the value itself, a hash or an array: dxpy sends a record's details so.
WHOLE_BODY_METHODS = frozenset({"setDetails"})
WHOLE_BODY = web.RequestKey("whole_body", list)
# nosniff as the platform sends it (dxpy's tests read it): a JSON answer is never taken for HTML.
JSON_HEADERS = {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"}
# aiohttp's own error answers as DNAnexus error types (the status stays aiohttp's).
HTTP_ERROR_TYPES = {404: "ResourceNotFound", 405: "ResourceNotFound"}


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
    return caller_of(services.db, bearer_token(request))


async def read_body(request: web.Request, *, array_ok: bool = False) -> dict[str, Any]:
    """The JSON object of a request (`{}` for an empty body), within the limits of `core.limits`.

    With `array_ok`, an array body is kept in `request[WHOLE_BODY]` and the object returned is `{}`.
    """
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large() from None
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJSON(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput(f"the input is nested too deeply: at most {MAX_JSON_DEPTH} levels of arrays and objects",
                           {"field": "", "expected": f"at most {MAX_JSON_DEPTH} levels"}) from None
    if isinstance(body, list) and array_ok:
        check_body({"": body})
        request[WHOLE_BODY] = body
        return {}
    if not isinstance(body, dict):
        raise InvalidInput("the input is not a hash (a JSON object)")
    check_body(body)
    return body


def _too_large() -> ApiError:
    error = InvalidInput(f"the request body is larger than {MAX_BODY_BYTES} bytes, the most a JSON route takes",
                         {"expected": f"at most {MAX_BODY_BYTES} bytes"})
    error.http_status = 413
    return error


def http_error(exc: web.HTTPException) -> ApiError:
    """aiohttp's own error answer (unknown path, wrong method, body too large) as an ApiError, status kept."""
    if exc.status == 413:
        return _too_large()
    message = f"{exc.reason}: {exc.text}" if exc.text and exc.text != f"{exc.status}: {exc.reason}" else exc.reason
    error = ApiError(f"{message} ({exc.status})")
    error.dx_type = HTTP_ERROR_TYPES.get(exc.status, "InvalidInput" if exc.status < 500 else "InternalError")
    error.http_status = exc.status
    return error


def _split_path(path: str) -> tuple[str, str, str | None]:
    """`(class, method, object ID or None)` of `/{class}/{method}` or `/{class}-xxxx/{method}`."""
    parts = [p for p in path.split("/") if p]
    if len(parts) == 3 and parts[0].startswith("app-"):  # app-NAME/VERSION or TAG (runner.api.apps.identifiers)
        return "app", parts[2], f"{parts[0]}/{parts[1]}"
    if len(parts) != 2:
        raise ResourceNotFound(f"no API route {path}")
    head, method = parts
    if head.startswith("app-") and not is_id(head):  # app-NAME: the version tagged "default"
        return "app", method, head
    if is_id(head):
        klass = id_class(head)
        assert klass is not None
        return klass, method, head
    return head, method, None


def _authorize(services: Services, request: web.Request, access: Access, route: str,
               object_id: str | None) -> Caller:
    """The caller, once it is who `access` admits and, on a /job-xxxx/ route, may act on that job."""
    caller = authenticate(services, request)
    require_access(caller, access, route, object_id)
    if access is Access.ANY and object_id is not None and id_class(object_id) == "job":
        require_job(services.db, caller, object_id)
    return caller


async def dispatch(request: web.Request) -> web.Response:
    """Answer one DNAnexus-style POST."""
    services = request.app[SERVICES]
    routes = request.app[ROUTES]
    try:
        klass, method, object_id = _split_path(request.path)
        shown = f"/{klass}-xxxx/{method}" if object_id else f"/{klass}/{method}"
        route = routes.handlers.get((klass, method, object_id is not None))
        if route is None:
            raise ResourceNotFound(f"no API route {shown}")
        caller = _authorize(services, request, route.access, shown, object_id)
        body = await read_body(request, array_ok=method in WHOLE_BODY_METHODS)
        result = await route.handler(Call(services, caller, body, request, object_id))
    except ApiError as exc:
        return error_response(exc)
    except NotFound as exc:
        return error_response(ResourceNotFound(str(exc)))
    return json_response(result)


def guarded(route: RawRoute) -> RawHandler:
    """`route`'s handler behind the check of its Access: the caller (`request[CALLER]`) or the URL's signature
    (`request[SIGNED_QUERY]`) is settled before it runs."""

    async def handler(request: web.Request) -> web.StreamResponse:
        services = request.app[SERVICES]
        try:
            if route.access is Access.SIGNED:
                request[SIGNED_QUERY] = check_signed(request, services)
            elif route.access in (Access.USER, Access.JOB_SELF, Access.ANY):
                request[CALLER] = _authorize(services, request, route.access, route.path, None)
            return await route.handler(request)
        except ApiError as exc:
            return error_response(exc)
        except NotFound as exc:
            return error_response(ResourceNotFound(str(exc)))

    return handler


@web.middleware
async def error_bodies(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every error answer in the documented shape: aiohttp's own, and a logged 500 for an unexpected exception."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(http_error(exc))
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except ApiError as exc:
        return error_response(exc)
    except Exception as exc:  # noqa: BLE001 - the edge of the server: report, log, keep serving
        log.exception("internal error answering %s", request.path)
        error = ApiError(f"internal error: {type(exc).__name__}: {exc}")
        return error_response(error)


def make_app(services: Services, routes: Routes) -> web.Application:
    """The API application: `routes.raw` GET/PUT routes first (each behind its Access), then every POST."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[error_bodies])
    app[SERVICES] = services
    app[ROUTES] = routes
    for route in routes.raw_routes:
        app.router.add_route(route.method, route.path, guarded(route))
    app.router.add_route("POST", "/{path:.*}", dispatch)
    return app
