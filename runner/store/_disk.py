"""A full disk under $RUNNER_HOME as one clear error: ENOSPC from a blob write, SQLITE_FULL from the store.

`DiskFull` is an ApiError so that every route, whichever store call hit the full disk, answers it with the
documented error shape. It is a 4xx on purpose: a full disk lasts until someone frees space, longer than
dxpy's retries of a 5xx (six, about a minute) would wait, and each retry of a part would send its bytes again
into the full disk; a job or `runner upload` fails at once, naming the disk, instead.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runner.errors import ApiError

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class DiskFull(ApiError):
    """The engine's disk under $RUNNER_HOME has no space left for what the call had to write."""

    dx_type, http_status = "DiskFull", 422

    @classmethod
    def under(cls, home: Path, cause: BaseException) -> DiskFull:
        """The error for the state folder `home`, naming the low-level cause."""
        return cls(f"the engine's disk under $RUNNER_HOME ({home}) is full ({cause}): free space there and "
                   "try again", {"home": str(home)})


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` is a write failing for lack of space (ENOSPC, EDQUOT, SQLITE_FULL)."""
    if isinstance(exc, OSError):
        return exc.errno in FULL_ERRNOS
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_FULL
    return False


@contextmanager
def disk_full_as_error(home: Path) -> Iterator[None]:
    """Turn a lack-of-space failure inside the block into DiskFull; everything else passes unchanged."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        if is_disk_full(exc):
            raise DiskFull.under(home, exc) from exc
        raise
