"""Job logs: timestamped lines in job.log, read back by offset, and fanned out live through the hub."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from runner.engine.logs import JobLog, LogEntry, LogHub, format_time, parse_time, read_entries, wait_for_news

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


def _entry(i: int, stream: str = "stdout") -> LogEntry:
    return LogEntry(AT + i, stream, f"line {i}")


def _drain(queue: asyncio.Queue[tuple[str, LogEntry]]) -> list[tuple[str, LogEntry]]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


@pytest.mark.asyncio
async def test_subscribers_get_only_the_jobs_they_follow() -> None:
    hub = LogHub()
    one = hub.subscribe(lambda job_id: job_id == "job-1")
    every = hub.subscribe(lambda job_id: True)
    hub.publish("job-1", _entry(1))
    hub.publish("job-2", _entry(2))
    assert _drain(one) == [("job-1", _entry(1))]
    assert _drain(every) == [("job-1", _entry(1)), ("job-2", _entry(2))]


@pytest.mark.asyncio
async def test_a_waiting_subscriber_is_woken() -> None:
    hub = LogHub()
    queue = hub.subscribe(lambda job_id: True)
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    hub.publish("job-1", _entry(1))
    assert await asyncio.wait_for(waiter, 1) == ("job-1", _entry(1))


@pytest.mark.asyncio
async def test_an_unsubscribed_queue_gets_nothing_more() -> None:
    hub = LogHub()
    queue = hub.subscribe(lambda job_id: True)
    hub.publish("job-1", _entry(1))
    hub.unsubscribe(queue)
    hub.unsubscribe(queue)  # a second time is harmless
    hub.publish("job-1", _entry(2))
    assert _drain(queue) == [("job-1", _entry(1))]


@pytest.mark.asyncio
async def test_a_full_queue_drops_the_oldest_and_says_how_many() -> None:
    hub = LogHub(maxsize=5)
    slow = hub.subscribe(lambda job_id: True)
    for i in range(8):
        hub.publish("job-1", _entry(i))
    items = _drain(slow)
    assert items[0] == ("job-1", LogEntry(AT + 2, "runner", "(3 log lines dropped)"))
    assert items[1:] == [("job-1", _entry(i)) for i in range(3, 8)]


@pytest.mark.asyncio
async def test_drops_are_counted_per_job_and_reported_once() -> None:
    hub = LogHub(maxsize=3)
    slow = hub.subscribe(lambda job_id: True)
    for i, job_id in enumerate(["job-a", "job-b", "job-a", "job-c", "job-c", "job-c"]):
        hub.publish(job_id, _entry(i))
    first = [await slow.get() for _ in range(2)]
    assert first == [("job-a", LogEntry(AT + 2, "runner", "(2 log lines dropped)")),
                     ("job-b", LogEntry(AT + 1, "runner", "(1 log lines dropped)"))]
    assert _drain(slow) == [("job-c", _entry(i)) for i in (3, 4, 5)]
    hub.publish("job-c", _entry(6))
    assert _drain(slow) == [("job-c", _entry(6))]


@pytest.mark.asyncio
async def test_the_default_queue_holds_10000_before_dropping() -> None:
    hub = LogHub()
    slow = hub.subscribe(lambda job_id: True)
    fast = hub.subscribe(lambda job_id: True)
    for i in range(10_001):
        hub.publish("job-1", _entry(i))
        if i % 100 == 0:
            _drain(fast)
    assert slow.maxsize == 10_000
    first = await slow.get()
    assert first[1].text == "(1 log lines dropped)"
    assert (await slow.get())[1] == _entry(1)
    assert all(item[1].stream == "stdout" for item in _drain(fast))


@pytest.mark.asyncio
async def test_publishing_from_another_thread_reaches_the_loop() -> None:
    hub = LogHub()
    queue = hub.subscribe(lambda job_id: True)

    def publish() -> None:
        for i in range(3):
            hub.publish("job-1", _entry(i))

    thread = threading.Thread(target=publish)
    thread.start()
    got = [await asyncio.wait_for(queue.get(), 2) for _ in range(3)]
    thread.join()
    assert got == [("job-1", _entry(i)) for i in range(3)]


def test_publishing_to_a_subscriber_whose_loop_closed_is_harmless() -> None:
    hub = LogHub()

    async def subscribe() -> asyncio.Queue[tuple[str, LogEntry]]:
        return hub.subscribe(lambda job_id: True)

    async def publish() -> None:
        hub.publish("job-1", _entry(2))

    queue = asyncio.run(subscribe())
    hub.publish("job-1", _entry(1))  # from no loop
    asyncio.run(publish())  # from another loop
    assert queue.empty()


def test_a_subscriber_made_outside_a_loop_is_fed_directly() -> None:
    hub = LogHub()
    queue = hub.subscribe(lambda job_id: True)
    hub.publish("job-1", _entry(1))
    assert queue.get_nowait() == ("job-1", _entry(1))


@pytest.mark.asyncio
async def test_one_wake_up_takes_a_whole_burst_of_lines() -> None:
    hub = LogHub()
    queue = hub.subscribe(lambda job_id: True)
    for n in range(5):
        hub.publish("job-a", LogEntry(n, "stdout", f"line {n}"))
    await wait_for_news(queue, timeout_s=5)
    assert queue.empty()
    hub.unsubscribe(queue)


@pytest.mark.asyncio
async def test_waiting_for_news_gives_up_after_the_timeout() -> None:
    queue = LogHub().subscribe(lambda job_id: True)
    await wait_for_news(queue, timeout_s=0.01)
    assert queue.empty()


def test_a_line_that_cannot_be_written_still_reaches_live_followers(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "job-1" / "job.log").mkdir(parents=True)  # any OSError on write: a full disk, say
    log = JobLog(tmp_path / "job-1")
    first, second = log.append_or_keep("stdout", "one"), log.append_or_keep("stderr", "two\nthree")
    assert (first.stream, first.text, second.stream, second.text) == ("stdout", "one", "stderr", "two\nthree")
    warnings = [r.getMessage() for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(warnings) == 1 and "job.log" in warnings[0]
