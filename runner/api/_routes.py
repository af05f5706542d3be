"""The route table: which handler answers `/{class}/{method}` and `/{class}-xxxx/{method}`.

Handlers are `async def handler(call: Call) -> dict` registered on a `Routes` table with
`@routes.static("file", "new")` (for `/file/new`) or `@routes.on("file", "describe")` (for
`/file-xxxx/describe`, with `call.object_id` set). They raise `runner.errors.ApiError` subclasses
for anything the caller did wrong; the server renders them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from runner.errors import PermissionDenied
from runner.store.nonces import check_nonce, record_nonce

if TYPE_CHECKING:
    from runner.engine.driver import Engine
    from runner.store.db import Database


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the user, or a job (with its workspace and project context)."""

    kind: str  # "user" or "job"
    job_id: str | None = None
    workspace: str | None = None
    project: str | None = None

    @property
    def is_job(self) -> bool:
        """Whether the token is a job's."""
        return self.kind == "job"

    def may_read(self, container_id: str) -> bool:
        """A job reads its workspace and its project context; the user reads everything."""
        return not self.is_job or container_id in (self.workspace, self.project)

    def may_write(self, container_id: str) -> bool:
        """A job writes only into its own tree's workspace; the user writes everywhere."""
        return not self.is_job or container_id == self.workspace

    def require_read(self, container_id: str) -> None:
        """Raise PermissionDenied unless the caller may read `container_id`."""
        if not self.may_read(container_id):
            raise PermissionDenied(f"{self.job_id} may not read {container_id}: a job reads only its workspace "
                                   f"{self.workspace} and its project context {self.project}")

    def require_write(self, container_id: str) -> None:
        """Raise PermissionDenied unless the caller may write into `container_id`."""
        if not self.may_write(container_id):
            raise PermissionDenied(f"{self.job_id} may not write into {container_id}: a job writes only into its "
                                   f"workspace {self.workspace}")


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


class Routes:
    """A table of handlers keyed by (class, method, whether the path names an object)."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str, bool], Handler] = {}
        self.raw_routes: list[tuple[str, str, RawHandler]] = []

    def raw(self, method: str, path: str) -> Callable[[RawHandler], RawHandler]:
        """Register a plain aiohttp handler (GET downloads, PUT part uploads, streams under /runner/)."""

        def register(handler: RawHandler) -> RawHandler:
            self.raw_routes.append((method, path, handler))
            return handler

        return register

    def static(self, klass: str, method: str) -> Callable[[Handler], Handler]:
        """Register a handler of `/{klass}/{method}`."""
        return self._register(klass, method, False)

    def on(self, klass: str | Iterable[str], method: str) -> Callable[[Handler], Handler]:
        """Register a handler of `/{klass}-xxxx/{method}` (for one class or several)."""
        classes = [klass] if isinstance(klass, str) else list(klass)

        def register(handler: Handler) -> Handler:
            for one in classes:
                self._register(one, method, True)(handler)
            return handler

        return register

    def _register(self, klass: str, method: str, with_object: bool) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            key = (klass, method, with_object)
            if key in self.handlers:
                raise ValueError(f"two handlers for {key}")
            self.handlers[key] = handler
            return handler

        return register

    def merge(self, *tables: Routes) -> Routes:
        """A table with this table's handlers and those of `tables`."""
        merged = Routes()
        for table in (self, *tables):
            for key, handler in table.handlers.items():
                merged._register(*key)(handler)
            merged.raw_routes.extend(table.raw_routes)
        return merged
