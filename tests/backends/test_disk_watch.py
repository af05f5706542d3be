"""The disk watchdog's measure and verdict: allocated blocks, each inode once, links not followed; real files."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from runner.backends import _disk_watch
from runner.backends._disk_watch import (
    LABEL_DISK_LIMIT,
    LABEL_INSTANCE_TYPE,
    DiskWatch,
    allocated_bytes,
    first_excess,
    over_limit_message,
    watch_of,
)

MIB = 1 << 20


def _write(path: Path, mib: int) -> None:
    path.write_bytes(os.urandom(mib * MIB))


def test_written_space_counts_blocks_each_inode_once_and_follows_no_link(tmp_path: Path) -> None:
    layer, work, elsewhere = tmp_path / "layer", tmp_path / "work", tmp_path / "elsewhere"
    for folder in (layer / "deep" / "er", work, elsewhere):
        folder.mkdir(parents=True)
    _write(layer / "deep" / "er" / "a", 2)
    _write(work / "b", 1)
    _write(elsewhere / "big", 8)
    os.link(layer / "deep" / "er" / "a", layer / "hardlink")  # the same 2 MiB again: counted once
    (work / "link").symlink_to(elsewhere)  # 8 MiB through a link: not the job's
    with (work / "sparse").open("wb") as stream:  # 1 GiB apparent, nothing written
        stream.truncate(1 << 30)
    measured = allocated_bytes([str(layer), str(work)])
    assert 3 * MIB <= measured < 3 * MIB + 256 * 1024


def test_the_verdict_names_what_was_written_the_limit_and_the_instance_type(tmp_path: Path) -> None:
    _write(tmp_path / "f", 3)
    assert DiskWatch(4 * MIB, "mem1_ssd1_v2_x2", (str(tmp_path),)).over() is None
    message = DiskWatch(2_000_000, "mem1_ssd1_v2_x2", (str(tmp_path),)).over()
    assert message is not None and "the job wrote 0.0031 GB, more than the 0.002 GB of storage of its instance " \
                                   "type mem1_ssd1_v2_x2" in message
    assert over_limit_message(60 * 10**9, 50 * 10**9, "x").startswith(
        "The job ran out of disk space: the job wrote 60.0 GB, more than the 50.0 GB of storage")


def test_a_watch_comes_from_the_containers_labels_layer_and_writable_binds(tmp_path: Path) -> None:
    attrs = {"Config": {"Labels": {LABEL_DISK_LIMIT: "1000", LABEL_INSTANCE_TYPE: "mem2_hdd2_x1"}},
             "GraphDriver": {"Data": {"UpperDir": str(tmp_path)}},
             "Mounts": [{"Type": "bind", "Source": "/w", "RW": True}, {"Type": "bind", "Source": "/r", "RW": False}]}
    watch = watch_of(attrs, lambda: 0)
    assert watch == DiskWatch(1000, "mem2_hdd2_x1", (str(tmp_path), "/w"), None)
    unreadable = watch_of({**attrs, "GraphDriver": {"Data": {"UpperDir": str(tmp_path / "gone")}}}, lambda: 7)
    assert unreadable is not None and unreadable.folders == ("/w",) and unreadable.size_from_docker is not None
    assert watch_of({"Config": {"Labels": {}}}, lambda: 0) is None


@pytest.mark.asyncio
async def test_the_watch_reports_the_first_measure_past_the_limit(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_disk_watch, "WATCH_INTERVAL_S", 0.01)
    attrs = {"Config": {"Labels": {LABEL_DISK_LIMIT: str(MIB), LABEL_INSTANCE_TYPE: "t"}},
             "GraphDriver": {"Data": {"UpperDir": str(tmp_path)}}}
    watching = asyncio.ensure_future(first_excess(lambda: attrs, lambda: 0, OSError))
    await asyncio.sleep(0.1)
    assert not watching.done()
    _write(tmp_path / "f", 2)
    message = await asyncio.wait_for(watching, 30)
    assert message is not None and "instance type t" in message
    assert await first_excess(lambda: {"Config": {}}, lambda: 0, OSError) is None
