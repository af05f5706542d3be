"""Load: 50 clients at once, each uploading random data (0 bytes to 4 MiB, many multi-part, some with the
same content as another) and downloading it back while the others still upload, through the real engine and
the client's own transfer code: every byte comes back."""

from __future__ import annotations

import hashlib
import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.client.files import download_file, upload_file

pytestmark = pytest.mark.docker
MIB = 1 << 20
FILES = 50
# Edges first (empty, one byte, a part exactly, a part and a byte), then random sizes up to 4 MiB.
EDGE_SIZES = [0, 1, MIB, MIB + 1, 4 * MIB]


def _contents() -> list[bytes]:
    chance = random.Random(8)
    sizes = EDGE_SIZES + [chance.randrange(0, 4 * MIB) for _ in range(FILES - len(EDGE_SIZES))]
    contents = [os.urandom(size) for size in sizes]
    # Equal content uploaded at the same time shares its blobs.
    for index in range(len(EDGE_SIZES), FILES - 1, 9):
        contents[index + 1] = contents[index]
    return contents


def test_fifty_parallel_uploads_and_downloads_come_back_byte_identical(engine: EngineClient,
                                                                       tmp_path: Path) -> None:
    contents = _contents()
    sources = []
    for index, data in enumerate(contents):
        sources.append(tmp_path / f"in-{index}.bin")
        sources[-1].write_bytes(data)
    project = str(engine.project)

    def round_trip(index: int) -> tuple[str, str]:
        with EngineClient(engine.url, engine.token, project) as client:
            file_id = upload_file(client, sources[index], project=project, folder="/load", part_size=MIB)
            path = download_file(client, file_id, tmp_path / f"out-{index}.bin")
        return file_id, hashlib.sha256(path.read_bytes()).hexdigest()

    with ThreadPoolExecutor(FILES) as pool:
        results = list(pool.map(round_trip, range(FILES)))

    file_ids, digests = [r[0] for r in results], [r[1] for r in results]
    assert len(set(file_ids)) == FILES
    assert digests == [hashlib.sha256(data).hexdigest() for data in contents]
    described = [engine.call(f"/{file_id}/describe", {}) for file_id in file_ids]
    assert [(d["state"], d["size"]) for d in described] == [("closed", len(data)) for data in contents]
    report = engine.call("/runner/fsck", {})
    damage = {"content-lost", "part-lost", "blob-unreferenced", "blob-stray", "part-orphan", "database"}
    assert [p for p in report["problems"] if p["kind"] in damage] == []
