"""One problem `runner fsck` found: shared by the store checks and the job-folder checks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Finding:
    """A problem: its kind, the object (a file, job or blob ID), its path, what is wrong, what repair does."""

    kind: str
    object: str
    path: str
    problem: str
    repair: str
    repaired: bool = False
