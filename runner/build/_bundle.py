"""An applet's resources/ folder as a tar file to unpack at `/`, byte-identical for identical content.

Entries are sorted, named relative to `/` (`usr/bin/tool`), owned by root (0:0) with a fixed mtime, and
readable by all (a+rX, as `dx build` does). Symbolic links are kept as links, whatever they point to.
Sockets, FIFOs and devices are left out and reported (`runner.spec.source_folder` refuses them before a
build gets here; a file is opened without following a link and without blocking, in case one appeared since).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from pathlib import Path

# 2000-01-01T00:00:00Z: far enough from 0 that no tool warns about an implausibly old time stamp.
FIXED_MTIME = 946684800
CHUNK = 1 << 20


def _entries(root: Path) -> list[str]:
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(folder).relative_to(root)
        found.extend((base / name).as_posix() for name in [*dirs, *files])
    return sorted(found)


def _mode(st: os.stat_result) -> int:
    mode = stat.S_IMODE(st.st_mode) & 0o777 | 0o444
    if stat.S_ISDIR(st.st_mode) or mode & 0o111:
        mode |= 0o111
    return mode


def _info(name: str, st: os.stat_result) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = _mode(st)
    return info


def write_resources_tar(source: Path, destination: Path) -> list[str]:
    """Write `source` (an applet's resources/ folder) as a tar to `destination`; the entries left out."""
    skipped: list[str] = []
    with tarfile.open(destination, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in _entries(source):
            path = source / name
            st = path.lstat()
            info = _info(name, st)
            if stat.S_ISLNK(st.st_mode):
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, os.readlink(path), 0o777
                tar.addfile(info)
            elif stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif not stat.S_ISREG(st.st_mode) or not _add_file(tar, info, path):
                skipped.append(name)
    return skipped


def _add_file(tar: tarfile.TarFile, info: tarfile.TarInfo, path: Path) -> bool:
    """Add the regular file at `path`; False when what is there now is not one."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as content:
        opened = os.fstat(content.fileno())
        if not stat.S_ISREG(opened.st_mode):
            return False
        info.size = opened.st_size
        tar.addfile(info, content)
    return True


def has_resources(source: Path) -> bool:
    """Whether `source` is a folder with anything in it."""
    return source.is_dir() and any(source.iterdir())


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
