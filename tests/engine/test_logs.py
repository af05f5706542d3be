"""Job logs: timestamped lines in job.log, read back by offset or byte range, and recorded through the hub."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from runner.engine.logs import JobLog, LogEntry, LogHub, format_time, parse_time, read_entries, read_range

AT = 1_795_255_200_123  # 2026-11-21T10:00:00.123Z


def test_a_line_is_written_in_the_documented_format(tmp_path: Path) -> None:
    log = JobLog(tmp_path / "job-1")
    entry = log.append("stdout", "Hello world", at_ms=AT)
    assert entry == LogEntry(AT, "stdout", "Hello world")
    assert (tmp_path / "job-1" / "job.log").read_text() == "2026-11-21T10:00:00.123Z stdout Hello world\n"


def test_times_keep_milliseconds_and_round_trip() -> None:
    assert format_time(0) == "1970-01-01T00:00:00.000Z"
    assert format_time(AT) == "2026-11-21T10:00:00.123Z"
    assert format_time(AT + 877) == "2026-11-21T10:00:01.000Z"
    for at in (0, 1, 999, AT, AT + 5):
        assert parse_time(format_time(at)) == at
    with pytest.raises(ValueError):
        parse_time("2026-11-21T10:00:00.123")


def test_append_is_written_at_once_and_uses_the_clock(tmp_path: Path) -> None:
    log = JobLog(tmp_path)
    entry = log.append("runner", "try 1 started")
    entries, _ = read_entries(tmp_path)
    assert entries == [entry]
    assert entry.at_ms > 1_700_000_000_000


def test_text_with_newlines_becomes_several_lines(tmp_path: Path) -> None:
    log = JobLog(tmp_path)
    entry = log.append("stderr", "one\r\ntwo\n\nfour\n", at_ms=AT)
    assert entry.text == "one\ntwo\n\nfour"
    entries, _ = read_entries(tmp_path)
    assert [(e.stream, e.text) for e in entries] == [("stderr", "one"), ("stderr", "two"), ("stderr", ""),
                                                     ("stderr", "four")]
    assert {e.at_ms for e in entries} == {AT}


def test_spaces_and_empty_lines_survive(tmp_path: Path) -> None:
    log = JobLog(tmp_path)
    log.append("stdout", "", at_ms=AT)
    log.append("stdout", "  two  spaces ", at_ms=AT)
    entries, _ = read_entries(tmp_path)
    assert [e.text for e in entries] == ["", "  two  spaces "]


def test_unknown_streams_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stream"):
        JobLog(tmp_path).append("state", "running")
    assert not (tmp_path / "job.log").exists()


def test_a_closed_log_refuses_appends(tmp_path: Path) -> None:
    with JobLog(tmp_path) as log:
        log.append("stdout", "a")
    with pytest.raises(ValueError, match="closed"):
        log.append("stdout", "b")
    assert len(read_entries(tmp_path)[0]) == 1


def test_for_job_puts_the_log_under_jobs(tmp_path: Path) -> None:
    JobLog.for_job(tmp_path, "job-7").append("stdout", "x")
    assert (tmp_path / "jobs" / "job-7" / "job.log").is_file()


def test_appends_from_two_threads_keep_every_line_whole(tmp_path: Path) -> None:
    log = JobLog(tmp_path)
    other = JobLog(tmp_path)  # a second writer on the same file must not tear lines either
    count = 2000

    def write(writer: JobLog, stream: str) -> None:
        for i in range(count):
            writer.append(stream, f"{stream} line {i} " + "x" * 100)

    threads = [threading.Thread(target=write, args=(log, "stdout")),
               threading.Thread(target=write, args=(other, "stderr"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries, offset = read_entries(tmp_path)
    assert offset == (tmp_path / "job.log").stat().st_size
    for stream in ("stdout", "stderr"):
        texts = [e.text for e in entries if e.stream == stream]
        assert texts == [f"{stream} line {i} " + "x" * 100 for i in range(count)]


def test_reading_from_an_offset_returns_only_new_lines(tmp_path: Path) -> None:
    log = JobLog(tmp_path)
    log.append("stdout", "one", at_ms=AT)
    first, offset = read_entries(tmp_path)
    assert [e.text for e in first] == ["one"]
    assert read_entries(tmp_path, offset) == ([], offset)
    log.append("stderr", "two\nthree", at_ms=AT + 1)
    later, end = read_entries(tmp_path, offset)
    assert later == [LogEntry(AT + 1, "stderr", "two"), LogEntry(AT + 1, "stderr", "three")]
    assert end == (tmp_path / "job.log").stat().st_size


def test_a_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    JobLog(tmp_path).append("stdout", "whole", at_ms=AT)
    with open(tmp_path / "job.log", "ab") as raw:
        raw.write(b"2026-11-21T10:00:00.124Z stdout hal")
    entries, offset = read_entries(tmp_path)
    assert [e.text for e in entries] == ["whole"]
    with open(tmp_path / "job.log", "ab") as raw:
        raw.write(b"f\n")
    rest, end = read_entries(tmp_path, offset)
    assert rest == [LogEntry(AT + 1, "stdout", "half")]
    assert end > offset


def test_unicode_text_round_trips_and_offsets_count_bytes(tmp_path: Path) -> None:
    JobLog(tmp_path).append("stdout", "héllo \ufffd ✓", at_ms=AT)
    entries, offset = read_entries(tmp_path)
    assert entries[0].text == "héllo \ufffd ✓"
    assert offset == len((tmp_path / "job.log").read_bytes())


def test_a_missing_log_reads_as_empty(tmp_path: Path) -> None:
    assert read_entries(tmp_path / "nothing", 17) == ([], 17)


def test_lines_not_in_the_format_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "job.log").write_bytes(b"garbage\n2026-11-21T10:00:00.123Z stdout ok\n\n")
    entries, offset = read_entries(tmp_path)
    assert entries == [LogEntry(AT, "stdout", "ok")]
    assert offset == len((tmp_path / "job.log").read_bytes())


# -- the hub -------------------------------------------------------------------------------------------


def test_the_hub_records_the_lines_written_with_their_byte_range(tmp_path: Path) -> None:
    recorded: list[tuple[str, LogEntry]] = []
    hub, log = LogHub(lambda job_id, entry: recorded.append((job_id, entry))), JobLog(tmp_path)
    first, second = log.append("stdout", "one"), log.append("stderr", "two\nthree")
    hub.publish("job-1", first)
    hub.publish("job-1", second)
    hub.publish("job-1", LogEntry(AT, "stdout", "never written"))
    assert [(job, entry.text, entry.span) for job, entry in recorded] == [
        ("job-1", "one", first.span), ("job-1", "two\nthree", second.span)]
    assert first.span is not None and second.span is not None and first.span[1] == second.span[0]
    assert second.span[1] == len((tmp_path / "job.log").read_bytes())
    written = [(e.stream, e.text) for e in read_range(tmp_path, *second.span)]
    assert written == [("stderr", "two"), ("stderr", "three")]


def test_a_recorder_that_fails_is_logged_and_the_line_stays_in_the_log(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def broken(job_id: str, entry: LogEntry) -> None:
        raise OSError("disk full")

    entry = JobLog(tmp_path).append("stdout", "kept")
    LogHub(broken).publish("job-1", entry)
    assert "cannot record the log event of job-1: disk full" in caplog.text
    assert [e.text for e in read_entries(tmp_path)[0]] == ["kept"]


def test_a_line_that_cannot_be_written_still_gives_an_entry(tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "job-1" / "job.log").mkdir(parents=True)  # any OSError on write: a full disk, say
    log = JobLog(tmp_path / "job-1")
    first, second = log.append_or_keep("stdout", "one"), log.append_or_keep("stderr", "two\nthree")
    assert (first.stream, first.text, second.stream, second.text) == ("stdout", "one", "stderr", "two\nthree")
    warnings = [r.getMessage() for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(warnings) == 1 and "job.log" in warnings[0]
