"""The engine's API on the job's own loopback, carried over a Unix socket mounted from the host.

A job container without any network (`--network none`) still reaches the engine: the launcher listens on
127.0.0.1:DX_APISERVER_PORT inside the container and copies each connection to the engine's Unix socket.
Nothing else on the host, nor any other machine, is reachable from such a job.
"""

from __future__ import annotations

import socket
import threading

CHUNK = 1 << 20
BACKLOG = 64


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        # Pass the end of one direction on, so that the other can still finish (HTTP half-close).
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _bridge(client: socket.socket, socket_path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(socket_path)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _accept(listener: socket.socket, socket_path: str) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_bridge, args=(client, socket_path), daemon=True).start()


def start_forwarder(socket_path: str, port: int) -> socket.socket:
    """Listen on 127.0.0.1:`port` and carry every connection to the Unix socket at `socket_path`."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(BACKLOG)
    threading.Thread(target=_accept, args=(listener, socket_path), name="api-forwarder", daemon=True).start()
    return listener
