"""What a build reads from an applet's source folder, checked before anything in it is opened.

A build reads `dxapp.json`, `Readme.md`, `Readme.developer.md` and `runSpec.file`, and bundles `resources/`;
`src/` holds the entry point. Each of these is checked the same way:

- a link, at the path or on the way to it, that resolves outside the applet folder is refused, naming the
  link and where it points (`dx build` would copy the host file it points to into the applet); links that
  stay inside are kept, in `resources/` as links in the bundle, as `dx build` keeps them;
- anything but a regular file, a folder or a link (a FIFO, a socket, a device) is refused; a file is opened
  only once it is known to be a regular file, with O_NONBLOCK, and checked again once open, so that nothing
  a folder holds can make a build wait;
- `resources/` is measured as its bundle will hold it, a sparse file at its apparent size: above the
  documented sizes a build warns, with the sizes; above `RESOURCES_MAX_BYTES` it refuses.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from runner.errors import RunnerError
from runner.spec._checks import Checker

MiB = 1 << 20
GiB = 1 << 30

RESOURCES_WARN_BYTES = 1 * GiB
"""Above this total, resources/ is warned about: it is stored as one tar file and unpacked in every job."""

RESOURCE_FILE_WARN_BYTES = 512 * MiB
"""Above this size, a single file in resources/ is warned about, for the same reason."""

RESOURCES_MAX_BYTES = 32 * GiB
"""Above this total, a build is refused: the bundle is written in full under $RUNNER_HOME (a sparse file's
holes become real bytes) and unpacked into each job's container, so a sparse file of a terabyte would fill
the disk of the build and of every job rather than make a large applet."""

MAX_TEXT_BYTES = 16 * MiB
"""The most read of a readme or of the runSpec.file script; a larger one is refused, not truncated."""

MAX_LISTED = 20
"""Problems listed one by one per folder tree; the rest are counted in one more problem."""

BUNDLED_TREES = ("src", "resources")


class FolderRefusal(RunnerError):
    """A path in the applet folder that a build does not read; the message says why."""


def size_text(size: int) -> str:
    """A byte count for a message: `2.0 GiB (2147483648 bytes)`."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB)):
        if size >= scale:
            return f"{size / scale:.1f} {unit} ({size} bytes)"
    return f"{size} bytes"


def kind_of(mode: int) -> str:
    """How a file type is named in messages."""
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a link"), (stat.S_ISREG, "a regular file"))
    return next((name for test, name in kinds if test(mode)), "a special file")


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def escaping_link(folder: Path, relative: str) -> str | None:
    """How `relative` leaves `folder` through a link (or `..`), or None when it stays inside."""
    root = os.path.realpath(folder)
    parts = PurePosixPath(relative).parts
    current = Path(folder)
    for index, part in enumerate(parts):
        current = current / part
        if os.path.islink(current) and not _within(os.path.realpath(current), root):
            target, resolved = os.readlink(current), os.path.realpath(current)
            where = repr(target) if target == resolved else f"{target!r} ({resolved})"
            if index == len(parts) - 1:
                return f"is a link to {where}, outside the applet folder"
            link = PurePosixPath(*parts[: index + 1])
            return f"goes through {link}, a link to {where}, outside the applet folder"
    resolved = os.path.realpath(current)
    if not _within(resolved, root):
        return f"resolves to {resolved}, outside the applet folder"
    return None


def read_regular_file(folder: Path, relative: str, limit: int) -> bytes | None:
    """The bytes of the regular file `folder/relative` (None: there is none); FolderRefusal if it is refused.

    The refusal's message says what is wrong with the path without naming it (`is a FIFO (named pipe); ...`).
    """
    why = escaping_link(folder, relative)
    if why is not None:
        raise FolderRefusal(why)
    path = folder / relative
    try:
        before = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FolderRefusal(f"cannot be read: {exc.strerror or exc}") from None
    _check_regular(before.st_mode, before.st_size, limit)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise FolderRefusal(f"cannot be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as stream:
        # Checked again on what was opened: the path may have changed since the stat.
        opened = os.fstat(stream.fileno())
        _check_regular(opened.st_mode, opened.st_size, limit)
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FolderRefusal(f"is larger than {size_text(limit)}; a build reads at most that")
    return data


def _check_regular(mode: int, size: int, limit: int) -> None:
    if stat.S_ISDIR(mode):
        raise FolderRefusal("is a folder; expected a file")
    if not stat.S_ISREG(mode):
        raise FolderRefusal(f"is {kind_of(mode)}; a build reads only regular files")
    if size > limit:
        raise FolderRefusal(f"is {size_text(size)}; a build reads at most {size_text(limit)}")


def check_bundled_trees(folder: Path, checker: Checker) -> None:
    """Check src/ and resources/ for links leaving the folder, special files and resources/ sizes."""
    for top in BUNDLED_TREES:
        if os.path.lexists(folder / top):
            _check_tree(folder, top, checker)


def _check_tree(folder: Path, top: str, checker: Checker) -> None:
    why = escaping_link(folder, top)
    if why is None:
        why = _not_a_tree(folder / top)
    if why is not None:
        checker.problem(top, why)
        return
    if not (folder / top).is_dir():
        return  # a file named src or resources: not a tree the build bundles
    refused: list[tuple[str, str]] = []
    total = 0
    pending = [top]
    while pending:
        relative = pending.pop()
        try:
            entries = sorted(os.scandir(folder / relative), key=lambda entry: entry.name)
        except OSError as exc:
            refused.append((relative, f"cannot be listed: {exc.strerror or exc}"))
            continue
        for entry in entries:
            name = f"{relative}/{entry.name}"
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                why = escaping_link(folder, name)
                if why is not None:
                    refused.append((name, why))
            elif stat.S_ISDIR(mode):
                pending.append(name)
            elif stat.S_ISREG(mode):
                total += _measure(name, entry.stat(follow_symlinks=False).st_size, top, checker)
            else:
                refused.append((name, f"is {kind_of(mode)}; a build takes only files, folders and links"))
    for name, why in refused[:MAX_LISTED]:
        checker.problem(name, why)
    if len(refused) > MAX_LISTED:
        checker.problem(top, f"{len(refused) - MAX_LISTED} more paths refused as above "
                             f"(the first {MAX_LISTED} are listed)")
    if top == "resources":
        _check_total(total, checker)


def _not_a_tree(path: Path) -> str | None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # a dangling link inside the folder: nothing to bundle
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    return f"is {kind_of(mode)}; a build takes only files, folders and links"


def _measure(name: str, size: int, top: str, checker: Checker) -> int:
    if top != "resources":
        return 0
    if size > RESOURCE_FILE_WARN_BYTES:
        checker.warn(name, f"is {size_text(size)} (a sparse file counts at its full size), over "
                           f"{size_text(RESOURCE_FILE_WARN_BYTES)}: it is stored in the applet and unpacked "
                           "in every job")
    return size


def _check_total(total: int, checker: Checker) -> None:
    if total > RESOURCES_MAX_BYTES:
        checker.problem("resources", f"holds {size_text(total)}, over the limit of "
                                     f"{size_text(RESOURCES_MAX_BYTES)}: its bundle is written in full and "
                                     "unpacked in every job")
    elif total > RESOURCES_WARN_BYTES:
        checker.warn("resources", f"holds {size_text(total)} in all, over {size_text(RESOURCES_WARN_BYTES)}: "
                                  "it is stored as one tar file and unpacked in every job")
