"""Malformed HTTP (a bad request line, bad headers, a header too long) answered in the documented error shape.

aiohttp answers those itself, in plain text, before any application code or middleware sees the request.
`ApiRunner` is the `web.AppRunner` to serve the API with: its connections answer such a request with
`{"error": {"type": "InvalidInput", "message", "details"}}` and aiohttp's status (400, 413, 414, 431, ...).
It reaches into aiohttp where no public hook exists (a Server's request-handler class), so it is kept here,
small, and tested against the aiohttp in use (tests/api/test_protocol_errors.py).
"""

from __future__ import annotations

import json
from http import HTTPStatus

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

JSON_TYPE = "application/json"


def error_document(status: int, message: str | None) -> dict[str, object]:
    """The error body of a protocol-level failure with `status`."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    kind = "InvalidInput" if 400 <= status < 500 else "InternalError"
    text = f"{phrase}: {message}" if message else phrase
    return {"error": {"type": kind, "message": f"{text} ({status})", "details": {}}}


class _JsonErrorHandler(RequestHandler):
    """aiohttp's connection handler, answering its own errors as JSON."""

    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        super().handle_error(request, status, exc, message)  # logs it, and checks nothing was sent yet
        shown = message if status < 500 else None  # a 500's details stay in the log
        response = web.Response(status=status, text=json.dumps(error_document(status, shown)),
                                content_type=JSON_TYPE)
        response.force_close()
        return response


class _JsonErrorServer(Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    """A `web.AppRunner` whose connections answer malformed HTTP in the documented error shape."""

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer
        return server
