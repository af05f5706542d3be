"""runner.spec.asset_archive: which archives an asset may be, read member by member and never extracted."""

from __future__ import annotations

import io
import tarfile

import pytest

from runner.spec.asset_archive import ArchiveRefusal, check_archive


def archive(members: list[tuple[str, bytes, str]], mode: str = "w:gz") -> io.BytesIO:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode=mode) as tar:  # type: ignore[call-overload]
        for name, kind, target in members:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tar.addfile(info, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
    data.seek(0)
    return data


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2"])
def test_tar_gz_and_bz2_are_told_by_their_bytes(mode: str) -> None:
    members = [("usr", tarfile.DIRTYPE, ""), ("usr/bin/tool", tarfile.REGTYPE, ""),
               ("usr/bin/awk", tarfile.SYMTYPE, "/etc/alternatives/awk"), ("usr/bin/t2", tarfile.LNKTYPE, "usr/bin/tool"),
               ("usr/lib/rel", tarfile.SYMTYPE, "../bin/tool")]
    summary = check_archive(archive(members, mode), "a")
    assert summary.kind == {"w": "tar", "w:gz": "tar.gz", "w:bz2": "tar.bz2"}[mode]
    assert summary.members == ("usr", "usr/bin/tool", "usr/bin/awk", "usr/bin/t2", "usr/lib/rel")


@pytest.mark.parametrize(("members", "message"), [
    ([("../../etc/x", tarfile.REGTYPE, "")], "member '../../etc/x' is outside the folder"),
    ([("a/../../x", tarfile.REGTYPE, "")], "member 'a/../../x' is outside the folder"),
    ([("/etc/x", tarfile.REGTYPE, "")], "member '/etc/x' is outside the folder"),
    ([("l", tarfile.SYMTYPE, "/etc"), ("l/x", tarfile.REGTYPE, "")], "'l/x' is written through the archive's own link 'l'"),
    ([("d/l", tarfile.SYMTYPE, "../../.."), ("ok", tarfile.REGTYPE, "")], "link 'd/l' -> '../../..' points outside"),
    ([("h", tarfile.LNKTYPE, "/etc/shadow")], "hard link 'h' -> '/etc/shadow' points outside"),
    ([("h", tarfile.LNKTYPE, "../x")], "hard link 'h' -> '../x' points outside"),
    ([("dev/null", tarfile.CHRTYPE, "")], "'dev/null' is a device, FIFO or other special file"),
    ([("fifo", tarfile.FIFOTYPE, "")], "'fifo' is a device, FIFO or other special file"),
])
def test_members_escaping_the_folder_are_refused_by_name(members: list[tuple[str, bytes, str]], message: str) -> None:
    with pytest.raises(ArchiveRefusal, match="refused") as refused:
        check_archive(archive(members), "/x/a.tar.gz")
    assert message in str(refused.value) and "/x/a.tar.gz" in str(refused.value)


def test_many_problems_are_counted_not_all_shown() -> None:
    members = [(f"../{i}", tarfile.REGTYPE, "") for i in range(8)]
    with pytest.raises(ArchiveRefusal) as refused:
        check_archive(archive(members), "a")
    assert "'../4'" in str(refused.value) and "'../5'" not in str(refused.value) and "(and 3 more)" in str(refused.value)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "is not a tar, tar.gz or tar.bz2 archive"),
    (b"PK\x03\x04 a zip file", "is not a tar, tar.gz or tar.bz2 archive"),
    (b"\x1f\x8b\x08\x00 truncated", "is not a readable tar.gz archive"),
    (b"BZh9 not really", "is not a readable tar.bz2 archive"),
])
def test_what_is_not_an_archive_is_refused_on_one_line(data: bytes, message: str) -> None:
    with pytest.raises(ArchiveRefusal) as refused:
        check_archive(io.BytesIO(data), "f")
    assert message in str(refused.value) and "\n" not in str(refused.value)
