"""The Docker networks jobs join: an internal bridge for jobs without network access, a plain one for the rest.

On an `internal` bridge Docker drops every packet the host would forward, so a job there reaches no other
machine and no container on another network; the engine listens on the bridge's gateway address, which is
the host itself. What `internal` does not do: packets to any address *of the host* are delivered locally
(the INPUT chain, which Docker leaves alone), so a service listening on 0.0.0.0 or on another host address
(docker0's 172.17.0.1, the LAN address) is reachable from an internal job as well. Only host firewall rules
(INPUT, per bridge interface) would close that; the runner does not touch the host's firewall.

Both networks are made with inter-container traffic off (enable_icc=false): jobs do not see each other.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import docker
import docker.errors
import requests

from runner.backends.base import BackendError

DockerFailure = (docker.errors.DockerException, requests.RequestException)
LABEL_NETWORK = "runner.network"
BRIDGE_OPTIONS = {"com.docker.network.bridge.enable_icc": "false"}


def _find(client: docker.DockerClient, name: str) -> dict[str, Any] | None:
    # The name filter matches substrings; only the exact name counts.
    for summary in client.api.networks(names=[name]):
        if summary.get("Name") == name:
            details: dict[str, Any] = client.api.inspect_network(summary["Id"])
            return details
    return None


def _check(network: dict[str, Any], name: str, internal: bool) -> str:
    if bool(network.get("Internal")) != internal:
        wanted = "internal" if internal else "not internal"
        raise BackendError(
            f"Docker network {name} exists but is {'not ' if internal else ''}internal; jobs need it {wanted}: "
            f"remove it (docker network rm {name}) and the runner will recreate it"
        )
    if network.get("Driver") != "bridge":
        raise BackendError(f"Docker network {name} uses the {network.get('Driver')} driver, not bridge")
    return str(network["Id"])


def ensure_job_network(client: docker.DockerClient, name: str, internal: bool) -> str:
    """The ID of bridge network `name`, created when missing; `internal` keeps its jobs off other hosts."""
    try:
        existing = _find(client, name)
        if existing is not None:
            return _check(existing, name, internal)
        try:
            created = client.api.create_network(
                name,
                driver="bridge",
                internal=internal,
                check_duplicate=True,
                options=BRIDGE_OPTIONS,
                labels={LABEL_NETWORK: "internal" if internal else "bridge"},
            )
        except docker.errors.APIError as exc:
            # Another engine may have made it between our look and our create.
            existing = _find(client, name) if exc.status_code == 409 else None
            if existing is None:
                raise
            return _check(existing, name, internal)
        return str(created["Id"])
    except BackendError:
        raise
    except DockerFailure as exc:
        raise BackendError(f"preparing Docker network {name} failed: {exc}") from exc


def network_gateway(client: docker.DockerClient, name: str) -> str:
    """The host's address on network `name`: where jobs on it reach the engine."""
    try:
        network = _find(client, name)
    except DockerFailure as exc:
        raise BackendError(f"inspecting Docker network {name} failed: {exc}") from exc
    if network is None:
        raise BackendError(f"there is no Docker network {name}")
    for config in (network.get("IPAM") or {}).get("Config") or []:
        gateway = str(config.get("Gateway") or "").split("/")[0]
        if gateway:
            return gateway
        subnet = config.get("Subnet")
        if subnet and ipaddress.ip_network(subnet).version == 4:
            # Docker gives the bridge the subnet's first address when it names no gateway.
            return str(next(ipaddress.ip_network(subnet).hosts()))
    raise BackendError(f"Docker network {name} has no IPv4 subnet")


def remove_job_network(client: docker.DockerClient, name: str) -> None:
    """Remove network `name` if it exists and no container uses it any more."""
    try:
        network = _find(client, name)
        if network is not None and not network.get("Containers"):
            client.api.remove_network(network["Id"])
    except docker.errors.NotFound:
        pass
    except DockerFailure as exc:
        raise BackendError(f"removing Docker network {name} failed: {exc}") from exc
