"""The engine's HTTP API: the DNAnexus API subset jobs and clients use, plus `/runner/...` routes.

The map, by route family (each subpackage's own docstring says more):

    server.py            the aiohttp application: body parsing, access checks, error rendering, dispatch
    routes.py            all_routes(): every family's table merged, what the daemon mounts
    core/                what every route uses
      routing.py         Routes (`/{class}/{method}`, `/{class}-xxxx/{method}`, raw routes), Call, Services,
                         once_per_nonce
      access.py          Access (what a route needs), Caller (a token's levels) and the object rules
      limits.py          the documented limits on bodies: size, depth, names, paths, arrays, storable strings
      checks.py          typed readers of request bodies that name the field and what was expected
      fields.py          the `fields` / `defaultFields` selection of describe calls
      signing.py         signed, expiring URLs for part uploads and downloads
      protocol_errors.py ApiRunner: malformed HTTP answered in the documented error shape
    jobs/                jobs.py (/job/new, /job-xxxx/..., /system/findExecutions), identity.py (job identity
                         tokens, JWT RS256), job_log_socket.py (GET /job-xxxx/getLog/websocket)
    executables/         applets.py (/applet/new, /applet-xxxx/...), batch.py (validateBatch)
    data/                files.py, containers.py (projects and containers), records.py, system.py (the
                         /system/ searches), with objects.py, describers.py and metadata.py they share, and
                         data_routes.py, their tables merged
    runner/              /runner/...: runner_routes.py (ping, jwks, build, shutdown, debugHold, shell, logs),
                         maintenance.py (fsck), events.py (GET /runner/events), tree_stream.py (one tree's
                         logs and states, which /runner/logs and the log websocket follow)
"""

from runner.api.core.routing import Services

__all__ = ["Services"]
