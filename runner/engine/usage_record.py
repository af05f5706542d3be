"""A job's usage kept with it: `jobs/<id>/usage.ndjson`, one line per sample, and describe's summary of it.

Every sample of every try is appended (the event stream gets fewer: `usage.py`). The file is bounded without
losing the start of a long job: once it holds MAX_LINES lines it is rewritten with neighbouring samples of
the same try merged in pairs (CPU averaged, its maximum kept; memory's maximum kept), so it never exceeds
MAX_LINES lines and always covers the whole of every try, older parts at a coarser grain. A line:

    {"time": ms, "try": 0, "cpuPercent": 98.2, "memoryBytes": 1048576, "memoryPeakBytes": 2097152,
     "gpuPercent": 40.0, "gpuMemoryBytes": 4096, "samples": 2, "cpuPercentMax": 99.0, "since": ms}

(`gpu*` only for a try with GPUs; `samples`, `cpuPercentMax`, `since` only on merged lines.)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
USAGE_FILE = "usage.ndjson"
MAX_LINES = 1000
MAX_READ_BYTES = 4 << 20


def usage_path(job_dir: Path) -> Path:
    """The usage record of the job whose folder is `job_dir`."""
    return job_dir / USAGE_FILE


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The samples in a usage record, oldest first (a torn or garbled line is skipped; none when it is absent)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return []
    with os.fdopen(fd, "rb") as stream:
        data = stream.read(MAX_READ_BYTES)
    lines = []
    for raw in data.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and isinstance(line.get("time"), int):
            lines.append(line)
    return lines


class UsageRecord:
    """Appends one try's samples to a job's usage record, compacting it when it is full."""

    def __init__(self, job_dir: Path) -> None:
        self.path = usage_path(job_dir)
        self._lines = len(read_lines(self.path))

    def append(self, line: dict[str, Any]) -> None:
        """Add one sample (OSError when the folder cannot be written)."""
        if self._lines + 1 >= MAX_LINES:
            kept = compacted(read_lines(self.path))
            _rewrite(self.path, kept)
            self._lines = len(kept)
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._lines += 1


def _rewrite(path: Path, lines: Iterable[dict[str, Any]]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as stream:
        stream.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    os.replace(temporary, path)


def compacted(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The samples with each pair of neighbours of the same try merged into one (about half as many lines)."""
    kept: list[dict[str, Any]] = []
    index = 0
    while index < len(lines):
        first = lines[index]
        second = lines[index + 1] if index + 1 < len(lines) else None
        if second is not None and second.get("try") == first.get("try"):
            kept.append(merged(first, second))
            index += 2
        else:
            kept.append(first)
            index += 1
    return kept


def merged(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two neighbouring samples as one: CPU and GPU utilisation averaged (and their maximum kept), memory's maximum."""
    na, nb = int(a.get("samples", 1)), int(b.get("samples", 1))
    line: dict[str, Any] = {"time": b["time"], "try": b.get("try", 0), "samples": na + nb,
                            "since": a.get("since", a["time"])}
    line["cpuPercent"] = round((_num(a, "cpuPercent") * na + _num(b, "cpuPercent") * nb) / (na + nb), 1)
    line["cpuPercentMax"] = max(_num(a, "cpuPercentMax", "cpuPercent"), _num(b, "cpuPercentMax", "cpuPercent"))
    line["memoryBytes"] = max(int(_num(a, "memoryBytes")), int(_num(b, "memoryBytes")))
    peaks = [int(p) for p in (a.get("memoryPeakBytes"), b.get("memoryPeakBytes")) if isinstance(p, (int, float))]
    line["memoryPeakBytes"] = max(peaks) if peaks else None
    if "gpuPercent" in a or "gpuPercent" in b:
        line["gpuPercent"] = round((_num(a, "gpuPercent") * na + _num(b, "gpuPercent") * nb) / (na + nb), 1)
        line["gpuPercentMax"] = max(_num(a, "gpuPercentMax", "gpuPercent"), _num(b, "gpuPercentMax", "gpuPercent"))
        line["gpuMemoryBytes"] = max(int(_num(a, "gpuMemoryBytes")), int(_num(b, "gpuMemoryBytes")))
    return line


def _num(line: dict[str, Any], key: str, fallback: str | None = None) -> float:
    value = line.get(key, line.get(fallback) if fallback else None)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def usage_summary(job_dir: Path, try_: int) -> dict[str, Any] | None:
    """Describe's `runnerUsage` of one try: samples, CPU % (max, mean), memory (peak, last), GPUs; None without any."""
    lines = [line for line in read_lines(usage_path(job_dir)) if line.get("try", 0) == try_]
    if not lines:
        return None
    counts = [int(line.get("samples", 1)) for line in lines]
    total = sum(counts)
    memory = [max(int(_num(line, "memoryBytes")), int(_num(line, "memoryPeakBytes"))) for line in lines]
    summary: dict[str, Any] = {
        "samples": total,
        "cpuPercentMax": max(_num(line, "cpuPercentMax", "cpuPercent") for line in lines),
        "cpuPercentMean": round(sum(_num(line, "cpuPercent") * n for line, n in zip(lines, counts)) / total, 1),
        "memoryBytesPeak": max(memory),
        "memoryBytesLast": int(_num(lines[-1], "memoryBytes")),
        "firstSampleAt": int(lines[0].get("since", lines[0]["time"])),
        "lastSampleAt": int(lines[-1]["time"]),
    }
    if any("gpuPercent" in line for line in lines):
        summary["gpuPercentMax"] = max(_num(line, "gpuPercentMax", "gpuPercent") for line in lines)
        summary["gpuMemoryBytesPeak"] = max(int(_num(line, "gpuMemoryBytes")) for line in lines)
    return summary
