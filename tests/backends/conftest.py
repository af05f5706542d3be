"""Fixtures of the backend tests that use the real Docker engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from runner.backends.base import LABEL_HOME
from runner.backends.docker import DockerBackend
from runner.build.images import DEFAULT_RELEASE, prepare_images
from runner.config import ensure_runner_home


@pytest.fixture(scope="module")
def image(client: docker.DockerClient) -> str:
    """The runtime image jobs run in (prepared once; a no-op when it is there)."""
    return prepare_images(client, DEFAULT_RELEASE, ensure_runner_home(), progress=lambda message: None).runtime_tag


@pytest.fixture
def backend(client: docker.DockerClient, tmp_path: Path) -> Iterator[DockerBackend]:
    """A Docker backend with a home of its own; its containers are removed afterwards."""
    backend = DockerBackend(client, tmp_path / "home")
    yield backend
    for row in client.api.containers(all=True, filters={"label": [f"{LABEL_HOME}={backend.home}"]}):
        client.api.remove_container(row["Id"], force=True)
