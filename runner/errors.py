"""The exceptions of applet-runner.

    RunnerError                      base of everything raised on purpose
    ├── SpecError                    a dxapp.json (or other spec) is invalid; carries every Problem
    ├── UsageError                   bad input on the command line (exit 3)
    ├── EnvironmentProblem           the host lacks something (Docker, debootstrap, network); says the fix
    └── ImageBuildError              building a base, runtime or applet image failed

API-facing errors carrying the DNAnexus type names (InvalidInput, ResourceNotFound, ...) join this
tree with the engine. Third-party exceptions (docker, sqlite3, aiohttp) are converted at the edge
into one of these, so that the command line can print one line instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class RunnerError(Exception):
    """Base class of every error applet-runner raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document: where (a JSON path such as `runSpec.timeoutPolicy.main`) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(RunnerError):
    """A specification is invalid; `problems` lists every problem found, not just the first."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} is invalid ({len(self.problems)} problem(s)):\n{lines}")


class UsageError(RunnerError):
    """The command line was given something it cannot use."""


class EnvironmentProblem(RunnerError):
    """The host is missing something the runner needs; the message says how to fix it."""

    def __init__(self, message: str, fix: str = "") -> None:
        self.fix = fix
        super().__init__(f"{message}\n  fix: {fix}" if fix else message)


class ImageBuildError(RunnerError):
    """Building one of the runner's Docker images failed."""
