"""A folder's `.gitignore`, read as git reads it: which relative paths it ignores.

What is honoured: comments and blank lines, `\\` escapes, `!` negation (the last matching line wins),
a trailing `/` for folders only, a `/` at the start or in the middle anchoring the pattern to the folder,
`*`, `?`, `[...]` and `**` (a leading `**/`, a trailing `/**`, a middle `/**/`); a path inside an ignored
folder stays ignored, as in git. `IgnoreTree` reads the `.gitignore` of every folder down to a path, as git does:
a deeper file's patterns are relative to its own folder and take precedence over those above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern line: its regular expression over the relative path, and how it applies."""

    regex: re.Pattern[str]
    negated: bool
    folders_only: bool


class GitIgnore:
    """The rules of one `.gitignore`; `ignored(path)` answers for a path relative to its folder."""

    def __init__(self, lines: list[str]) -> None:
        self.rules = [rule for rule in map(parse_line, lines) if rule is not None]

    @classmethod
    def read(cls, file: Path) -> GitIgnore:
        """The rules of `file`; none when it does not exist or cannot be read."""
        try:
            return cls(file.read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            return cls([])

    def ignored(self, path: str, *, is_folder: bool = False) -> bool:
        """Whether `path` (relative, `/`-separated) is ignored, itself or through a folder above it."""
        parts = PurePosixPath(path).parts
        for depth in range(1, len(parts)):
            if self._decide("/".join(parts[:depth]), is_folder=True):
                return True
        return bool(parts) and self._decide("/".join(parts), is_folder=is_folder)

    def _decide(self, path: str, *, is_folder: bool) -> bool:
        return bool(self.verdict(path, is_folder=is_folder))

    def verdict(self, path: str, *, is_folder: bool) -> bool | None:
        """What the last rule matching `path` itself says (True: ignored), None when no rule matches it."""
        verdict: bool | None = None
        for rule in self.rules:
            if rule.folders_only and not is_folder:
                continue
            if rule.regex.match(path):
                verdict = not rule.negated
        return verdict


class IgnoreTree:
    """The `.gitignore` files of a folder and of its subfolders, read when first needed and again when told."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[str, GitIgnore] = {}

    def forget(self, gitignore: str) -> None:
        """A `.gitignore` (relative path) changed or went: read it again when next needed."""
        parent = PurePosixPath(gitignore).parent.as_posix()
        self._files.pop("" if parent == "." else parent, None)

    def ignored(self, path: str, *, is_folder: bool = False) -> bool:
        """Whether `path` (relative, `/`-separated) is ignored, itself or through a folder above it."""
        parts = PurePosixPath(path).parts
        for depth in range(1, len(parts)):
            if self._decide(parts[:depth], is_folder=True):
                return True
        return bool(parts) and self._decide(parts, is_folder=is_folder)

    def _decide(self, parts: tuple[str, ...], *, is_folder: bool) -> bool:
        # The deepest .gitignore with a matching rule decides, each matching relative to its own folder.
        for depth in range(len(parts) - 1, -1, -1):
            verdict = self._file("/".join(parts[:depth])).verdict("/".join(parts[depth:]), is_folder=is_folder)
            if verdict is not None:
                return verdict
        return False

    def _file(self, folder: str) -> GitIgnore:
        if folder not in self._files:
            self._files[folder] = GitIgnore.read(self.folder / folder / ".gitignore")
        return self._files[folder]


def parse_line(line: str) -> Rule | None:
    """The rule of one `.gitignore` line (None for a blank line or a comment)."""
    line = _strip_trailing_spaces(line)
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated or line.startswith(("\\!", "\\#")):
        line = line[1:]
    folders_only = line.endswith("/") and not line.endswith("\\/")
    line = line.rstrip("/") if folders_only else line
    if not line:
        return None
    anchored = "/" in line
    body = _translate(line.lstrip("/") if line.startswith("/") else line)
    prefix = "" if anchored else "(?:.*/)?"
    return Rule(re.compile(prefix + body + r"\Z", re.DOTALL), negated, folders_only)


def _strip_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped[:-1] + " "  # an escaped trailing space stays
    return stripped


def _translate(pattern: str) -> str:
    """A glob of git's wildmatch as a regular expression (anchoring aside)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i) and (i == 0 or pattern[i - 1] == "/"):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i) and i + 2 == n and (i == 0 or pattern[i - 1] == "/"):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = _class_end(pattern, i)
            if end < 0:
                out.append(re.escape("["))
                i += 1
            else:
                inner = pattern[i + 1:end]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end + 1
        elif pattern[i] == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """The index of the `]` closing the class opened at `start` (-1: none, so `[` is literal)."""
    i = start + 1
    if i < len(pattern) and pattern[i] in "!^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    return pattern.find("]", i)
