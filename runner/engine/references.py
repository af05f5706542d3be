"""Job-based object references: finding them in an input or output, and resolving them once jobs are done."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.spec.job_states import JobState
from runner.spec.links import JobRef, job_ref


@dataclass(frozen=True, slots=True)
class ReferencedJob:
    """What resolution needs to know of a referenced job."""

    state: JobState
    output: Mapping[str, Any] | None


@dataclass(slots=True)
class Resolution:
    """A value with every resolvable reference replaced; what it still waits on; why it cannot resolve."""

    value: Any
    waiting_on: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether nothing is left to wait for and nothing failed."""
        return not self.waiting_on and not self.failures


def references_in(value: Any) -> list[JobRef]:
    """Every job-based reference inside a JSON value, in document order."""
    ref = job_ref(value)
    if ref is not None:
        return [ref]
    if isinstance(value, list):
        return [r for item in value for r in references_in(item)]
    if isinstance(value, Mapping):
        return [r for item in value.values() for r in references_in(item)]
    return []


def resolve(value: Any, lookup: Callable[[str], ReferencedJob | None]) -> Resolution:
    """Replace the references whose jobs are done by the fields they name."""
    resolution = Resolution(value=None)
    resolution.value = _resolve(value, lookup, resolution)
    return resolution


def _resolve(value: Any, lookup: Callable[[str], ReferencedJob | None], out: Resolution) -> Any:
    ref = job_ref(value)
    if ref is not None:
        return _resolve_one(ref, value, lookup, out)
    if isinstance(value, list):
        return [_resolve(item, lookup, out) for item in value]
    if isinstance(value, Mapping):
        return {key: _resolve(item, lookup, out) for key, item in value.items()}
    return value


def _resolve_one(ref: JobRef, original: Any, lookup: Callable[[str], ReferencedJob | None], out: Resolution) -> Any:
    job = lookup(ref.job)
    if job is None:
        out.failures.append(f"the referenced job {ref.job} does not exist")
        return original
    if job.state in (JobState.FAILED, JobState.TERMINATED):
        out.failures.append(f"the referenced job {ref.job} is {job.state.value}")
        return original
    if job.state is not JobState.DONE or job.output is None:
        out.waiting_on.add(ref.job)
        return original
    if ref.field not in job.output:
        out.failures.append(f"the referenced job {ref.job} has no output field {ref.field!r}")
        return original
    result = job.output[ref.field]
    if ref.index is None:
        return result
    if not isinstance(result, list) or ref.index >= len(result):
        out.failures.append(f"{ref.job}:{ref.field} has no element {ref.index}")
        return original
    return result[ref.index]
