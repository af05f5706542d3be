"""The launcher's unpacking of bundledDepends, into a scratch root on this host (the same code runs as root in the
image build's container): archives told by content, plain files copied, and what a hostile archive may not do."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from runner.launcher.bundles import BundleError, staged_for, unpack_bundle


def _tar(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
                continue
            info = tarfile.TarInfo(member[0])
            info.size, info.mode, info.uid, info.gid = len(member[1]), 0o755, os.getuid(), os.getgid()
            tar.addfile(info, io.BytesIO(member[1]))
    return path


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.uid, info.gid = kind, target, os.getuid(), os.getgid()
    return info


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_an_archive_is_told_by_content_not_name(tmp_path: Path, root: Path, mode: str) -> None:
    archive = _tar(tmp_path / "bundle.bin", [("./usr/local/bin/tool", b"#!/bin/sh\n")], mode)
    said = unpack_bundle(str(archive), "tool.data", "runSpec.bundledDepends[0]", set(), str(root))
    assert said == "runSpec.bundledDepends[0]: unpacked tool.data (1 entries)"
    assert (root / "usr/local/bin/tool").read_bytes() == b"#!/bin/sh\n"
    assert (root / "usr/local/bin/tool").stat().st_mode & 0o777 == 0o755


def test_a_plain_file_is_copied_to_root_under_its_name(tmp_path: Path, root: Path) -> None:
    (tmp_path / "blob").write_bytes(b"ACGT\n")
    assert unpack_bundle(str(tmp_path / "blob"), "genome.fa", "b", set(), str(root)) == "b: copied genome.fa to /"
    assert (root / "genome.fa").read_bytes() == b"ACGT\n"


def test_dot_dot_is_refused_and_nothing_is_written(tmp_path: Path, root: Path) -> None:
    archive = _tar(tmp_path / "evil.tar.gz", [("ok.txt", b"x"), ("../outside.txt", b"x")])
    with pytest.raises(BundleError, match=r"member '\.\./outside\.txt' escapes / \(it names '\.\.'\)"):
        unpack_bundle(str(archive), "evil.tar.gz", "label", set(), str(root))
    assert not (tmp_path / "outside.txt").exists()


def test_a_link_planted_by_an_earlier_archive_is_not_followed(tmp_path: Path, root: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    planted: set[str] = set()
    first = _tar(tmp_path / "a.tar", [_link("opt/plant", str(outside))], "w")
    unpack_bundle(str(first), "a.tar", "first", planted, str(root))
    second = _tar(tmp_path / "b.tar", [("opt/plant/evil.conf", b"x")], "w")
    with pytest.raises(BundleError, match="through the link /opt/plant that an archive planted"):
        unpack_bundle(str(second), "b.tar", "second", planted, str(root))
    assert list(outside.iterdir()) == []


def test_a_hard_link_through_a_planted_link_is_refused(tmp_path: Path, root: Path) -> None:
    archive = _tar(tmp_path / "h.tar", [_link("etc", "/etc"), _link("copy", "etc/passwd", tarfile.LNKTYPE)], "w")
    with pytest.raises(BundleError, match="hard link 'copy' goes through the link /etc"):
        unpack_bundle(str(archive), "h.tar", "label", set(), str(root))


def test_a_device_is_refused(tmp_path: Path, root: Path) -> None:
    device = tarfile.TarInfo("dev/sda")
    device.type = tarfile.BLKTYPE
    archive = _tar(tmp_path / "d.tar", [device], "w")
    with pytest.raises(BundleError, match="'dev/sda' is a device or FIFO"):
        unpack_bundle(str(archive), "d.tar", "label", set(), str(root))


def test_the_images_own_folder_links_are_followed_and_folders_keep_their_mode(tmp_path: Path, root: Path) -> None:
    (root / "usr/bin").mkdir(parents=True)
    (root / "bin").symlink_to("usr/bin")
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)
    folder = tarfile.TarInfo("tmp")
    folder.type, folder.mode = tarfile.DIRTYPE, 0o755
    archive = _tar(tmp_path / "m.tar", [folder, ("bin/tool", b"t"), _link("bin/tool2", "bin/tool", tarfile.LNKTYPE)])
    unpack_bundle(str(archive), "m.tar", "label", set(), str(root))
    assert (root / "usr/bin/tool").read_bytes() == b"t" and (root / "bin").is_symlink()
    assert (root / "usr/bin/tool2").stat().st_ino == (root / "usr/bin/tool").stat().st_ino
    assert stat.S_IMODE((root / "tmp").stat().st_mode) == 0o1777


def test_a_file_replaces_a_link_at_its_path_instead_of_writing_through_it(tmp_path: Path, root: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (root / "etc").mkdir()
    (root / "etc/tool.conf").symlink_to(victim)
    archive = _tar(tmp_path / "c.tar", [("etc/tool.conf", b"new")], "w")
    unpack_bundle(str(archive), "c.tar", "label", set(), str(root))
    assert not (root / "etc/tool.conf").is_symlink() and (root / "etc/tool.conf").read_bytes() == b"new"
    assert victim.read_text() == "untouched"


def test_staged_bundles_are_those_listing_the_entry_point(tmp_path: Path) -> None:
    entries = [{"path": "0-a", "name": "a.tar", "label": "x", "stages": ["main"]},
               {"path": "1-b", "name": "b.tar", "label": "y", "stages": ["other", "gather"]}]
    (tmp_path / "manifest.json").write_text(json.dumps(entries))
    assert [e["name"] for e in staged_for("gather", str(tmp_path))] == ["b.tar"]
    assert staged_for("main", str(tmp_path))[0]["path"] == str(tmp_path / "0-a")
    assert staged_for("main", str(tmp_path / "none")) == []
