"""The engine daemon: `python -m runner.daemon --home H` (what `runner engine start` spawns).

It holds `H/engine.lock` for its whole life (a second daemon exits with EXIT_ALREADY_RUNNING), opens the
store, makes sure the user token and identity key exist, connects to Docker, and serves the API on
127.0.0.1, on the Unix socket `H/api/engine.sock` (for jobs without network access) and on the gateway of
the jobs' Docker network (for jobs with access.network). `H/engine.json` says where, once it listens.
With the `backend` setting `local` it never touches Docker: jobs are host processes that reach the engine
at 127.0.0.1 (runner.backends.local).

A restarted engine carries on with the jobs of the one before (a `kill -9` leaves their containers running):
it listens on the same port again (`H/engine.port`, kept across restarts, since engine.json is removed on a
clean stop), recreates the Unix socket in the same folder (bind-mounted into jobs, so they see the new one),
and reads how long the previous engine was away from `H/engine.alive`, which it touches every few seconds.
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
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from aiohttp import web

from runner import __version__
from runner.api import Services
from runner.api.core.protocol_errors import ApiRunner
from runner.api.jobs.identity import IdentityKeys
from runner.api.routes import all_routes
from runner.api.server import make_app
from runner.backends.base import Backend
from runner.backends.docker import DockerBackend
from runner.backends.docker_host import connect
from runner.backends.gpus import gpu_inventory, host_capacity
from runner.backends.local import LocalBackend, limit_mode
from runner.backends.networks import ensure_job_network, network_gateway
from runner.build.local_env import ensure_local_env
from runner.config import current_settings, load_settings
from runner.engine import Reachability, Restart, live_jobs
from runner.engine.driver import Engine
from runner.engine.scheduler import Host, Resources
from runner.errors import RunnerError
from runner.home_files import (
    API_SOCKET_NAME,
    ENGINE_ALIVE,
    ENGINE_JSON,
    ENGINE_LOCK,
    ENGINE_PORT,
    EXIT_ALREADY_RUNNING,
)
from runner.https.proxy import PROXY_KEY, HttpsProxy
from runner.https.sessions import Sessions
from runner.store.db import Database, now_ms
from runner.store.objects import create_container
from runner.store.tokens import user_token
from runner.store.uploads import recover_uploads, sweep_periodically

log = logging.getLogger("runner.engine")
JOB_NETWORK = "applet-runner-jobs"
DEFAULT_PROJECT_NAME = "local"
MAX_SOCKET_PATH = 107
HEARTBEAT_S = 5.0


@contextmanager
def engine_lock(home: Path) -> Iterator[IO[str] | None]:
    """Hold `home/engine.lock`; yields None when another engine holds it."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(home / ENGINE_LOCK, "a+", encoding="utf-8") as handle:
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
    temporary = home / f".{ENGINE_JSON}.tmp"
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(home / ENGINE_JSON)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As asyncio's server does: a port whose old connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(home: Path, asked: int, hosts: tuple[str, ...]) -> tuple[int, int | None]:
    """The port to listen on (0: any), and the previous engine's port when it is taken by something else.

    An explicit `asked` port wins; else the port of `home/engine.port`, so that running jobs reach the
    restarted engine where they were told it is.
    """
    if asked:
        return asked, None
    try:
        previous = int((home / ENGINE_PORT).read_text().strip())
    except (OSError, ValueError):
        return 0, None
    if not 0 < previous < 65536:
        return 0, None
    if all(_port_free(host, previous) for host in hosts):
        return previous, None
    log.warning("port %s of the previous engine is taken by another program: listening on a new port; running "
                "jobs with network access were told port %s and will fail when they call the engine",
                previous, previous)
    return 0, previous


def last_heartbeat_ms(home: Path) -> int | None:
    """When the previous engine last touched `home/engine.alive` (ms since the epoch), if it ever did."""
    try:
        return int((home / ENGINE_ALIVE).stat().st_mtime * 1000)
    except OSError:
        return None


async def _heartbeat(home: Path) -> None:
    path = home / ENGINE_ALIVE
    while True:
        path.touch()
        await asyncio.sleep(HEARTBEAT_S)


def _capacity(home: Path) -> tuple[Resources, Host]:
    """The host's size, and what the scheduler hands out: this process's CPU IDs, the memory, the GPUs."""
    capacity = host_capacity(home)
    try:
        inventory = gpu_inventory()
    except RunnerError:
        inventory = None
    gpu_ids = tuple(gpu.index for gpu in inventory.gpus) if inventory else ()
    host = Host(_cpu_ids(capacity.cpus), capacity.memory_bytes, gpu_ids,
                nvidia_driver=inventory.driver_version if inventory else None)
    return Resources(float(len(host.cpu_ids)), capacity.memory_bytes, len(gpu_ids)), host


def _cpu_ids(count: int) -> tuple[int, ...]:
    try:
        return tuple(sorted(os.sched_getaffinity(0)))
    except AttributeError:  # macOS has no sched_getaffinity
        return tuple(range(count))


@dataclass(slots=True)
class Wiring:
    """What the backend brings to the engine: itself, where jobs reach the API, services, and its teardown."""

    name: str
    backend: Backend
    gateway: str | None = None
    network: str | None = None
    extras: dict[str, object] = field(default_factory=dict)
    close: Callable[[], None] = lambda: None


async def docker_wiring(home: Path) -> Wiring:
    """The Docker backend: a client, the jobs' network and its gateway (the engine listens there too)."""
    client = connect()
    await asyncio.to_thread(ensure_job_network, client, JOB_NETWORK, False)
    gateway = await asyncio.to_thread(network_gateway, client, JOB_NETWORK)
    backend = DockerBackend(client, home, container_pool=lambda: current_settings(home).container_pool)
    backend.remove_in_background = True  # a container's removal is not on its job's path to done
    return Wiring("docker", backend, gateway, JOB_NETWORK, {"docker_client": client}, client.close)


def local_wiring(home: Path) -> Wiring:
    """The local backend: host processes limited by cgroups where the engine may, no Docker at all."""
    mode = limit_mode()

    def job_env() -> Path:
        return ensure_local_env(home, lambda message: log.info("%s", message))

    log.warning("the local backend runs jobs as this user's processes, with no isolation of files or network: "
                "run only applets you trust; limits: %s", mode.kind if mode.kind == "cgroup" else
                f"watchdog ({mode.why})")
    return Wiring("local", LocalBackend(home, job_env, mode), extras={"docker_client": None})


async def serve(home: Path, port: int) -> None:
    """Run the engine until SIGTERM, SIGINT or /runner/shutdown."""
    db = Database(home / "runner.db")
    recover_uploads(db, home)
    wiring = local_wiring(home) if current_settings(home).backend == "local" else await docker_wiring(home)
    token = user_token(db, home)
    del token  # written to home/credentials for the clients
    socket_dir = api_socket_dir(home)
    socket_dir.mkdir(exist_ok=True, mode=0o700)
    (socket_dir / API_SOCKET_NAME).unlink(missing_ok=True)
    backend, gateway, network = wiring.backend, wiring.gateway, wiring.network
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, shutdown.set)
    runner_app: ApiRunner | None = None
    engine: Engine | None = None
    idle_minutes = load_settings(home).settings.https_session_idle_minutes
    https_proxy = HttpsProxy(db, home, Sessions(idle_s=idle_minutes * 60))
    sweeper = asyncio.create_task(sweep_periodically(db, home))
    away_since = last_heartbeat_ms(home)
    port, moved_from = choose_port(home, port, ("127.0.0.1", gateway) if gateway else ("127.0.0.1",))
    heartbeat = asyncio.create_task(_heartbeat(home))
    try:
        reach = Reachability(port=0, socket_dir=socket_dir, network=network, gateway=gateway)
        capacity, host = _capacity(home)
        engine = Engine(db, backend, home, reach, capacity, host=host)
        services = Services(db=db, home=home, engine=engine, default_project=default_project(db),
                            extras={**wiring.extras, "identity_keys": IdentityKeys.load_or_create(home),
                                    "shutdown": shutdown, PROXY_KEY: https_proxy})
        runner_app = ApiRunner(make_app(services, all_routes()), access_log=None)
        await runner_app.setup()
        local = web.TCPSite(runner_app, "127.0.0.1", port)
        await local.start()
        bound = int(runner_app.addresses[0][1])  # the only site started yet: its port, when `port` was 0
        engine.reach = Reachability(port=bound, socket_dir=socket_dir, network=network, gateway=gateway)
        if gateway:
            await web.TCPSite(runner_app, gateway, bound).start()
        await web.UnixSite(runner_app, str(socket_dir / API_SOCKET_NAME)).start()
        (socket_dir / API_SOCKET_NAME).chmod(0o666)
        https_port = await https_proxy.start_kept()
        url = f"http://127.0.0.1:{bound}"
        services.extras["url"] = url
        (home / ENGINE_PORT).write_text(f"{bound}\n", encoding="utf-8")
        # The containers of live jobs are the engine's to carry on with; only the others are orphans.
        live = [job["id"] for job in live_jobs(engine)]
        if live:
            log.info("carrying on with %d job(s) the previous engine left: %s", len(live), ", ".join(live))
        await backend.reap_orphans(home, live)
        await engine.start(Restart(away_since_ms=away_since, port_moved_from=moved_from))
        _write_engine_json(home, {"pid": os.getpid(), "port": bound, "url": url, "version": __version__,
                                  "socket": str(socket_dir / API_SOCKET_NAME), "gateway": gateway,
                                  "backend": wiring.name, "httpsProxyPort": https_port, "started": now_ms()})
        log.info("engine %s (%s backend) listening at %s, on %s:%s and on %s", __version__, wiring.name, url,
                 gateway or "no job network", bound, socket_dir / API_SOCKET_NAME)
        await shutdown.wait()
        log.info("shutting down")
    finally:
        sweeper.cancel()
        heartbeat.cancel()
        (home / ENGINE_JSON).unlink(missing_ok=True)
        if engine is not None:
            await engine.close()
        await https_proxy.close()
        if runner_app is not None:
            await runner_app.cleanup()
        db.close()
        wiring.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the daemon process."""
    parser = argparse.ArgumentParser(prog="python -m runner.daemon")
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
