"""/system/whoami, /user-local/describe and /system/greet: who the caller acts for, and what a client is told.

There is one user here, `user-local`: a job's token acts for the user who launched the job, as on the platform.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from runner.api.core.routing import Access, Call, Routes
from runner.api.data.containers import PROJECT_REGION
from runner.api.data.objects import LOCAL_USER
from runner.api.server import json_response

routes = Routes()


@routes.static("system", "whoami", Access.ANY)
async def whoami(call: Call) -> dict[str, Any]:
    """/system/whoami: the user the token acts for (a job acts for the user who launched it)."""
    return {"id": LOCAL_USER}


# `user-local` is not an ID of 24 characters: its routes are those of a class of that name.
@routes.static(LOCAL_USER, "describe", Access.ANY)
async def describe_user(call: Call) -> dict[str, Any]:
    """/user-local/describe: the one user, who bills to itself (no org here)."""
    handle = LOCAL_USER.removeprefix("user-")
    return {"id": LOCAL_USER, "class": "user", "handle": handle, "first": handle, "middle": "", "last": "",
            "fullName": handle, "email": "", "billTo": LOCAL_USER, "permittedRegions": [PROJECT_REGION]}


# A raw route: the dispatcher of DNAnexus routes always wants a token, and dxpy greets without one.
@routes.raw("POST", "/system/greet", Access.PUBLIC)
async def greet(request: web.Request) -> web.StreamResponse:
    """/system/greet {client?, version?} (no token needed): no messages and no update to offer."""
    return json_response({"messages": [], "update": {"available": False}})
