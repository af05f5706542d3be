"""Real engine daemons (real store, real HTTP) shared by the integration tests: one per backend.

`engine` is the Docker backend's engine. A backend-neutral module sets `BACKENDS = ("docker", "local")`:
each of its tests that takes `engine` then runs on both (`test_x[docker]`, `test_x[local]`), the local
one on an engine with the `backend` setting `local` (jobs as host processes, no Docker); the tests it
names in `DOCKER_ONLY` (they look at containers, images or the isolation Docker gives) run on Docker only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.config import write_setting

DEFAULT_BACKEND = "docker"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the `engine` tests of a module that names its BACKENDS on each of them."""
    backends = getattr(metafunc.module, "BACKENDS", None)
    docker_only = metafunc.function.__name__ in getattr(metafunc.module, "DOCKER_ONLY", ())
    if backends and "engine" in metafunc.fixturenames and not docker_only:
        metafunc.parametrize("engine", backends, indirect=True, scope="session")


def _engine(home: Path) -> Iterator[EngineClient]:
    from runner.client.engine_process import connect, start_engine, stop_engine

    start_engine(home)
    try:
        yield connect(home, start=False)
    finally:
        stop_engine(home)


@pytest.fixture(scope="session")
def docker_engine_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state folder of the shared Docker-backend engine (short: it holds a Unix socket)."""
    return tmp_path_factory.mktemp("eng")


@pytest.fixture(scope="session")
def docker_engine(docker_engine_home: Path) -> Iterator[EngineClient]:
    """A client of a running engine daemon on the Docker backend; stopped at the end of the session."""
    yield from _engine(docker_engine_home)


@pytest.fixture(scope="session")
def local_engine_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state folder of the shared local-backend engine, its `backend` setting `local`."""
    home = tmp_path_factory.mktemp("loc")
    write_setting("backend", "local", home)
    return home


@pytest.fixture(scope="session")
def local_engine(local_engine_home: Path) -> Iterator[EngineClient]:
    """A client of a running engine daemon on the local backend (no Docker); stopped at the end."""
    yield from _engine(local_engine_home)


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> EngineClient:
    """The engine of the backend this test runs on: Docker's, unless the module's BACKENDS say otherwise."""
    backend = getattr(request, "param", DEFAULT_BACKEND)
    client: EngineClient = request.getfixturevalue(f"{backend}_engine")
    return client


@pytest.fixture(scope="session")
def engine_home(engine: EngineClient) -> Path:
    """The state folder of `engine` (for the command line and the files the engine keeps there)."""
    return Path(str(engine.ping()["home"]))
