"""The instance-type catalog: DNAnexus instance-type names and the resources each one stands for."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources

GIB = 1024**3


@dataclass(frozen=True, slots=True)
class InstanceType:
    """One instance type: cores, memory (GiB), local storage (GB) and GPUs."""

    name: str
    cores: int
    memory_gib: float
    storage_gb: int
    gpus: int

    @property
    def memory_bytes(self) -> int:
        """Memory as a byte count, for container limits."""
        return int(self.memory_gib * GIB)


@cache
def catalog() -> dict[str, InstanceType]:
    """Every known instance type, by name (Azure names carry the prefix `azure:`)."""
    text = resources.files("runner.spec").joinpath("instance-types.tsv").read_text(encoding="utf-8")
    types: dict[str, InstanceType] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith(("#", "name\t")):
            continue
        name, cores, memory, storage, gpus = line.split("\t")
        types[name] = InstanceType(name, int(cores), float(memory), int(storage), int(gpus))
    return types


def lookup(name: str) -> InstanceType | None:
    """The instance type called `name`, or None when the catalog has no such name."""
    return catalog().get(name)


def closest_names(name: str, limit: int = 3) -> list[str]:
    """The catalog names closest to a misspelled `name`, best first."""
    return difflib.get_close_matches(name, list(catalog()), n=limit, cutoff=0.6)


def unknown_type_message(name: str) -> str:
    """The message for an instance-type name the catalog does not know, with suggestions."""
    suggestions = closest_names(name)
    hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    return f"unknown instance type {name!r}{hint}"
