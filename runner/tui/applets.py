"""The applets panel's model: source folders found under the given paths, checked with runner.spec's dxapp loading.

A folder is `invalid` (with its first problem) when its dxapp.json does not load, else `source` until the
engine holds an applet of its name (`built`, with the applet's ID: `mark_built`, from findDataObjects, or an
`applet.built` event), or an `applet.failed` event names its folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.errors import SpecError
from runner.spec.dxapp import load_dxapp
from runner.spec.events import AppletBuilt, AppletFailed, Event


@dataclass(slots=True)
class AppletSource:
    """One source folder: its applet's name, its state and what to say about it."""

    folder: Path
    name: str
    state: str
    note: str = ""
    applet: str | None = None


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
    """A folder's applet as runner.spec reads it: `source` when valid, `invalid` with its first problem."""
    try:
        dxapp = load_dxapp(folder)
    except SpecError as exc:
        note = str(exc.problems[0]) if exc.problems else str(exc)
        return AppletSource(folder, folder.name, "invalid", note)
    return AppletSource(folder, dxapp.name, "source", dxapp.title or "")


def apply_build_event(sources: list[AppletSource], event: Event) -> bool:
    """Mark the sources an applet.built / applet.failed event names; whether any changed."""
    changed = False
    for source in sources:
        if isinstance(event, AppletBuilt) and event.name == source.name and source.state != "invalid":
            source.state, source.applet, source.note = "built", event.applet, event.applet
            changed = True
        elif isinstance(event, AppletFailed) and Path(event.folder).resolve() == source.folder.resolve():
            source.state, source.note = "invalid", event.message
            changed = True
    return changed


def mark_built(sources: list[AppletSource], applets: Mapping[str, str]) -> bool:
    """Mark the valid sources whose name the engine has an applet of (`applets`: name -> ID); whether any changed."""
    changed = False
    for source in sources:
        applet = applets.get(source.name)
        if applet and source.state != "invalid" and source.applet != applet:
            source.state, source.applet, source.note = "built", applet, applet
            changed = True
    return changed
