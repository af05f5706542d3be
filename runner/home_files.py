"""The engine daemon's file contract: what it keeps in the state folder (`$RUNNER_HOME`) for its clients.

    engine.lock    held (flock) by the one daemon of the home for its whole life
    engine.json    pid, port, url, socket, gateway, version, started: written once it listens, removed when it
                   exits cleanly (a daemon killed with SIGKILL leaves it behind, naming a dead pid)
    credentials    the user token, `{"auth_token_type": "Bearer", "auth_token": ...}`, mode 0600
    engine.log     the daemon's stdout and stderr (its starter redirects them there)
    engine.port    the port it listens on, kept across restarts so running jobs reach a restarted engine
    engine.alive   touched every few seconds while it runs: how long an outage lasted
    api/engine.sock  the Unix socket jobs without network access reach the engine through

The daemon is `python -m runner.api.daemon --home H`; it exits with EXIT_ALREADY_RUNNING when another
daemon holds the home's lock. Both the daemon and the client that starts it read these names from here.
"""

from __future__ import annotations

DAEMON_MODULE = "runner.api.daemon"
ENGINE_LOCK = "engine.lock"
ENGINE_JSON = "engine.json"
CREDENTIALS = "credentials"
ENGINE_LOG = "engine.log"
ENGINE_PORT = "engine.port"
ENGINE_ALIVE = "engine.alive"
API_SOCKET_NAME = "engine.sock"
EXIT_ALREADY_RUNNING = 75  # EX_TEMPFAIL: another engine holds this home's lock; it is starting
