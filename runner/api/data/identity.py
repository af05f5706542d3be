"""/system/whoami and /system/greet: who the caller acts for, and what a client is told when it starts.

There is one user here, `user-local`: a job's token acts for the user who launched the job, as on the platform.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from runner.api.core.routing import Access, Call, Routes
from runner.api.data.objects import LOCAL_USER
from runner.api.server import json_response

routes = Routes()


@routes.static("system", "whoami", Access.ANY)
async def whoami(call: Call) -> dict[str, Any]:
    """/system/whoami: the user the token acts for (a job acts for the user who launched it)."""
    return {"id": LOCAL_USER}


# A raw route: the dispatcher of DNAnexus routes always wants a token, and dxpy greets without one.
@routes.raw("POST", "/system/greet", Access.PUBLIC)
async def greet(request: web.Request) -> web.StreamResponse:
    """/system/greet {client?, version?} (no token needed): no messages and no update to offer."""
    return json_response({"messages": [], "update": {"available": False}})
