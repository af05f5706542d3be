"""The applets panel's model: source folders found under the given paths, and each one's build state by content.

A folder is `invalid` (with its first problem) when a build would refuse it; else `built` when the engine holds
the applet the folder would build to now, `stale` when it holds an applet of that name but the folder's content
changed since (the ID it would get now differs), and `not built` otherwise. The engine says which
(`/runner/sourceId`: the ID by content, no image built); before it answers, or without an engine, runner.spec's
own check tells `invalid` from `not built`. A folder is asked about again when its files change (`signature`:
the paths, sizes and mtimes under it, cheap to read every few seconds) or an applet of its name is built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import SpecError
from runner.spec.dxapp import load_dxapp
from runner.spec.events import AppletBuilt, AppletFailed, Event

BUILT, STALE, NOT_BUILT, INVALID = "built", "stale", "not built", "invalid"
SIGNATURE_MAX_ENTRIES = 10_000
"""A folder with more entries than this is signed by its first ones only: a poll must stay cheap."""

Signature = tuple[tuple[str, int, int], ...]


@dataclass(slots=True)
class AppletSource:
    """One source folder: its applet's name, its state, what to say about it, the IDs it builds to and is held."""

    folder: Path
    name: str
    state: str
    note: str = ""
    applet: str | None = None
    latest: str | None = None
    signature: Signature | None = None


def find_sources(paths: Iterable[Path]) -> list[AppletSource]:
    """The source folders a path is or holds (one level down), each checked; sorted by name."""
    folders: list[Path] = []
    for path in paths:
        if (path / "dxapp.json").exists():
            folders.append(path)
        elif path.is_dir():
            folders.extend(sorted(p for p in path.iterdir() if (p / "dxapp.json").exists()))
    return sorted((check_source(folder) for folder in folders), key=lambda s: (s.name, str(s.folder)))


def check_source(folder: Path) -> AppletSource:
    """A folder's applet as runner.spec reads it: `not built` when valid, `invalid` with its first problem."""
    try:
        dxapp = load_dxapp(folder)
    except SpecError as exc:
        note = str(exc.problems[0]) if exc.problems else str(exc)
        return AppletSource(folder, folder.name, INVALID, note)
    return AppletSource(folder, dxapp.name, NOT_BUILT)


def signature(folder: Path) -> Signature:
    """What changes when a file under `folder` is written, added, removed or renamed (links not followed)."""
    entries: list[tuple[str, int, int]] = []
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted([*dirs, *files]):
            path = os.path.join(top, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            entries.append((os.path.relpath(path, folder), st.st_size, st.st_mtime_ns))
            if len(entries) >= SIGNATURE_MAX_ENTRIES:
                return tuple(entries)
    return tuple(entries)


def apply_source_id(source: AppletSource, answer: Mapping[str, Any]) -> bool:
    """Take in the engine's `/runner/sourceId` answer about the folder; whether the row changed."""
    before = (source.state, source.note, source.applet, source.latest, source.name)
    problems = answer.get("problems") or []
    source.applet = answer.get("id") if isinstance(answer.get("id"), str) else None
    source.latest = answer.get("latest") if isinstance(answer.get("latest"), str) else None
    if isinstance(answer.get("name"), str):
        source.name = answer["name"]
    if problems or source.applet is None:
        source.state, source.note = INVALID, str(problems[0]) if problems else "the engine gave no applet ID"
    elif answer.get("built") is True:
        source.state, source.note = BUILT, source.applet
    elif source.latest:
        source.state, source.note = STALE, f"changed since {source.latest}"
    else:
        source.state, source.note = NOT_BUILT, ""
    return (source.state, source.note, source.applet, source.latest, source.name) != before


def apply_build_event(sources: list[AppletSource], event: Event) -> list[AppletSource]:
    """The sources an applet.built / applet.failed event concerns, updated as far as the event tells.

    A build of a source's name makes it `built` when the ID is the one the folder builds to now, `stale` when the
    folder's ID is known and differs; a failed build of its folder makes it `invalid` with the build's message.
    """
    touched: list[AppletSource] = []
    for source in sources:
        if isinstance(event, AppletBuilt) and event.name == source.name and source.state != INVALID:
            source.latest = event.applet
            if source.applet == event.applet:
                source.state, source.note = BUILT, event.applet
            elif source.applet is not None:
                source.state, source.note = STALE, f"changed since {event.applet}"
            touched.append(source)
        elif isinstance(event, AppletFailed) and Path(event.folder).resolve() == source.folder.resolve():
            source.state, source.note = INVALID, event.message
            touched.append(source)
    return touched


def held_changed(sources: list[AppletSource], applets: Mapping[str, str]) -> list[AppletSource]:
    """The valid sources whose name the engine holds a newer applet of than last seen (`applets`: name -> ID)."""
    return [s for s in sources if s.state != INVALID and applets.get(s.name) not in (None, s.latest)]
