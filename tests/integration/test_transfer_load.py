"""Load: 50 clients at once, each uploading random data (0 bytes to 4 MiB, many multi-part, some with the
same content as another) and downloading it back while the others still upload, through the real engine and
the client's own transfer code: every byte comes back, also while `runner fsck --repair` runs beside them."""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.client.engine_process import connect, start_engine, stop_engine
from runner.client.files import download_file, upload_file

pytestmark = pytest.mark.docker
MIB = 1 << 20
FILES = 50
# Edges first (empty, one byte, a part exactly, a part and a byte), then random sizes up to 4 MiB.
EDGE_SIZES = [0, 1, MIB, MIB + 1, 4 * MIB]
DAMAGE = {"content-lost", "part-lost", "blob-unreferenced", "blob-stray", "part-orphan", "database"}


def _contents() -> list[bytes]:
    chance = random.Random(8)
    sizes = EDGE_SIZES + [chance.randrange(0, 4 * MIB) for _ in range(FILES - len(EDGE_SIZES))]
    contents = [os.urandom(size) for size in sizes]
    # Equal content uploaded at the same time shares its blobs.
    for index in range(len(EDGE_SIZES), FILES - 1, 9):
        contents[index + 1] = contents[index]
    return contents


def _round_trips(engine: EngineClient, folder: Path, contents: list[bytes]) -> tuple[list[str], list[str]]:
    """Upload and download back each of `contents`, all at once; the file IDs and the downloads' SHA-256."""
    project = str(engine.project)
    sources = [folder / f"in-{index}.bin" for index in range(len(contents))]
    for source, data in zip(sources, contents, strict=True):
        source.write_bytes(data)

    def round_trip(index: int) -> tuple[str, str]:
        with EngineClient(engine.url, engine.token, project) as client:
            file_id = upload_file(client, sources[index], project=project, folder="/load", part_size=MIB)
            path = download_file(client, file_id, folder / f"out-{index}.bin")
        return file_id, hashlib.sha256(path.read_bytes()).hexdigest()

    with ThreadPoolExecutor(len(contents)) as pool:
        results = list(pool.map(round_trip, range(len(contents))))
    return [r[0] for r in results], [r[1] for r in results]


def _check(engine: EngineClient, contents: list[bytes], file_ids: list[str], digests: list[str]) -> None:
    assert len(set(file_ids)) == len(contents)
    assert digests == [hashlib.sha256(data).hexdigest() for data in contents]
    described = [engine.call(f"/{file_id}/describe", {}) for file_id in file_ids]
    assert [(d["state"], d["size"]) for d in described] == [("closed", len(data)) for data in contents]


def test_fifty_parallel_uploads_and_downloads_come_back_byte_identical(engine: EngineClient,
                                                                       tmp_path: Path) -> None:
    contents = _contents()
    file_ids, digests = _round_trips(engine, tmp_path, contents)
    _check(engine, contents, file_ids, digests)
    report = engine.call("/runner/fsck", {})
    assert [p for p in report["problems"] if p["kind"] in DAMAGE] == []


@pytest.fixture
def own_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineClient]:
    """An engine of this test's own: its fsck --repair may act on everything in its store."""
    home = tmp_path_factory.mktemp("load")
    start_engine(home)
    try:
        with connect(home, start=False) as client:
            yield client
    finally:
        stop_engine(home)


def test_fsck_repair_beside_fifty_transfers_never_takes_a_blob_in_use(own_engine: EngineClient,
                                                                     tmp_path: Path) -> None:
    contents = _contents()
    done = threading.Event()
    reports: list[dict[str, Any]] = []

    def repair_until_done() -> None:
        with EngineClient(own_engine.url, own_engine.token) as client:
            while not done.is_set() or not reports:
                reports.append(client.call("/runner/fsck", {"repair": True}))

    repairer = threading.Thread(target=repair_until_done)
    repairer.start()
    try:
        file_ids, digests = _round_trips(own_engine, tmp_path, contents)
    finally:
        done.set()
        repairer.join()
    _check(own_engine, contents, file_ids, digests)
    lost = [p for r in reports for p in r["problems"] if p["kind"] in ("content-lost", "part-lost")]
    assert lost == [] and len(reports) >= 1
    assert own_engine.call("/runner/fsck", {})["clean"] is True
