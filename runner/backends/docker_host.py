"""Reaching the host's Docker engine, with a clear problem and fix when it does not answer."""

from __future__ import annotations

import os
import socket

import docker
import docker.errors
import requests

from runner.errors import EnvironmentProblem

CONNECT_TIMEOUT_S = 10
DOCKER_FIX = "run scripts/ensure-docker (as root) or start your Docker engine"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def connect(timeout: int = CONNECT_TIMEOUT_S) -> docker.DockerClient:
    """A client for the engine the environment names (DOCKER_HOST, else the local socket), pinged."""
    problem = _unix_socket_problem(docker_host())
    if problem:
        raise _unreachable_because(problem)
    try:
        client = docker.from_env(timeout=timeout)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise _unreachable(exc) from exc
    try:
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        client.close()
        raise _unreachable(exc) from exc
    return client


def engine_version(client: docker.DockerClient) -> str:
    """The engine's version, e.g. `20.10.24+dfsg1`."""
    try:
        version = client.version().get("Version")
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise EnvironmentProblem(f"the Docker engine stopped answering: {_reason(exc)}", DOCKER_FIX) from exc
    return str(version) if version else "unknown"


def docker_host() -> str:
    """The engine address the client uses: `$DOCKER_HOST`, else the local socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def _unix_socket_problem(host: str) -> str | None:
    # Checked here because the SDK leaks its socket when a unix socket cannot be connected to.
    if not host.startswith("unix://"):
        return None
    path = host.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(CONNECT_TIMEOUT_S)
        try:
            probe.connect(path)
        except FileNotFoundError:
            return "no such file or directory"
        except PermissionError:
            return "permission denied"
        except ConnectionRefusedError:
            return "connection refused"
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _unreachable(exc: BaseException) -> EnvironmentProblem:
    return _unreachable_because(_reason(exc))


def _unreachable_because(reason: str) -> EnvironmentProblem:
    fix = DOCKER_FIX
    if reason == "permission denied":
        fix += ", or add yourself to the docker group (then log in again)"
    return EnvironmentProblem(f"no Docker engine answers at {docker_host()} ({reason})", fix)


def _reason(exc: BaseException) -> str:
    # The SDK wraps the interesting part (no such socket, permission denied) a few causes deep.
    text = str(exc).strip()
    for marker in ("No such file or directory", "Permission denied", "Connection refused", "timed out"):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0][:300] if text else type(exc).__name__
