"""`runner tui --web`: the same TUI served to browsers by textual-serve, one TUI process per browser tab."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import shlex
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

from runner.errors import UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8566
PORT_TRIES = 100
EXIT_INTERRUPTED = 130
WILDCARD_HOSTS = ("0.0.0.0", "::", "")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Address:
    """Where the TUI is served: the host to bind, its port, and the URL a browser opens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """The page's URL (a wildcard host is named by this machine's host name)."""
        name = socket.gethostname() if self.host in WILDCARD_HOSTS else self.host
        return f"http://{f'[{name}]' if ':' in name else name}:{self.port}"


def session_command(paths: Sequence[Path], home: Path) -> str:
    """The shell command textual-serve runs for each browser tab: `runner tui PATHS` on `home`'s engine."""
    argv = ["env", f"RUNNER_HOME={home}", sys.executable, "-m", "runner", "tui"]
    return shlex.join([*argv, *(str(path.resolve()) for path in paths)])


def resolve_address(host: str, port: int | None) -> Address:
    """The host and port to serve on: `port`, refused when in use, else the first free one from 8566."""
    if port is not None:
        if not _port_free(host, port):
            raise UsageError(f"--port {port}: the port is already in use on {host}; choose another, "
                             f"or leave --port out for the first free one from {DEFAULT_PORT}")
        return Address(host, port)
    for candidate in range(DEFAULT_PORT, DEFAULT_PORT + PORT_TRIES):
        if _port_free(host, candidate):
            return Address(host, candidate)
    raise UsageError(f"no free port on {host} from {DEFAULT_PORT} to {DEFAULT_PORT + PORT_TRIES - 1}; "
                     "choose one with --port")


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback address (only this machine can reach it)."""
    return all(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]).is_loopback
               for _, sockaddr in _addresses(host, 0))


def exposure_warning(host: str) -> str | None:
    """The warning to print when the TUI on `host` is reachable from other machines, else None."""
    if is_loopback(host):
        return None
    return (f"warning: --host {host} is not a loopback address: anyone who can reach it controls your jobs "
            "through the TUI (runs, terminates, re-runs them), with no password")


def serve(paths: Sequence[Path], home: Path, address: Address) -> int:
    """Serve the TUI until Ctrl+C (or SIGTERM); returns the exit status, 130."""
    try:
        TuiServer(session_command(paths, home), address).serve()
    except OSError as exc:  # the port was taken between our probe and the bind
        raise UsageError(f"--port {address.port}: cannot listen on {address.host} ({exc.strerror})") from exc
    return EXIT_INTERRUPTED


class TuiServer(Server):
    """textual-serve's server: quiet, one line once listening, deaf to websockets from other sites' pages."""

    def __init__(self, command: str, address: Address) -> None:
        super().__init__(command, host=address.host, port=address.port, title="applet-runner",
                         public_url=address.url)
        self.address = address
        self.sessions: set[asyncio.Task[object]] = set()

    def initialize_logging(self) -> None:
        """Warnings and errors only, one line each on stderr (no access log, no banner)."""
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logging.basicConfig(level=logging.WARNING, handlers=[handler])

    def serve(self, debug: bool = False) -> None:
        """Listen, say where once listening, and serve until SIGINT or SIGTERM."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        # run_app calls `print` once every site listens: a browser opening the URL then finds the server.
        web.run_app(self._make_app(), host=self.address.host, port=self.address.port, handle_signals=False,
                    loop=loop, print=lambda *_: self.say_serving())

    def say_serving(self) -> None:
        """The one line `runner tui --web` prints: where the TUI is."""
        print(f"serving the TUI at {self.address.url} (Ctrl+C to stop)", flush=True)

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: textual-serve's banner is left out, `serve` says where once listening."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Quit every session's TUI, which ends its websocket, so Ctrl+C does not wait on open tabs."""
        for task in list(self.sessions):
            task.cancel()
        await asyncio.gather(*self.sessions, return_exceptions=True)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Start a session's TUI, unless a page of another site opened the websocket."""
        origin = request.headers.get("Origin")
        if origin is not None and not self.admits(origin):
            log.warning("refused a session opened by a page of %s (not %s)", origin, self.address.url)
            raise web.HTTPForbidden(text=f"refused: a page of {origin} may not drive this TUI; "
                                         f"open {self.address.url}\n")
        task = asyncio.current_task()
        assert task is not None  # aiohttp runs each handler in a task
        self.sessions.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions.discard(task)

    def admits(self, origin: str) -> bool:
        """Whether a page of `origin` is our own page: our port, on our host name or a loopback one."""
        # Browsers let any site's page open a websocket to 127.0.0.1; only the Origin header tells them apart.
        parts = urlsplit(origin)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        name = (parts.hostname or "").lower()
        ours = urlsplit(self.address.url).hostname or ""
        return port == self.address.port and (name == ours.lower() or _loopback_name(name))


def _loopback_name(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _addresses(host: str, port: int) -> list[tuple[socket.AddressFamily, tuple[Any, ...]]]:
    """(family, socket address) for each address `host` names, as a server binds them."""
    try:
        found = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host!r}: not a host name or address this machine knows ({exc.strerror})") \
            from exc
    return [(family, tuple(sockaddr)) for family, _, _, _, sockaddr in found]


def _port_free(host: str, port: int) -> bool:
    """Whether every address of `host` can bind `port` (as aiohttp will: with SO_REUSEADDR)."""
    for family, sockaddr in _addresses(host, port):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return False
                raise UsageError(f"--host {host}: cannot listen there ({exc.strerror}); "
                                 "give an address of this machine") from exc
    return True
