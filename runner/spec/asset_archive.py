"""Whether a file is an asset archive that can be unpacked at `/` safely: read, never extracted.

Accepted: a tar, tar.gz or tar.bz2 archive (told by its first bytes, not its name) whose members stay
inside the folder it is unpacked into:

- no member name is absolute or climbs out with `..`;
- no hard link points at an absolute path or out of the folder;
- no member is written through a symbolic link the archive itself made (`a -> /etc`, then `a/passwd`);
- a relative symbolic link does not climb out of the folder;
- no device, FIFO or other special file.

Absolute symbolic link targets are kept (`usr/bin/awk -> /etc/alternatives/awk`, as packages install
them): unpacked at `/` in a job's container they point inside it. Whoever unpacks an archive elsewhere
must not follow its links (see runner.build and the job launcher).
"""

from __future__ import annotations

import posixpath
import tarfile
from dataclasses import dataclass
from typing import BinaryIO, Literal

from runner.errors import RunnerError

KINDS = {b"\x1f\x8b": "tar.gz", b"BZh": "tar.bz2"}
MODES: dict[str, Literal["r:", "r:gz", "r:bz2"]] = {"tar": "r:", "tar.gz": "r:gz", "tar.bz2": "r:bz2"}
TAR_MAGIC_OFFSET = 257
MAX_SHOWN = 5


class ArchiveRefusal(RunnerError):
    """The file is not an asset archive, or some member would land outside the folder it is unpacked in."""


@dataclass(frozen=True, slots=True)
class ArchiveSummary:
    """What an accepted archive holds: its kind (tar, tar.gz, tar.bz2) and its member names."""

    kind: str
    members: tuple[str, ...]


def archive_kind(head: bytes) -> str | None:
    """`tar`, `tar.gz` or `tar.bz2` from a file's first 512 bytes; None for anything else."""
    for magic, kind in KINDS.items():
        if head.startswith(magic):
            return kind
    if head[TAR_MAGIC_OFFSET:TAR_MAGIC_OFFSET + 5] == b"ustar":
        return "tar"
    return None


def check_archive(stream: BinaryIO, label: str) -> ArchiveSummary:
    """Read every member header of the archive in `stream` (from its start); ArchiveRefusal naming the first
    members that would escape. `label` names the file in messages."""
    head = stream.read(512)
    stream.seek(0)
    kind = archive_kind(head)
    if kind is None:
        raise ArchiveRefusal(f"{label} is not a tar, tar.gz or tar.bz2 archive (told by its first bytes)")
    try:
        with tarfile.open(fileobj=stream, mode=MODES[kind]) as tar:
            members = tar.getmembers()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveRefusal(f"{label} is not a readable {kind} archive: {str(exc).splitlines()[0]}") from None
    problems = member_problems(members)
    if problems:
        shown = "; ".join(problems[:MAX_SHOWN])
        more = f" (and {len(problems) - MAX_SHOWN} more)" if len(problems) > MAX_SHOWN else ""
        raise ArchiveRefusal(f"{label} is refused: {shown}{more}; an asset holds only files, folders and links "
                             "that stay inside the folder it is unpacked in")
    return ArchiveSummary(kind, tuple(m.name for m in members))


def _inside(path: str) -> str | None:
    """`path` normalized relative to the unpack folder, or None when it is absolute or climbs out."""
    if path.startswith("/") or "\0" in path:
        return None
    normal = posixpath.normpath(path)
    if normal == ".." or normal.startswith("../"):
        return None
    return "" if normal == "." else normal


def _through_link(name: str, links: set[str]) -> str | None:
    parts = name.split("/")
    for end in range(1, len(parts)):
        parent = "/".join(parts[:end])
        if parent in links:
            return parent
    return None


def member_problems(members: list[tarfile.TarInfo]) -> list[str]:
    """What is wrong with each member that would land outside the unpack folder, in archive order."""
    problems: list[str] = []
    links: set[str] = set()
    for member in members:
        name = _inside(member.name)
        if name is None:
            problems.append(f"member {member.name!r} is outside the folder (absolute or '..')")
            continue
        via = _through_link(name, links)
        if via is not None:
            problems.append(f"member {member.name!r} is written through the archive's own link {via!r}")
        if member.issym():
            target = posixpath.join(posixpath.dirname(name), member.linkname)
            if not member.linkname.startswith("/") and _inside(target) is None:
                problems.append(f"link {member.name!r} -> {member.linkname!r} points outside the folder")
            links.add(name)
        elif member.islnk():
            if _inside(member.linkname) is None:
                problems.append(f"hard link {member.name!r} -> {member.linkname!r} points outside the folder")
        elif not (member.isfile() or member.isdir()):
            problems.append(f"member {member.name!r} is a device, FIFO or other special file")
    return problems
