"""The job's HTTPS app ports, served to the engine's proxy on Unix sockets in the job folder.

For each port P of `httpsApp.ports` the launcher listens on `/opt/applet-runner/job/https-P.sock` (the job's
`work/` folder on the host) and relays every connection to 127.0.0.1:P inside the container. The job needs no
network and publishes no port: only the engine, which can open the job folder, reaches the app. Each
connection starts with one line from the launcher, `ok` once the app accepted, or `refused <reason>` while
nothing listens on P yet (the proxy's 502 page says so).
"""

from __future__ import annotations

import os
import socket
import threading

from . import https_socket_name
from ._forward import _pump

BACKLOG = 64
READY = b"ok\n"
REFUSED = b"refused "


def _dial(port: int) -> socket.socket:
    last: OSError = ConnectionRefusedError(f"nothing listens on port {port}")
    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        app = socket.socket(family, socket.SOCK_STREAM)
        try:
            app.connect((address, port))
            return app
        except OSError as exc:
            app.close()
            last = exc
    raise last


def _relay(proxy: socket.socket, port: int) -> None:
    try:
        app = _dial(port)
    except OSError as exc:
        try:
            proxy.sendall(REFUSED + (exc.strerror or str(exc)).encode("utf-8", "replace")[:200] + b"\n")
        except OSError:
            pass
        proxy.close()
        return
    try:
        proxy.sendall(READY)
    except OSError:
        app.close()
        proxy.close()
        return
    back = threading.Thread(target=_pump, args=(app, proxy), daemon=True)
    back.start()
    _pump(proxy, app)
    back.join()
    proxy.close()
    app.close()


def _accept(listener: socket.socket, port: int) -> None:
    while True:
        try:
            proxy, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_relay, args=(proxy, port), daemon=True).start()


def serve_port(folder: str, port: int, target: int = 0) -> socket.socket:
    """Listen on `folder`/https-`port`.sock and relay each connection to 127.0.0.1:`target` (default `port`)."""
    path = os.path.join(folder, https_socket_name(port))
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    # The engine may run as another user than the job's root: it must be able to connect.
    os.chmod(path, 0o666)
    listener.listen(BACKLOG)
    threading.Thread(target=_accept, args=(listener, target or port), name=f"https-{port}", daemon=True).start()
    return listener


def parse_ports(text: str) -> list[int]:
    """The ports of RUNNER_HTTPS_PORTS (`443,8080`); ValueError for anything else."""
    ports = [int(part) for part in text.split(",") if part.strip()]
    if not all(0 < port < 65536 for port in ports):
        raise ValueError(f"not ports: {text!r}")
    return ports
