"""The engine's own fields of a job, typed: what it keeps beside the describe fields.

A stored job is a describe-shaped document; the engine's bookkeeping travels with it under keys that start
with `_` (describe never shows them). This module is the one place that knows those keys: read them with
`record_of(job)`, write them with `stored(...)`, which takes the attribute names below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# attribute -> stored key
KEYS = {
    "resources": "_resources",
    "master": "_master",
    "reuse": "_reuse",
    "reuse_key": "_reuseKey",
    "raw_output": "_rawOutput",
    "output_destination": "_outputDestination",
    "timeout_source": "_timeoutSource",
    "timeout_policy_by_executable": "_timeoutPolicyByExecutable",
    "master_run_requirements": "_masterRunSR",
    "tries": "_tries",
    "transitions_before": "_transitionsBefore",
    "assignment": "_assignment",
}


@dataclass(frozen=True, slots=True)
class JobResources:
    """What a job's instance type gives it: cores, memory, GPUs and local disk."""

    cores: float = 1.0
    memory_bytes: int = 0
    gpus: int = 0
    disk_bytes: int = 0

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None) -> JobResources:
        """From the stored `{"cores", "memoryBytes", "gpus", "diskBytes"}`."""
        stored = stored or {}
        return cls(float(stored.get("cores", 1.0)), int(stored.get("memoryBytes", 0)), int(stored.get("gpus", 0)),
                   int(stored.get("diskBytes", 0)))

    def document(self) -> dict[str, Any]:
        """The stored form."""
        return {"cores": self.cores, "memoryBytes": self.memory_bytes, "gpus": self.gpus, "diskBytes": self.disk_bytes}


@dataclass(frozen=True, slots=True)
class JobRecord:
    """The engine's bookkeeping of one job.

    `master`: the master job of a run (its outputs are checked against the outputSpec and cloned out);
    `reuse`/`reuse_key`: whether reuse was asked for, and the key of an equal job; `raw_output`: the output as
    the job wrote it, references unresolved; `output_destination`: where a master's outputs are cloned;
    `timeout_source`: which level set the timeout; `timeout_policy_by_executable` and `master_run_requirements`:
    what the tree passes down to subjobs; `tries`: the describes of earlier tries; `transitions_before`: how many
    state transitions belong to them; `assignment`: the CPUs and GPUs the scheduler gave the running try
    (`runner.engine.scheduler.Assignment`'s stored form), so that a restarted engine gives them back.
    """

    resources: JobResources = JobResources()
    master: bool = False
    reuse: bool = False
    reuse_key: str | None = None
    raw_output: Mapping[str, Any] | None = None
    output_destination: Mapping[str, Any] | None = None
    timeout_source: str | None = None
    timeout_policy_by_executable: Mapping[str, Any] | None = None
    master_run_requirements: Mapping[str, Any] | None = None
    tries: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    transitions_before: int = 0
    assignment: Mapping[str, Any] | None = None


def record_of(job: Mapping[str, Any]) -> JobRecord:
    """The engine's fields of a stored job."""
    return JobRecord(
        resources=JobResources.of(job.get(KEYS["resources"])),
        master=bool(job.get(KEYS["master"])),
        reuse=bool(job.get(KEYS["reuse"])),
        reuse_key=job.get(KEYS["reuse_key"]),
        raw_output=job.get(KEYS["raw_output"]),
        output_destination=job.get(KEYS["output_destination"]) or None,
        timeout_source=job.get(KEYS["timeout_source"]),
        timeout_policy_by_executable=job.get(KEYS["timeout_policy_by_executable"]),
        master_run_requirements=job.get(KEYS["master_run_requirements"]),
        tries=tuple(job.get(KEYS["tries"]) or ()),
        transitions_before=int(job.get(KEYS["transitions_before"]) or 0),
        assignment=job.get(KEYS["assignment"]) or None,
    )


def stored(**changes: Any) -> dict[str, Any]:
    """The stored keys for engine fields given by attribute name (`stored(reuse_key=k)` → `{"_reuseKey": k}`)."""
    unknown = sorted(set(changes) - set(KEYS))
    if unknown:
        raise TypeError(f"no engine field {unknown[0]!r} (known: {', '.join(KEYS)})")
    values = {KEYS[name]: value for name, value in changes.items()}
    resources = changes.get("resources")
    if isinstance(resources, JobResources):
        values[KEYS["resources"]] = resources.document()
    if "tries" in changes:
        values[KEYS["tries"]] = [dict(t) for t in changes["tries"]]
    return values

