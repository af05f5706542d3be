"""Job networks on the real engine: a job on the internal bridge reaches the engine at the gateway, no one else.

Only addresses on this machine are tried: a server on the host, and containers on this engine.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator

import docker
import pytest

from runner.backends.base import LABEL_HOME, ContainerSpec
from runner.backends.docker import DockerBackend
from runner.backends.networks import ensure_job_network, network_gateway, remove_job_network
from runner.errors import RunnerError
from runner.spec.ids import new_id

pytestmark = pytest.mark.docker
LISTEN = "import socket; s = socket.create_server(('0.0.0.0', 8000)); [s.accept()[0].sendall(b'peer') for _ in iter(int, 1)]"
PROBE = """
import json, socket, sys, threading
results = {}
def attempt(name, host, port):
    try:
        with socket.create_connection((host, int(port)), timeout=2) as conn:
            results[name] = conn.recv(16).decode()
    except OSError as exc:
        results[name] = "unreachable: " + type(exc).__name__
threads = [threading.Thread(target=attempt, args=arg.split(":")) for arg in sys.argv[1:]]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(results))
"""


@pytest.fixture
def network(client: docker.DockerClient) -> Iterator[str]:
    name = f"runner-test-{uuid.uuid4().hex[:10]}"
    yield name
    remove_job_network(client, name)


class HostServer:
    """A TCP server on the host that greets every connection with `engine`."""

    def __init__(self, address: str) -> None:
        self.socket = socket.create_server((address, 0))
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"engine")


def listener(client: docker.DockerClient, image: str, network: str, home: str) -> tuple[str, str]:
    container = client.containers.run(image, ["python3", "-c", LISTEN], detach=True, network=network,
                                      labels={LABEL_HOME: home})
    container.reload()
    return container.id or "", container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]


async def probe(client: docker.DockerClient, image: str, network: str, home: str, *targets: str) -> dict[str, str]:
    backend = DockerBackend(client, home)
    spec = ContainerSpec(job_id=new_id("job"), tree_id="job-t", image=image, network_mode=network,
                         command=("python3", "-c", PROBE, *targets))
    out: list[str] = []
    result = await backend.run(spec, timeout_s=60, on_log=lambda stream, line: out.append(line),
                               stop_event=asyncio.Event())
    assert result.exit_code == 0, out
    parsed: dict[str, str] = json.loads(out[-1])
    return parsed


def test_ensure_job_network_is_idempotent_and_checks_the_kind(client: docker.DockerClient, network: str) -> None:
    first = ensure_job_network(client, network, internal=True)
    assert ensure_job_network(client, network, internal=True) == first
    attrs = client.api.inspect_network(first)
    assert attrs["Internal"] is True and attrs["Driver"] == "bridge"
    assert attrs["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    with pytest.raises(RunnerError, match="internal"):
        ensure_job_network(client, network, internal=False)


@pytest.mark.asyncio
async def test_an_internal_job_reaches_the_engine_at_the_gateway_and_no_container(
    client: docker.DockerClient, image: str, network: str
) -> None:
    home = f"/tmp/runner-test-home-{uuid.uuid4().hex[:8]}"
    ensure_job_network(client, network, internal=True)
    engine = HostServer(network_gateway(client, network))
    listeners = []
    try:
        listeners.append(listener(client, image, "bridge", home))
        listeners.append(listener(client, image, network, home))
        (_, other_bridge_ip), (_, same_network_ip) = listeners
        results = await probe(client, image, network, home, f"engine:{network_gateway(client, network)}:{engine.port}",
                              f"other_network:{other_bridge_ip}:8000", f"same_network:{same_network_ip}:8000")
    finally:
        engine.socket.close()
        for container_id, _ in listeners:
            client.api.remove_container(container_id, force=True)
    assert results["engine"] == "engine"
    assert results["other_network"].startswith("unreachable"), results
    assert results["same_network"].startswith("unreachable"), results


@pytest.mark.asyncio
async def test_a_job_with_network_access_also_reaches_the_engine_at_its_gateway(
    client: docker.DockerClient, image: str, network: str
) -> None:
    ensure_job_network(client, network, internal=False)
    gateway = network_gateway(client, network)
    engine = HostServer(gateway)
    try:
        results = await probe(client, image, network, "/tmp/runner-test-home", f"engine:{gateway}:{engine.port}")
    finally:
        engine.socket.close()
    assert results == {"engine": "engine"}
