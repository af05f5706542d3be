"""The route table: which handler answers `/{class}/{method}` and `/{class}-xxxx/{method}`.

Handlers are `async def handler(call: Call) -> dict` registered on a `Routes` table with
`@routes.static("file", "new", Access.ANY)` (for `/file/new`) or `@routes.on("file", "describe", Access.ANY)`
(for `/file-xxxx/describe`, with `call.object_id` set). Every registration names the route's `Access`
(a required argument): the server checks it before the handler runs (see `access`). Handlers raise
`runner.errors.ApiError` subclasses for anything the caller did wrong; the server renders them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from runner.api.core.access import Access, Caller
from runner.store.nonces import check_nonce, record_nonce

if TYPE_CHECKING:
    from runner.engine.driver import Engine
    from runner.store.db import Database


@dataclass(slots=True)
class Services:
    """What handlers work with: the store, the engine, the state folder, the default project."""

    db: Database
    home: Path
    engine: Engine
    default_project: str
    extras: dict[str, Any] = field(default_factory=dict)


SERVICES = web.AppKey("services", Services)


@dataclass(frozen=True, slots=True)
class Call:
    """One API call: its JSON body, the object it names (if any), the caller and the services."""

    services: Services
    caller: Caller
    body: Mapping[str, Any]
    request: web.Request
    object_id: str | None = None

    @property
    def db(self) -> Database:
        """The store."""
        return self.services.db

    @property
    def target(self) -> str:
        """The object ID the path names (`/{class}-xxxx/{method}`); only routes registered with `on` have one."""
        if self.object_id is None:
            raise TypeError("this route names no object: it was registered with `static`, not `on`")
        return self.object_id


async def once_per_nonce(call: Call, create: Callable[[], Awaitable[str]]) -> dict[str, Any]:
    """`{"id": ...}` of the object `create()` makes, or, for a request repeating a nonce, of the one made then.

    The nonce's rules (a string of at most 128 bytes, the same input on a repeat) are checked before `create`.
    """
    route = "/" + "/".join(part for part in call.request.path.split("/") if part)
    earlier = check_nonce(call.db, route, call.body)
    if earlier is not None:
        return earlier
    result = {"id": await create()}
    record_nonce(call.db, route, call.body, result)
    return result


Handler = Callable[[Call], Awaitable[Any]]
RawHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    """One DNAnexus route's handler and what it needs from its caller."""

    handler: Handler
    access: Access


@dataclass(frozen=True, slots=True)
class RawRoute:
    """One plain aiohttp route: its method, path pattern, handler and access."""

    method: str
    path: str
    handler: RawHandler
    access: Access


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """A row of the route table: method, path (`/file-xxxx/describe` for object routes) and access."""

    method: str
    path: str
    access: Access


class Routes:
    """A table of handlers keyed by (class, method, whether the path names an object), each with its Access."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str, bool], Route] = {}
        self.raw_routes: list[RawRoute] = []

    def raw(self, method: str, path: str, access: Access) -> Callable[[RawHandler], RawHandler]:
        """Register a plain aiohttp handler (GET downloads, PUT part uploads, streams under /runner/)."""
        _check_access(access)

        def register(handler: RawHandler) -> RawHandler:
            self.raw_routes.append(RawRoute(method, path, handler, access))
            return handler

        return register

    def static(self, klass: str, method: str, access: Access) -> Callable[[Handler], Handler]:
        """Register a handler of `/{klass}/{method}`."""
        return self._register(klass, method, False, access)

    def on(self, klass: str | Iterable[str], method: str, access: Access) -> Callable[[Handler], Handler]:
        """Register a handler of `/{klass}-xxxx/{method}` (for one class or several)."""
        _check_access(access)
        classes = [klass] if isinstance(klass, str) else list(klass)

        def register(handler: Handler) -> Handler:
            for one in classes:
                self._register(one, method, True, access)(handler)
            return handler

        return register

    def _register(self, klass: str, method: str, with_object: bool, access: Access) -> Callable[[Handler], Handler]:
        _check_access(access)

        def register(handler: Handler) -> Handler:
            key = (klass, method, with_object)
            if key in self.handlers:
                raise ValueError(f"two handlers for {key}")
            self.handlers[key] = Route(handler, access)
            return handler

        return register

    def merge(self, *tables: Routes) -> Routes:
        """A table with this table's handlers and those of `tables`."""
        merged = Routes()
        for table in (self, *tables):
            for key, route in table.handlers.items():
                merged._register(*key, route.access)(route.handler)
            merged.raw_routes.extend(table.raw_routes)
        return merged

    def table(self) -> list[RouteInfo]:
        """Every route with its access: the DNAnexus POST routes, then the raw ones."""
        rows = [RouteInfo("POST", f"/{klass}-xxxx/{method}" if with_object else f"/{klass}/{method}", route.access)
                for (klass, method, with_object), route in self.handlers.items()]
        return rows + [RouteInfo(r.method, r.path, r.access) for r in self.raw_routes]


def _check_access(access: Access) -> None:
    if not isinstance(access, Access):
        raise TypeError(f"a route must declare its Access, not {access!r}")


__all__ = ["SERVICES", "Access", "Call", "Caller", "Route", "RouteInfo", "Routes", "Services", "once_per_nonce"]
