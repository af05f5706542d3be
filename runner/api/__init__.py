"""The engine's HTTP API: the DNAnexus API subset jobs and clients use, plus `/runner/...` routes.

    server.py          the aiohttp application: body parsing, access checks, error rendering, dispatch
    _routes.py         the route table (`/{class}/{method}` and `/{class}-xxxx/{method}`), each with its Access
    _access.py         Access (what a route needs), Caller (a token's levels) and the object rules
    _limits.py         the documented limits on bodies: size, depth, names, paths, arrays, storable strings
    protocol_errors.py ApiRunner: malformed HTTP answered in the documented error shape
    routes.py          every table merged: what the daemon mounts
    jobs.py            /job/new, /job-xxxx/..., /system/findExecutions
    applets.py         /applet/new and /applet-xxxx/... (with _batch.py for validateBatch)
    files.py           /file/new, /file-xxxx/..., signed part uploads and downloads (_signing.py)
    containers.py      /container-xxxx/... and /project-xxxx/..., /project/new
    records.py         /record/new and /record-xxxx/...
    system.py          /system/resolveDataObjects, findDataObjects, describeDataObjects (_describers.py)
    runner_routes.py   /runner/ping, build, shutdown, logs, jwks
    identity.py        job identity tokens (JWT, RS256)
"""

from runner.api._routes import Services

__all__ = ["Services"]
