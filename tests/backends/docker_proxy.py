"""A Unix socket in front of the real Docker engine's, that a test can cut and restore.

Cutting it is what a client sees when dockerd stops: every open connection closes at once and new ones
are closed as soon as they are made, while the real engine (shared with everything else on this machine)
goes on undisturbed. (New connections are accepted and closed rather than refused: the Docker SDK leaks the
socket of a refused connection, which the test run, with warnings as errors, would report.)
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

from runner.backends.docker_host import docker_host


class DockerProxy:
    """Forwards every connection made to `path` to the real engine's socket, until `cut()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.upstream = docker_host().removeprefix("unix://")
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.answering = False

    @property
    def url(self) -> str:
        """The DOCKER_HOST-style address of the proxy."""
        return f"unix://{self.path}"

    def start(self) -> None:
        """Listen at `path` and forward."""
        self.answering = True
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close every connection, and each new one at once, as a stopping dockerd does."""
        self.answering = False
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def refuse_new(self) -> None:
        """Close each new connection at once but keep those under way, as dockerd does as it starts stopping."""
        self.answering = False

    def restore(self) -> None:
        """Forward new connections again, as a restarted dockerd answers."""
        self.answering = True

    def close(self) -> None:
        """Stop listening and close everything."""
        self.cut()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.path.unlink(missing_ok=True)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                downstream, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.answering:
                downstream.close()
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.upstream)
            with self._lock:
                self._sockets.update((downstream, upstream))
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
