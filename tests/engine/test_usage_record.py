"""A job's usage record: every sample appended, bounded by merging neighbours, summarised for describe."""

from __future__ import annotations

from pathlib import Path

from runner.engine.usage_record import (
    MAX_LINES,
    UsageRecord,
    compacted,
    read_lines,
    usage_path,
    usage_summary,
)

MIB = 2**20


def test_the_record_stays_bounded_and_still_covers_the_whole_try(tmp_path: Path) -> None:
    record = UsageRecord(tmp_path)
    for n in range(3 * MAX_LINES):
        record.append({"time": 1000 * n, "try": 0, "cpuPercent": 400.0 if n == 7 else 50.0,
                       "memoryBytes": (n + 1) * MIB, "memoryPeakBytes": None})
    lines = read_lines(usage_path(tmp_path))
    assert MAX_LINES // 2 <= len(lines) < MAX_LINES
    summary = usage_summary(tmp_path, 0)
    assert summary is not None
    assert summary["samples"] == 3 * MAX_LINES and summary["cpuPercentMax"] == 400.0
    assert (summary["firstSampleAt"], summary["lastSampleAt"]) == (0, 1000 * (3 * MAX_LINES - 1))
    assert summary["memoryBytesPeak"] == 3 * MAX_LINES * MIB
    assert abs(summary["cpuPercentMean"] - (50 + 350 / (3 * MAX_LINES))) < 0.2


def test_merging_never_joins_two_tries_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    lines = [{"time": 1, "try": 0, "cpuPercent": 10.0, "memoryBytes": 1}, {"time": 2, "try": 1, "cpuPercent": 30.0,
             "memoryBytes": 5}, {"time": 3, "try": 1, "cpuPercent": 50.0, "memoryBytes": 4}]
    assert [(line["try"], line.get("samples", 1)) for line in compacted(lines)] == [(0, 1), (1, 2)]
    usage_path(tmp_path).write_text('{"time": 5, "try": 2, "cpuPercent": 70.0, "memoryBytes": 9}\n{"time": 6, "tr')
    assert [line["time"] for line in read_lines(usage_path(tmp_path))] == [5]
    summary = usage_summary(tmp_path, 2)
    assert summary is not None and summary["samples"] == 1 and summary["memoryBytesLast"] == 9
