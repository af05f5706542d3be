"""dxpy's log sockets: `/opt/dnanexus/log/priority` and `/bulk`, relayed to the job's stderr.

On the platform dxpy's DXLogHandler sends each log record, as JSON, to these Unix datagram sockets; when
they are missing it prints "TODO: FIXME: the EE client should die if logging is not available" and logs
nothing. The launcher provides them so that the job's logging reaches its log. Records of level warning
and above also reach stderr through `logging.basicConfig()` (dxpy sets both up), so only the less severe
ones are relayed, to avoid printing a line twice.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading

LOG_DIR = "/opt/dnanexus/log"
SOCKETS = ("priority", "bulk")
# Syslog priorities: 4 is warning; larger numbers are less severe (notice, info, debug).
WARNING = 4
LEVEL_NAMES = {5: "NOTICE", 6: "INFO", 7: "DEBUG"}
MAX_DATAGRAM = 65536


def _relay(sock: socket.socket) -> None:
    while True:
        try:
            data = sock.recv(MAX_DATAGRAM)
        except OSError:
            return
        line = _format(data)
        if line is not None:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


def _format(data: bytes) -> str | None:
    """The stderr line for one record, or None when stderr shows it already (or it is not a record)."""
    try:
        record = json.loads(data.decode("utf-8", errors="replace"))
        level = int(record.get("level", WARNING))
        message = str(record.get("msg", ""))
    except (ValueError, TypeError, AttributeError):
        return None
    if level <= WARNING:
        return None
    return f"{LEVEL_NAMES.get(level, 'INFO')}: {message}"


def start_log_sockets(folder: str = LOG_DIR) -> list[socket.socket]:
    """Bind the two datagram sockets (when the folder can be made) and relay them from daemon threads."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return []
    bound = []
    for name in SOCKETS:
        path = os.path.join(folder, name)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            if os.path.exists(path):
                os.unlink(path)
            sock.bind(path)
            os.chmod(path, 0o666)
        except OSError:
            sock.close()
            continue
        threading.Thread(target=_relay, args=(sock,), name=f"dxlog-{name}", daemon=True).start()
        bound.append(sock)
    return bound
