"""How a job's try ended: its output, or its failure reason and message.

The launcher leaves `output.json` or `error.json` in the job's work/ folder, which the job controls too:
they are read only through `job_files.read_document` (no link followed, size and depth limits), and a
document that cannot be used fails the job with an AppInternalError naming it. What the engine knows better
than the launcher comes first: the runner stopped the container (terminate or timeout), or Docker reports
the kernel's OOM kill; exit 137 that the runner did not cause is taken as an OOM kill too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.backends.base import ContainerExit
from runner.engine.job_files import ERROR, OUTPUT, JobFileError, keep_document, read_document

APP_ERROR_TYPES = ("AppError", "AppInternalError")
SIGKILL_EXIT = 137


@dataclass(frozen=True, slots=True)
class Outcome:
    """Either `output` (success) or `failure_reason` with `failure_message`; `stopped` when terminated."""

    output: dict[str, Any] | None = None
    failure_reason: str | None = None
    failure_message: str | None = None
    stopped: bool = False

    @property
    def succeeded(self) -> bool:
        """Whether the try produced an output."""
        return self.output is not None and self.failure_reason is None and not self.stopped


def _take(folder: Path, name: str) -> dict[str, Any] | None:
    """The checked document work/`name` (copied into the job folder), None when there is none."""
    document = read_document(folder, name)
    if document is not None:
        keep_document(folder, name, document)
    return document


def _limit_text(memory_bytes: int) -> str:
    return f"{memory_bytes / 2**30:.1f} GiB" if memory_bytes else "no limit"


def outcome_of(exit: ContainerExit, job_dir: Path, *, timeout_text: str, memory_bytes: int,
               instance_type: str) -> Outcome:
    """The outcome of one try from how its container ended and what was left in `job_dir`'s work/."""
    try:
        return _outcome(exit, job_dir, timeout_text, memory_bytes, instance_type)
    except JobFileError as exc:
        return Outcome(failure_reason="AppInternalError", failure_message=str(exc))


def _outcome(exit: ContainerExit, job_dir: Path, timeout_text: str, memory_bytes: int,
             instance_type: str) -> Outcome:
    if exit.stopped_by_runner:
        return Outcome(stopped=True)
    if exit.timed_out:
        return Outcome(failure_reason="JobTimeoutExceeded",
                       failure_message=f"The job ran longer than its timeout of {timeout_text} and was stopped")
    if exit.resource_error:
        return Outcome(failure_reason="AppInsufficientResourceError", failure_message=exit.resource_error)
    if exit.oom_killed or exit.exit_code == SIGKILL_EXIT:
        return Outcome(failure_reason="AppInsufficientResourceError",
                       failure_message=f"The job ran out of memory: it was killed at the memory limit of its "
                                       f"instance type {instance_type} ({_limit_text(memory_bytes)}); "
                                       "choose an instance type with more memory")
    error = _take(job_dir, ERROR)
    if error is not None and isinstance(error.get("error"), dict):
        kind = error["error"].get("type")
        message = str(error["error"].get("message", ""))
        reason = kind if kind in APP_ERROR_TYPES else "AppInternalError"
        return Outcome(failure_reason=reason, failure_message=message)
    if exit.exit_code not in (0, None):
        return Outcome(failure_reason="AppInternalError",
                       failure_message=f"the job's container exited with code {exit.exit_code}")
    if exit.exit_code is None:
        return Outcome(stopped=True)
    output = _take(job_dir, OUTPUT)
    if output is None:
        return Outcome(failure_reason="AppInternalError", failure_message=f"the job left no {OUTPUT}")
    if "error" in output and set(output) == {"error"} and isinstance(output["error"], dict):
        return Outcome(failure_reason="AppInternalError", failure_message=str(output["error"].get("message")))
    return Outcome(output=output)


def error_reason(job_dir: Path) -> tuple[str, str]:
    """The failure reason and message of the error.json the launcher wrote (AppInternalError if it wrote none)."""
    try:
        error = read_document(job_dir, ERROR)
    except JobFileError as exc:
        return "AppInternalError", str(exc)
    if error is None or not isinstance(error.get("error"), dict):
        return "AppInternalError", "the job failed without writing an error document"
    kind = error["error"].get("type")
    return (kind if kind in APP_ERROR_TYPES else "AppInternalError"), str(error["error"].get("message", ""))


def seconds_text(seconds: float) -> str:
    """A duration for messages: `6s`, `10m`, `2h 30m`."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return " ".join(p for p in parts if p) or "0s"
