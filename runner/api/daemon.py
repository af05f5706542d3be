"""The engine daemon: `python -m runner.api.daemon --home H` (what `runner engine start` spawns).

It holds `H/engine.lock` for its whole life (a second daemon exits with EXIT_ALREADY_RUNNING), opens the
store, makes sure the user token and identity key exist, connects to Docker, and serves the API on
127.0.0.1, on the Unix socket `H/api/engine.sock` (for jobs without network access) and on the gateway of
the jobs' Docker network (for jobs with access.network). `H/engine.json` says where, once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import hashlib
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from aiohttp import web

from runner import __version__
from runner.api._routes import Services
from runner.api.identity import IdentityKeys
from runner.api.routes import all_routes
from runner.api.server import make_app
from runner.backends.docker import DockerBackend
from runner.backends.docker_host import connect
from runner.backends.gpus import host_capacity, host_gpus
from runner.backends.networks import ensure_job_network, network_gateway
from runner.engine._container import API_SOCKET_NAME, Reachability
from runner.engine.driver import Engine
from runner.engine.scheduler import Resources
from runner.errors import RunnerError
from runner.store.db import Database, now_ms
from runner.store.objects import create_container
from runner.store.tokens import user_token
from runner.store.uploads import recover_uploads, sweep_periodically

log = logging.getLogger("runner.engine")
EXIT_ALREADY_RUNNING = 75
JOB_NETWORK = "applet-runner-jobs"
DEFAULT_PROJECT_NAME = "local"
MAX_SOCKET_PATH = 107


@contextmanager
def engine_lock(home: Path) -> Iterator[IO[str] | None]:
    """Hold `home/engine.lock`; yields None when another engine holds it."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(home / "engine.lock", "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield handle


def api_socket_dir(home: Path) -> Path:
    """The folder of the engine's Unix socket: `home/api`, or a short one under /tmp for a deep `home`.

    A Unix socket's path is limited to 107 bytes on Linux.
    """
    preferred = home / "api"
    if len(str(preferred / API_SOCKET_NAME).encode()) <= MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"applet-runner-{digest}"


def default_project(db: Database) -> str:
    """The project runs go to unless told otherwise, made on first use."""
    rows = db.query("SELECT id FROM containers WHERE class = 'project' AND name = ? ORDER BY created LIMIT 1",
                    (DEFAULT_PROJECT_NAME,))
    return str(rows[0]["id"]) if rows else create_container(db, "project", DEFAULT_PROJECT_NAME)


def _write_engine_json(home: Path, document: dict[str, object]) -> None:
    temporary = home / ".engine.json.tmp"
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(home / "engine.json")


def _capacity(home: Path) -> Resources:
    capacity = host_capacity(home)
    try:
        gpus = len(host_gpus())
    except RunnerError:
        gpus = 0
    return Resources(float(capacity.cpus), capacity.memory_bytes, gpus)


async def serve(home: Path, port: int) -> None:
    """Run the engine until SIGTERM, SIGINT or /runner/shutdown."""
    db = Database(home / "runner.db")
    recover_uploads(db, home)
    client = connect()
    token = user_token(db, home)
    del token  # written to home/credentials for the clients
    socket_dir = api_socket_dir(home)
    socket_dir.mkdir(exist_ok=True, mode=0o700)
    (socket_dir / API_SOCKET_NAME).unlink(missing_ok=True)
    await asyncio.to_thread(ensure_job_network, client, JOB_NETWORK, False)
    gateway = await asyncio.to_thread(network_gateway, client, JOB_NETWORK)
    backend = DockerBackend(client, home)
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, shutdown.set)
    runner_app: web.AppRunner | None = None
    engine: Engine | None = None
    sweeper = asyncio.create_task(sweep_periodically(db, home))
    try:
        reach = Reachability(port=0, socket_dir=socket_dir, network=JOB_NETWORK, gateway=gateway)
        engine = Engine(db, backend, home, reach, _capacity(home))
        services = Services(db=db, home=home, engine=engine, default_project=default_project(db),
                            extras={"docker_client": client, "identity_keys": IdentityKeys.load_or_create(home),
                                    "shutdown": shutdown})
        runner_app = web.AppRunner(make_app(services, all_routes()), access_log=None)
        await runner_app.setup()
        local = web.TCPSite(runner_app, "127.0.0.1", port)
        await local.start()
        bound = local._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        engine.reach = Reachability(port=bound, socket_dir=socket_dir, network=JOB_NETWORK, gateway=gateway)
        await web.TCPSite(runner_app, gateway, bound).start()
        await web.UnixSite(runner_app, str(socket_dir / API_SOCKET_NAME)).start()
        (socket_dir / API_SOCKET_NAME).chmod(0o666)
        url = f"http://127.0.0.1:{bound}"
        services.extras["url"] = url
        await backend.reap_orphans(home, [])
        await engine.start()
        _write_engine_json(home, {"pid": os.getpid(), "port": bound, "url": url, "version": __version__,
                                  "socket": str(socket_dir / API_SOCKET_NAME), "gateway": gateway,
                                  "started": now_ms()})
        log.info("engine %s listening at %s, on %s:%s and on %s", __version__, url, gateway, bound,
                 socket_dir / API_SOCKET_NAME)
        await shutdown.wait()
        log.info("shutting down")
    finally:
        sweeper.cancel()
        (home / "engine.json").unlink(missing_ok=True)
        if engine is not None:
            await engine.close()
        if runner_app is not None:
            await runner_app.cleanup()
        db.close()
        client.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the daemon process."""
    parser = argparse.ArgumentParser(prog="python -m runner.api.daemon")
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--port", type=int, default=int(os.environ.get("RUNNER_ENGINE_PORT", "0")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    home = args.home.expanduser().absolute()
    with engine_lock(home) as lock:
        if lock is None:
            print(f"another engine already runs for {home}", file=sys.stderr)
            return EXIT_ALREADY_RUNNING
        try:
            asyncio.run(serve(home, args.port))
        except RunnerError as exc:
            print(f"the engine could not start: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
