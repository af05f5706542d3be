"""What watch mode says: one `Note` per thing that happened, in the words the terminal (or the TUI) shows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.dev.compare import OutputChange

INFO, WARNING, ERROR = "info", "warning", "error"
SHOWN_CHANGED = 10
VALUE_WIDTH = 70


@dataclass(frozen=True, slots=True)
class Note:
    """One report: its first line says what happened, the others the details; `level` for colour."""

    lines: tuple[str, ...]
    level: str = INFO

    @property
    def text(self) -> str:
        """The whole note, one line per line."""
        return "\n".join(self.lines)


def watching(folder: str, on_busy: str, focus: str | None) -> Note:
    """Watching has begun."""
    what = f"; re-running {focus} on every change" if focus else ""
    return Note((f"watching {folder} (a change while busy: {on_busy}{what}; Ctrl+C stops)",))


def changed(paths: Iterable[str]) -> Note:
    """The files a change touched."""
    listed = sorted(paths)
    shown = ", ".join(listed[:SHOWN_CHANGED]) + (f" and {len(listed) - SHOWN_CHANGED} more"
                                                 if len(listed) > SHOWN_CHANGED else "")
    return Note((f"changed: {shown}",))


def built(answer: Mapping[str, Any], previous: str | None, seconds: float) -> Note:
    """A build the engine made, with its notes (an image built for new execDepends, ...)."""
    applet = answer.get("id")
    same = " (unchanged: the same applet as before)" if applet == previous else ""
    image = "; built its image" if answer.get("imageBuilt") else ""
    lines = [f"built {applet} ({answer.get('name')}) in {seconds:.2f} s{same}{image}"]
    lines += [f"  note: {note}" for note in answer.get("notes") or ()]
    return Note(tuple(lines))


def build_failed(error: Exception, last_good: str | None) -> Note:
    """A build refused: the problems as `runner build --dry-run` prints them (every one); what is kept."""
    lines = [f"error: {error}"]
    keep = f"the last good build, {last_good}, stays" if last_good else "no good build yet"
    lines.append(f"  still watching; {keep}")
    return Note(tuple("\n".join(lines).splitlines()), ERROR)


def started(job: str, rerun_of: str | None, entry: str | None) -> Note:
    """A run began."""
    what = f" at entry point {entry}" if entry else ""
    after = f", re-running {rerun_of}" if rerun_of else ""
    return Note((f"started {job}{what}{after}",))


def busy(job: str, on_busy: str) -> Note:
    """A change came while a tree ran: what happens about it."""
    doing = {"restart": f"terminating {job}, then re-running",
             "queue": f"re-running when {job} ends",
             "ignore": f"ignored: {job} is still running (--on-busy ignore)"}[on_busy]
    return Note((doing,), WARNING if on_busy == "ignore" else INFO)


def finished(described: Mapping[str, Any], seconds: float, outputs: Sequence[OutputChange]) -> Note:
    """A run done: its outputs compared with the previous run's."""
    lines = [f"{described.get('id')} done in {seconds:.2f} s"]
    for change in outputs:
        value = "" if change.value is None else "  " + _short(change.value)
        lines.append(f"  {change.name}: {change.verdict}{value}")
    if not outputs:
        lines.append("  (no outputs)")
    return Note(tuple(lines))


def failed(described: Mapping[str, Any], cause: Mapping[str, Any] | None, log_tail: Sequence[str]) -> Note:
    """A run failed or was terminated: reason, message, the subjob that caused it, its last log lines."""
    job, state = described.get("id"), described.get("state")
    parts = [str(p) for p in (described.get("failureReason"), described.get("failureMessage")) if p]
    lines = [f"{job} {state}" + (": " + ": ".join(parts) if parts else "")]
    culprit = cause if cause is not None else described
    if cause is not None and cause.get("id") != job:
        lines.append(f"  caused by {cause.get('id')} ({cause.get('name') or '?'}, entry point "
                     f"{cause.get('function') or '?'})")
    if log_tail:
        lines.append(f"  last log lines of {culprit.get('id')}:")
        lines += [f"    {line}" for line in log_tail]
    lines.append("  still watching")
    return Note(tuple(lines), ERROR if state == "failed" else WARNING)


def restarted(job: str) -> Note:
    """A tree terminated to re-run."""
    return Note((f"{job} terminated for the re-run",))


def stopped(job: str | None, terminated: bool) -> Note:
    """Watching ended (Ctrl+C, or the TUI's toggle)."""
    if job is None:
        return Note(("stopped watching",))
    if terminated:
        return Note((f"stopped watching; terminated {job}",))
    return Note((f"stopped watching; {job} keeps running (runner watch {job})",))


def trouble(what: str, error: Exception) -> Note:
    """Something the engine refused that is not the folder's fault; watching goes on."""
    return Note((f"error: {what}: {error}", "  still watching"), ERROR)


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= VALUE_WIDTH else text[:VALUE_WIDTH - 3] + "..."


def image_rebuild(before: Sequence[str], after: Sequence[str]) -> Note:
    """execDepends changed: the build makes a new image, which takes a while."""
    line = (f"execDepends changed ({', '.join(before) or 'none'} -> {', '.join(after) or 'none'}): "
            "building the applet's image, this may take a while")
    return Note((line,))
