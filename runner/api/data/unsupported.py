"""DNAnexus routes dxpy calls that the engine does not provide yet, answered with the documented error body.

`/app/new` answers InvalidState (422, which dxpy does not retry) until apps exist; an unknown route would
answer 404 ResourceNotFound, which reads as if the app were missing rather than apps.
"""

from __future__ import annotations

from typing import Any

from runner.api.core.routing import Access, Call, Routes
from runner.errors import InvalidState

routes = Routes()


@routes.static("app", "new", Access.ANY)
async def new_app(call: Call) -> dict[str, Any]:
    """/app/new: refused until the engine has apps; an applet (/applet/new, dx build) does the same work."""
    raise InvalidState("apps are not supported by this engine yet: create an applet instead "
                       "(/applet/new, or dx build without --app)", {"route": "/app/new"})
