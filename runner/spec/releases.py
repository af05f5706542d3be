"""Ubuntu releases: the ones the runner builds images for, the platform's, and where a legacy release runs.

    20.04, 24.04   what the platform runs today; images of both
    22.04          the platform does not offer it; the runner still builds it (warned: `dx build` refuses it)
    anything else  (14.04, 16.04, 18.04, 26.04...) refused, unless the `legacy-release` setting is `nearest`:
                   then it runs on the nearest of the platform's releases, with a warning
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.spec._checks import Checker, join

RELEASES = ("20.04", "22.04", "24.04")
PLATFORM_RELEASES = ("20.04", "24.04")
LEGACY_POLICIES = ("refuse", "nearest")
FIX = "`runner config set legacy-release nearest` (or RUNNER_LEGACY_RELEASE=nearest)"
_PATTERN = re.compile(r"^(\d{1,2})\.(\d{2})$")


@dataclass(frozen=True, slots=True)
class ReleaseChoice:
    """The release an applet runs on; `problem` when it is refused, `note` when it is not the one it asked for."""

    release: str | None
    problem: str | None = None
    note: str | None = None


def _months(release: str) -> int | None:
    match = _PATTERN.match(release)
    return int(match.group(1)) * 12 + int(match.group(2)) if match else None


def nearest_release(release: str) -> str | None:
    """The platform release closest in time to `release` (`YY.MM`), the newer on a tie; None if not `YY.MM`."""
    wanted = _months(release)
    if wanted is None:
        return None
    return min(reversed(PLATFORM_RELEASES), key=lambda known: abs((_months(known) or 0) - wanted))


def choose_release(release: str, policy: str = "refuse") -> ReleaseChoice:
    """Where an applet asking for `release` runs under the `legacy-release` policy (`refuse` or `nearest`)."""
    if release in PLATFORM_RELEASES:
        return ReleaseChoice(release)
    if release in RELEASES:
        return ReleaseChoice(release, note=f"Ubuntu {release} is not offered by the platform (it runs "
                             f"{' and '.join(PLATFORM_RELEASES)}): this applet runs here, but `dx build` there refuses it")
    nearest = nearest_release(release)
    supported = ", ".join(RELEASES)
    if nearest is None:
        return ReleaseChoice(None, problem=f"{release!r} is not an Ubuntu release of the form YY.MM; "
                             f"supported releases: {supported}")
    if policy != "nearest":
        return ReleaseChoice(None, problem=f"Ubuntu {release} is not supported (supported: {supported}); to run "
                             f"this applet on Ubuntu {nearest}, the nearest supported release: {FIX}")
    return ReleaseChoice(nearest, note=f"Ubuntu {release} is not supported: this applet runs on Ubuntu {nearest}, "
                         "the nearest supported release (legacy-release = nearest); tools and libraries differ")


def read_release(raw: Mapping[str, Any], path: str, checker: Checker, policy: str) -> tuple[str | None, str | None]:
    """The release a runSpec (at `path`) runs on under `policy`, and the warning when it is another one."""
    release = checker.string(raw, "release", path, required=True)
    if release is None:
        return None, None
    choice = choose_release(release, policy)
    if choice.problem is not None:
        checker.problem(join(path, "release"), choice.problem)
    elif choice.note is not None:
        checker.warn(join(path, "release"), choice.note)
    return choice.release, choice.note
