"""A real aiohttp server on 127.0.0.1 in a background thread, answering with canned handlers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CannedServer:
    """Routes `(method, path)` to handlers set by the test; records each request it gets."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.requests: list[dict[str, Any]] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        """Decorator: answer `method path` with the decorated coroutine."""
        def register(handler: Handler) -> Handler:
            self.handlers[(method, path)] = handler
            return handler
        return register

    def start(self) -> None:
        """Listen on an ephemeral port and serve from the background thread."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    def stop(self) -> None:
        """Stop serving and close the loop."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, shutdown_timeout=2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def _stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append({"method": request.method, "path": request.path, "query": dict(request.query),
                              "headers": dict(request.headers), "body": body})
        handler = self.handlers.get((request.method, request.path))
        if handler is None:
            error = {"type": "ResourceNotFound", "message": f"no route {request.path}", "details": {}}
            return web.json_response({"error": error}, status=404)
        return await handler(request)
