"""The launcher's API forwarder on this host: TCP on loopback carried to a Unix socket, both directions."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from runner.launcher._forward import start_forwarder


def echo_upper(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                received = b""
                while chunk := conn.recv(65536):
                    received += chunk
                conn.sendall(received.upper())

    threading.Thread(target=serve, daemon=True).start()
    return server


def test_connections_are_carried_both_ways_with_half_close(tmp_path: Path) -> None:
    server = echo_upper(tmp_path / "engine.sock")
    listener = start_forwarder(str(tmp_path / "engine.sock"), 0)
    port = listener.getsockname()[1]
    try:
        for payload in (b"hello", b"x" * (3 << 20)):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(payload)
                conn.shutdown(socket.SHUT_WR)
                answer = b""
                while chunk := conn.recv(65536):
                    answer += chunk
            assert answer == payload.upper()
    finally:
        listener.close()
        server.close()


def test_a_missing_engine_socket_closes_the_connection(tmp_path: Path) -> None:
    listener = start_forwarder(str(tmp_path / "absent.sock"), 0)
    try:
        with socket.create_connection(("127.0.0.1", listener.getsockname()[1]), timeout=10) as conn:
            assert conn.recv(10) == b""
    finally:
        listener.close()
