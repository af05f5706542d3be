"""Following a real container's log: both streams in one request, skipped lines, the last line, long lines."""

from __future__ import annotations

import asyncio
import threading

import docker
import pytest

from runner.backends._logs import follow
from runner.backends.base import LABEL_HOME
from runner.backends.docker import DockerBackend
from tests.backends.test_docker_backend import job_spec, run

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]


def _container(client: docker.DockerClient, backend: DockerBackend, image: str, script: str) -> str:
    created = client.api.create_container(image, ["bash", "-c", script], labels={LABEL_HOME: backend.home})
    return str(created["Id"])


def _follow_all(client: docker.DockerClient, handle: str, skip: dict[str, int]) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
    lock = threading.Lock()

    def push(stream: str, chunk: list[str]) -> None:
        with lock:
            lines[stream].extend(chunk)

    follow(client.api, handle, push, skip, lambda: client.api.wait(handle))
    return lines


async def test_both_streams_come_whole_and_a_resumed_follow_skips_what_was_delivered(
    client: docker.DockerClient, backend: DockerBackend, image: str,
) -> None:
    script = "for i in $(seq 1 300); do echo out$i; echo err$i >&2; done; printf 'out-end'; printf 'err-end' >&2"
    handle = _container(client, backend, image, script)
    client.api.start(handle)
    first = await asyncio.to_thread(_follow_all, client, handle, {})
    assert first["stdout"] == [f"out{i}" for i in range(1, 301)] + ["out-end"]
    assert first["stderr"] == [f"err{i}" for i in range(1, 301)] + ["err-end"]
    # A restarted engine reads the exited container's log again, leaving out what its job's log holds.
    again = await asyncio.to_thread(_follow_all, client, handle, {"stdout": 299, "stderr": 10})
    assert again == {"stdout": ["out300", "out-end"], "stderr": first["stderr"][10:]}


async def test_the_last_unterminated_line_is_never_lost(backend: DockerBackend, image: str) -> None:
    # Docker 20.10 ends a follow before the last, unterminated line about one run in three: the read after
    # the exit must bring it, once, every time.
    specs = [job_spec(image, "bash", "-c", f"echo first; printf 'partial {n}'; exit 3") for n in range(10)]
    for n, (result, lines) in enumerate(await asyncio.gather(*(run(backend, spec) for spec in specs))):
        assert result.exit_code == 3
        assert lines == {"stdout": ["first", f"partial {n}"], "stderr": []}


async def test_output_over_seconds_is_delivered_once_in_order(backend: DockerBackend, image: str) -> None:
    # The read after the exit starts a second before the last line followed: what it finds again is dropped.
    script = "for i in $(seq 1 30); do echo line$i; echo warn$i >&2; sleep 0.05; done; echo last"
    result, lines = await run(backend, job_spec(image, "bash", "-c", script))
    assert result.exit_code == 0
    assert lines == {"stdout": [f"line{i}" for i in range(1, 31)] + ["last"],
                     "stderr": [f"warn{i}" for i in range(1, 31)]}


async def test_a_line_docker_splits_into_pieces_arrives_as_one(backend: DockerBackend, image: str) -> None:
    # Docker logs a line over 16 KiB in pieces (frames of their own, all with the line's stamp): the job's log
    # still has it as one line, its last piece too when the follow ended before it (one run in two).
    script = "import sys; print('x' * 40000); print('y'); sys.stderr.write('z' * 20000)"
    specs = [job_spec(image, "python3", "-c", script) for _ in range(4)]
    for result, lines in await asyncio.gather(*(run(backend, spec) for spec in specs)):
        assert result.exit_code == 0
        assert lines == {"stdout": ["x" * 40000, "y"], "stderr": ["z" * 20000]}
