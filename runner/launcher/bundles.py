"""bundledDepends unpacked into `/`: tar, tar.gz, tar.bz2 (told by content), anything else copied as a file.

Standard library only and Python 3.8 compatible: it runs inside containers, once per applet image when the image
is made (`python3 -I bundles.py unpack MANIFEST`), and at job start for the entries with `stages` that name the
job's entry point. The build runs `check_archive` on the host first, for a clear error before any container.

Safety, as root in the container: no member may name `..` or a device; a member is never written through a
symbolic link that an archive planted (the image's own links, such as `/bin -> usr/bin`, are followed as GNU tar
follows them); a regular file replaces what was at its path (opened `O_EXCL|O_NOFOLLOW`), never writes through it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tarfile
from collections.abc import Iterable
from typing import IO

MANIFEST = "manifest.json"
PLANTED = "planted-links.json"
STAGED_DIR = "/opt/applet-runner/bundles"


class BundleError(Exception):
    """A bundle cannot be unpacked safely; the message names the bundle and the member."""


def open_archive(path: str) -> tarfile.TarFile | None:
    """The bundle as a tar archive (plain, gzip, bzip2 or xz, told by content), or None when it is not one."""
    try:
        archive = tarfile.open(path, mode="r:*")  # noqa: SIM115 - the caller closes it
    except (tarfile.TarError, EOFError, OSError):
        return None
    return archive


def member_path(name: str, label: str) -> str:
    """The member's path relative to `/` ("" for the root itself); BundleError for `..`."""
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise BundleError(f"{label}: member {name!r} escapes / (it names '..'); refused")
    return "/".join(parts)


def _prefixes(path: str) -> Iterable[str]:
    parts = path.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])


def _check_member(member: tarfile.TarInfo, label: str, planted: set[str]) -> str:
    path = member_path(member.name, label)
    for prefix in _prefixes(path):
        if prefix in planted:
            raise BundleError(f"{label}: member {member.name!r} would be written through the link /{prefix} "
                              "that an archive planted; refused")
    if member.isdev() or member.isfifo():
        raise BundleError(f"{label}: member {member.name!r} is a device or FIFO; refused")
    if member.islnk():
        target = member_path(member.linkname, label)
        for prefix in [*_prefixes(target), target]:
            if prefix in planted:
                raise BundleError(f"{label}: hard link {member.name!r} goes through the link /{prefix} that an "
                                  "archive planted; refused")
    return path


def check_archive(archive: tarfile.TarFile, label: str, planted: set[str]) -> None:
    """Check every member of `archive` without writing anything; `planted` gains the links it would make."""
    for member in archive:
        path = _check_member(member, label, planted)
        if member.issym():
            planted.add(path)
        else:
            planted.discard(path)


def _replace(path: str) -> None:
    """Remove what is at `path` unless it is a directory (a link is removed, never followed)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)


def _write_file(archive: tarfile.TarFile, member: tarfile.TarInfo, target: str) -> None:
    source = archive.extractfile(member)
    if source is None:
        raise BundleError(f"member {member.name!r} has no content")
    _replace(target)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as stream:
        shutil.copyfileobj(source, stream, 1 << 20)


def _extract_member(archive: tarfile.TarFile, member: tarfile.TarInfo, path: str, root: str,
                    planted: set[str]) -> None:
    target = os.path.join(root, path)
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)
    if member.isdir():
        if path in planted or not os.path.isdir(target):
            _replace(target)
            os.mkdir(target, member.mode & 0o7777)
        return  # an existing folder keeps its mode, as `tar --no-overwrite-dir` (/tmp stays 1777)
    if member.issym():
        _replace(target)
        os.symlink(member.linkname, target)
        os.lchown(target, member.uid, member.gid)
        return
    if member.islnk():
        _replace(target)
        os.link(os.path.join(root, member_path(member.linkname, "")), target, follow_symlinks=False)
        return
    _write_file(archive, member, target)
    os.chown(target, member.uid, member.gid)
    os.chmod(target, member.mode & 0o7777)
    os.utime(target, (member.mtime, member.mtime))


def unpack_archive(archive: tarfile.TarFile, label: str, planted: set[str], root: str = "/") -> int:
    """Extract `archive` at `root` member by member, checked as `check_archive` does; the members written."""
    count = 0
    for member in archive:
        path = _check_member(member, label, planted)
        if not path:
            continue
        try:
            _extract_member(archive, member, path, root, planted)
        except OSError as exc:
            raise BundleError(f"{label}: cannot write member {member.name!r}: {exc}") from None
        if member.issym():
            planted.add(path)
        else:
            planted.discard(path)
        count += 1
    return count


def unpack_bundle(path: str, name: str, label: str, planted: set[str], root: str = "/") -> str:
    """Unpack one bundle (an archive, or a plain file copied to `root`/`name`); a line saying what was done."""
    archive = open_archive(path)
    if archive is None:
        target = os.path.join(root, member_path(name, label))
        if "/" in member_path(name, label):
            raise BundleError(f"{label}: the file name {name!r} must not contain '/'")
        _replace(target)
        shutil.copyfile(path, target)
        os.chmod(target, 0o644)
        planted.discard(member_path(name, label))
        return f"{label}: copied {name} to /"
    with archive:
        count = unpack_archive(archive, label, planted, root)
    return f"{label}: unpacked {name} ({count} entries)"


def read_manifest(path: str) -> list[dict[str, object]]:
    """The manifest's entries: `{"path", "name", "label", "stages"?}` in unpacking order."""
    with open(path, "rb") as stream:
        entries = json.loads(stream.read().decode("utf-8"))
    if not isinstance(entries, list):
        raise BundleError(f"{path} must hold a JSON array")
    return entries


def load_planted(folder: str) -> set[str]:
    """The links earlier bundles planted (recorded in the image), so later ones are not written through them."""
    try:
        with open(os.path.join(folder, PLANTED), "rb") as stream:
            return set(json.loads(stream.read().decode("utf-8")))
    except FileNotFoundError:
        return set()


def unpack_entries(entries: Iterable[dict[str, object]], planted: set[str], out: IO[str]) -> None:
    """Unpack each manifest entry in order, saying each on `out`."""
    for entry in entries:
        line = unpack_bundle(str(entry["path"]), str(entry["name"]), str(entry["label"]), planted)
        out.write(f"[applet-runner] {line}\n")
        out.flush()


def staged_for(function: str, folder: str = STAGED_DIR) -> list[dict[str, object]]:
    """The staged bundles the image holds for entry point `function` (none when the image has no manifest)."""
    manifest = os.path.join(folder, MANIFEST)
    if not os.path.exists(manifest):
        return []
    wanted = []
    for entry in read_manifest(manifest):
        stages = entry.get("stages")
        if isinstance(stages, list) and function in stages:
            wanted.append(dict(entry, path=os.path.join(folder, str(entry["path"]))))
    return wanted


def _image_main(manifest: str, staged_dir: str) -> int:
    """At image build: unpack the unstaged bundles into /, keep the staged ones (and the planted links) aside."""
    planted: set[str] = set()
    staged: list[dict[str, object]] = []
    os.makedirs(staged_dir, exist_ok=True)
    for entry in read_manifest(manifest):
        if entry.get("stages") is None:
            unpack_entries([entry], planted, sys.stdout)
            continue
        kept = f"{len(staged)}-{os.path.basename(str(entry['path']))}"
        shutil.copyfile(str(entry["path"]), os.path.join(staged_dir, kept))
        staged.append(dict(entry, path=kept))
    with open(os.path.join(staged_dir, MANIFEST), "w", encoding="utf-8") as stream:
        json.dump(staged, stream)
    with open(os.path.join(staged_dir, PLANTED), "w", encoding="utf-8") as stream:
        json.dump(sorted(planted), stream)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(_image_main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else STAGED_DIR))
    except BundleError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(2)
