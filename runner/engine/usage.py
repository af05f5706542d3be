"""The usage sampler: one task reads every running try's CPU, memory and GPUs every `usage_interval_s`.

Each round reads the backend's `usage(job_id)` hook (Docker: the container's cgroup files) and, for a try
given GPUs, NVML, all in one worker thread. CPU % is the CPU time used between two readings over the time
between them, of one core as `top` shows it (150 = one and a half cores). Every sample is appended to the
job's `usage.ndjson` (`usage_record.py`: the record, bounded, describe's `runnerUsage`); the event stream
gets a `job.usage` event only when it tells a client something new:

- a try's first sample, or CPU moved by CPU_STEP points, memory by MEMORY_STEP of itself (and at least
  MEMORY_MIN_STEP), a GPU's utilisation by CPU_STEP points or its memory by MEMORY_STEP;
- otherwise one every KEEPALIVE_S per try, so a steady job's sparkline still moves;
- at most MAX_EVENTS_PER_ROUND a round, the biggest changes first (the others keep their change and go in
  a later round).

The arithmetic, with the default 2 s interval and the store's default of 200,000 events kept: a tree of 200
steady jobs sends 200 / 30 s = 6.7 events/s (24,000 an hour); the worst case, every job changing at every
round, is capped at 25 / 2 s = 12.5 events/s (45,000 an hour), so usage alone needs more than 4 hours of
a 200-job tree to reach the store's bound, while the job's file keeps every sample.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.backends.base import Backend
from runner.backends.gpu_usage import GpuReader, GpuUsage
from runner.engine.usage_record import UsageRecord
from runner.spec.events import JobUsage
from runner.store.db import Database, now_ms
from runner.store.events import record
from runner.store.jobs import JobNotFound, get_job

log = logging.getLogger(__name__)
CPU_STEP = 10.0
MEMORY_STEP = 0.10
MEMORY_MIN_STEP = 16 << 20
KEEPALIVE_S = 30.0
MAX_EVENTS_PER_ROUND = 25
# Two readings closer than this say nothing reliable about CPU %.
MIN_SPAN_S = 0.05
# How long a closing engine waits for a round under way (one waiting on a Docker that does not answer is left).
STOP_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class Sampled:
    """A try to sample: its job, the engine's record of the try (a new object is a new try), its GPU indices."""

    job_id: str
    token: object
    gpu_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    """One sample of a try: CPU % of one core, memory now and at most, its GPUs."""

    cpu_percent: float
    memory_bytes: int
    memory_peak_bytes: int | None = None
    gpus: tuple[GpuUsage, ...] = ()


@dataclass(slots=True)
class _Track:
    job_id: str
    token: object
    root: str
    try_: int
    record: UsageRecord
    cpu_seconds: float | None = None
    read_at: float = 0.0
    sent: Reading | None = None
    sent_at: float = 0.0


@dataclass(slots=True)
class UsageSampler:
    """Samples the tries `tries()` names; `start(interval_s)` runs it as one task, `sample_once()` one round."""

    db: Database
    home: Path
    backend: Backend
    tries: Callable[[], list[Sampled]]
    gpus: GpuReader | None = None
    clock: Callable[[], float] = time.monotonic
    _tracks: dict[str, _Track] = field(default_factory=dict)

    def start(self, interval_s: float) -> asyncio.Task[None] | None:
        """The sampling task (None when `interval_s` is 0: sampling is off)."""
        if interval_s <= 0:
            return None
        return asyncio.create_task(self._run(interval_s), name="runner-usage")

    async def _run(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            tries = self.tries()
            if not tries and not self._tracks:
                continue
            round_ = asyncio.ensure_future(asyncio.to_thread(self.sample_once, tries))
            try:
                await asyncio.shield(round_)
            except asyncio.CancelledError:
                # The engine is closing: let the round in its thread end before the store may be closed.
                await asyncio.wait({round_}, timeout=STOP_WAIT_S)
                if round_.done() and not round_.cancelled() and round_.exception() is not None:
                    log.warning("sampling usage failed", exc_info=round_.exception())
                raise
            except Exception:  # noqa: BLE001 - a bad round must not end sampling
                log.warning("sampling usage failed", exc_info=True)

    def sample_once(self, tries: Sequence[Sampled]) -> int:
        """One round over `tries` (blocking): each sampled and recorded; the number of job.usage events sent."""
        wanted = {t.job_id for t in tries}
        for gone in set(self._tracks) - wanted:
            del self._tracks[gone]
        due: list[tuple[float, _Track, Reading]] = []
        for sampled in tries:
            track = self._track(sampled)
            reading = self._read(sampled, track) if track is not None else None
            if track is None or reading is None:
                continue
            try:
                track.record.append(_line(track, reading))
            except OSError as exc:
                log.debug("the usage record of %s cannot be written: %s", sampled.job_id, exc)
            score = change_score(track.sent, reading, self.clock() - track.sent_at)
            if score > 0:
                due.append((score, track, reading))
        due.sort(key=lambda item: item[0], reverse=True)
        chosen = due[:MAX_EVENTS_PER_ROUND]
        if chosen:
            self._send(chosen)
        return len(chosen)

    def _track(self, sampled: Sampled) -> _Track | None:
        track = self._tracks.get(sampled.job_id)
        if track is not None and track.token is sampled.token:
            return track
        try:
            job = get_job(self.db, sampled.job_id)
        except JobNotFound:
            return None
        track = _Track(sampled.job_id, sampled.token, str(job["rootExecution"]), int(job.get("try") or 0),
                       UsageRecord(self.home / "jobs" / sampled.job_id))
        self._tracks[sampled.job_id] = track
        return track

    def _read(self, sampled: Sampled, track: _Track) -> Reading | None:
        """This round's reading of the try, or None for its first (a baseline) or when it cannot be read."""
        try:
            usage = self.backend.usage(sampled.job_id)
        except Exception:  # noqa: BLE001 - the hook must not raise; one that does only loses its sample
            log.debug("the backend's usage of %s failed", sampled.job_id, exc_info=True)
            return None
        now = self.clock()
        if usage is None:
            return None
        before, span = track.cpu_seconds, now - track.read_at
        if before is not None and span < MIN_SPAN_S:
            return None
        track.cpu_seconds, track.read_at = usage.cpu_seconds, now
        if before is None or usage.cpu_seconds < before:  # a first reading, or a new container of the job
            return None
        gpus = tuple(self.gpus.read(sampled.gpu_ids)) if self.gpus is not None and sampled.gpu_ids else ()
        percent = round((usage.cpu_seconds - before) / span * 100, 1)
        return Reading(percent, usage.memory_bytes, usage.memory_peak_bytes, gpus)

    def _send(self, chosen: list[tuple[float, _Track, Reading]]) -> None:
        at, now = now_ms(), self.clock()
        try:
            with self.db.transaction() as conn:
                for _, track, reading in chosen:
                    record(self.db, conn, _event(track, reading, at))
        except Exception as exc:  # noqa: BLE001 - a store that refuses (a full disk) only loses samples
            log.warning("cannot record %d job.usage events: %s", len(chosen), exc)
            return
        for _, track, reading in chosen:
            track.sent, track.sent_at = reading, now


def change_score(sent: Reading | None, now: Reading, since_s: float) -> float:
    """How much `now` tells that the last event sent did not: 0 nothing, 0.5 only that KEEPALIVE_S passed,
    1 or more a change of at least one step (the bigger, the sooner it is sent)."""
    if sent is None:
        return 100.0
    score = abs(now.cpu_percent - sent.cpu_percent) / CPU_STEP
    score = max(score, _relative(now.memory_bytes, sent.memory_bytes, MEMORY_MIN_STEP))
    old = {g.index: g for g in sent.gpus}
    for gpu in now.gpus:
        before = old.get(gpu.index)
        if before is None:
            return 100.0
        score = max(score, abs(gpu.util_percent - before.util_percent) / CPU_STEP,
                    _relative(gpu.memory_bytes, before.memory_bytes, 0))
    if score >= 1:
        return score
    return 0.5 if since_s >= KEEPALIVE_S else 0.0


def _relative(now: int, before: int, least: int) -> float:
    step = max(before * MEMORY_STEP, least, 1)
    return abs(now - before) / step


def _line(track: _Track, reading: Reading) -> dict[str, Any]:
    line: dict[str, Any] = {"time": now_ms(), "try": track.try_, "cpuPercent": reading.cpu_percent,
                            "memoryBytes": reading.memory_bytes, "memoryPeakBytes": reading.memory_peak_bytes}
    if reading.gpus:
        line["gpuPercent"] = round(sum(g.util_percent for g in reading.gpus) / len(reading.gpus), 1)
        line["gpuMemoryBytes"] = sum(g.memory_bytes for g in reading.gpus)
    return line


def _event(track: _Track, reading: Reading, at: int) -> JobUsage:
    gpus = [{"index": g.index, "util_percent": g.util_percent, "memory_bytes": g.memory_bytes,
             "memory_total_bytes": g.memory_total_bytes} for g in reading.gpus]
    return JobUsage(seq=0, time=at, job=track.job_id, root=track.root, cpu_percent=reading.cpu_percent,
                    memory_bytes=reading.memory_bytes, memory_peak_bytes=reading.memory_peak_bytes, gpus=gpus,
                    try_=track.try_)
