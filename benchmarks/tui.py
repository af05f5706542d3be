"""The terminal UI under load: a 2,000-job tree getting 200 state changes a second for 10 s.

    python3 benchmarks/tui.py [--roots 20] [--per-root 100] [--rate 200] [--seconds 10] [--repeat 3]
                              [--terminal headless|pty] [--write]

Each trial is a process of its own (`--trial loaded|idle`), so its CPU time and RSS high-water mark are its
own: the real app (`RunnerApp`, the main screen, a 160x50 terminal) on the same `EventFeed` a live stream
uses, whose reader thread decodes the events from their JSON lines as the client does, and the host's
capacity as `/runner/host` answers on this machine (so runnable rows say what they need of the free room).
The source sends the trees at once (every job created, the roots running, the subjobs runnable: time to
first paint is from the app's start until all of them are rows and painted), then, in the measured window,
job.state changes at `--rate` for `--seconds`: the subjobs in turn, across the trees, go running and done
again as the host's cores allow (one core each), so the free room, and with it every runnable row, changes
all the time. Baselines, in the same run and alternately: the same app with an idle stream for the same
time (`idle`: what showing the tree costs with no updates), and the model alone folding the same changes
(`JobsModel.apply_all`). Measured: process CPU time in the window per update, the backlog (events read but
not yet applied, sampled each second), peak RSS. `--terminal pty` runs the app on a pseudo-terminal with its
real driver (its output read and counted) instead of Textual's headless driver, which renders each frame but
writes nothing. Target: no growing backlog (every sample under one second's worth of events), peak RSS
under 300 MB. `--write` appends the figures to RESULTS.md.
"""
from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from textual.pilot import Pilot

from runner.spec import events as ev
from runner.tui.app import RunnerApp, wall_clock
from runner.tui.capacity import Capacity
from runner.tui.feed import EventFeed
from runner.tui.model import Change, JobsModel
from runner.tui.widgets.job_tree import JobTree

HERE = Path(__file__).resolve().parent
SIZE = (160, 50)
RESOURCES = {"cores": 1, "memoryBytes": 2**30, "gpus": 0}
HOST = Capacity.of_answer({"cpus": os.cpu_count() or 1, "memoryBytes": psutil.virtual_memory().total, "gpus": 0})
Move = tuple[str, str, str, str]  # job, root, from state, to state


def job_ids(roots: int, per_root: int) -> list[tuple[str, str | None]]:
    """(job, parent) for every job, each root before its subjobs."""
    jobs: list[tuple[str, str | None]] = []
    for r in range(roots):
        root = f"job-{r:04d}{0:020d}"
        jobs.append((root, None))
        jobs.extend((f"job-{r:04d}{n:020d}", root) for n in range(1, per_root))
    return jobs


def tree_documents(roots: int, per_root: int, now: int) -> list[dict[str, Any]]:
    """The trees as the stream sends them: each job created, each root running, its subjobs runnable."""
    documents: list[dict[str, Any]] = []
    jobs = job_ids(roots, per_root)
    for n, (job, parent) in enumerate(jobs):
        root, created = parent or job, now - 10 * (len(jobs) - n)  # a ms apart at least, as jobs are
        name = "scatter_gather" if parent is None else "scatter_gather:process"
        documents.append(ev.JobCreated(
            seq=0, time=now, job=job, root=root, parent=parent, name=name, executable="applet-" + "0" * 24,
            function="main" if parent is None else "process", instance_type="mem1_ssd1_v2_x2",
            resources=RESOURCES, rank=0, created=created, timeout=3_600_000).to_json())
        steps = (("idle", "runnable"), ("runnable", "running")) if parent is None else (("idle", "runnable"),)
        documents.extend(_state(job, root, old, new, now) for old, new in steps)
    return documents


def moves(roots: int, per_root: int, count: int) -> list[Move]:
    """`count` state changes: subjobs in turn (across the trees) go running and done, as many at once as cores."""
    subjobs = [(job, parent) for job, parent in job_ids(roots, per_root) if parent is not None]
    subjobs.sort(key=lambda j: j[0][8:])  # the n-th subjob of every tree, then the next
    at_once = max(1, int(HOST.cores))
    timed: list[tuple[int, Move]] = []
    for k, (job, root) in enumerate(subjobs[: count // 2 + 1]):
        timed.append((2 * k, (job, root, "runnable", "running")))
        timed.append((2 * (k + at_once) - 1, (job, root, "running", "done")))
    return [move for _, move in sorted(timed, key=lambda t: t[0])][:count]


def _state(job: str, root: str, old: str, new: str, now: int) -> dict[str, Any]:
    return ev.JobStateChanged(seq=0, time=now, job=job, root=root, from_state=old, to_state=new).to_json()


class LoadSource:
    """The events a busy engine's stream would carry, decoded from JSON lines in the feed's reader thread."""

    def __init__(self, args: argparse.Namespace, loaded: bool) -> None:
        self.args, self.loaded = args, loaded
        self.read = 0
        self.go, self.finished, self.stop = threading.Event(), threading.Event(), threading.Event()
        self.last_read_at = 0.0

    def _decode(self, document: dict[str, Any]) -> ev.Event:
        self.read += 1
        document["seq"] = self.read
        return ev.event_from_json(json.loads(json.dumps(document)))

    def __call__(self) -> Iterator[ev.Event]:
        for document in tree_documents(self.args.roots, self.args.per_root, wall_clock()):
            yield self._decode(document)
        self.go.wait()
        count = int(self.args.rate * self.args.seconds)
        began = time.monotonic()
        for n, (job, root, old, new) in enumerate(moves(self.args.roots, self.args.per_root, count)):
            if not self.loaded:
                break
            due = began + n / self.args.rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            yield self._decode(_state(job, root, old, new, wall_clock()))
        time.sleep(max(0.0, began + self.args.seconds - time.monotonic()))
        self.last_read_at = time.perf_counter()
        self.finished.set()
        self.stop.wait()  # a live stream stays open


class CountingModel(JobsModel):
    """The app's model, counting the events it applied (to tell the backlog)."""

    applied = 0

    def apply_all(self, events: Iterable[ev.Event]) -> Change:
        """Apply them and count them."""
        batch = list(events)
        change = super().apply_all(batch)
        self.applied += len(batch)
        return change


@dataclass
class Trial:
    """What one trial measured."""

    kind: str
    screen_s: float = 0.0
    first_paint_s: float = 0.0
    first_paint_cpu_s: float = 0.0
    window_s: float = 0.0
    cpu_s: float = 0.0
    updates: int = 0
    backlog: list[int] = field(default_factory=list)
    catch_up_s: float = 0.0
    rss_window_start_mb: float = 0.0
    rss_window_end_mb: float = 0.0
    peak_rss_mb: float = 0.0
    terminal_bytes: int = 0


async def _painted(app: RunnerApp) -> None:
    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await done.wait()


async def _until(check: Any, what: str, limit_s: float = 300) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the app never got to {what} in {limit_s:g} s")
        await asyncio.sleep(0.01)


def _sample(source: LoadSource, model: CountingModel, trial: Trial) -> None:
    """Each second of the window: events read but not yet applied."""
    while not source.finished.wait(1.0):
        trial.backlog.append(source.read - model.applied)


async def _drive(pilot: Pilot[None], source: LoadSource, model: CountingModel, trial: Trial,
                 started: float, started_cpu: float) -> None:
    app = pilot.app
    assert isinstance(app, RunnerApp)
    await _until(lambda: len(app.screen.query(JobTree)) == 1, "the main screen")
    trial.screen_s = time.perf_counter() - started
    tree = app.screen.query_one(JobTree)
    tree.set_host(HOST)  # what the engine's /runner/host answers on this machine
    await _until(lambda: len(tree.nodes) == source.args.roots * source.args.per_root, "every row")
    await _painted(app)
    trial.first_paint_s = time.perf_counter() - started
    trial.first_paint_cpu_s = time.process_time() - started_cpu
    await asyncio.sleep(1.0)  # the first paint's leftovers settle before the window
    process = psutil.Process()
    trial.rss_window_start_mb = process.memory_info().rss / 2**20
    sampler = threading.Thread(target=_sample, args=(source, model, trial), daemon=True)
    cpu, wall, read = time.process_time(), time.perf_counter(), source.read
    source.go.set()
    sampler.start()
    await _until(source.finished.is_set, "the stream's end")
    await _until(lambda: model.applied == source.read, "every event applied")
    trial.catch_up_s = time.perf_counter() - source.last_read_at
    await _painted(app)
    trial.cpu_s, trial.window_s = time.process_time() - cpu, time.perf_counter() - wall
    trial.updates = source.read - read
    trial.rss_window_end_mb = process.memory_info().rss / 2**20
    source.stop.set()
    app.exit()


def run_trial(args: argparse.Namespace) -> Trial:
    """One trial in this process: the app on a loaded or idle stream."""
    loaded = args.trial == "loaded"
    source, trial = LoadSource(args, loaded), Trial(args.trial)
    model = CountingModel(wall_clock)
    app = RunnerApp(None, model, EventFeed(source), [])
    started, started_cpu = time.perf_counter(), time.process_time()

    async def drive(pilot: Pilot[None]) -> None:
        await _drive(pilot, source, model, trial, started, started_cpu)

    headless = args.terminal == "headless"
    asyncio.run(app.run_async(headless=headless, size=SIZE if headless else None, auto_pilot=drive))
    trial.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return trial


def model_alone(args: argparse.Namespace) -> float:
    """CPU seconds per update of the model alone folding the same state changes into the same trees."""
    model = JobsModel(wall_clock)
    now = wall_clock()
    model.apply_all(ev.event_from_json(d) for d in tree_documents(args.roots, args.per_root, now))
    changes = [ev.event_from_json(_state(*m, now)) for m in moves(args.roots, args.per_root,
                                                                   int(args.rate * args.seconds))]
    cpu = time.process_time()
    for change in changes:
        model.apply_all([change])
    return (time.process_time() - cpu) / len(changes)


def _spawn(args: argparse.Namespace, kind: str, out: Path) -> Trial:
    command = [sys.executable, __file__, "--trial", kind, "--out", str(out), "--terminal", args.terminal,
               "--roots", str(args.roots), "--per-root", str(args.per_root), "--rate", str(args.rate),
               "--seconds", str(args.seconds)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    if args.terminal == "headless":
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    else:
        written = _on_a_pty(command, env)
        return Trial(**{**json.loads(out.read_text()), "terminal_bytes": written})
    return Trial(**json.loads(out.read_text()))


def _on_a_pty(command: list[str], env: dict[str, str]) -> int:
    """Run `command` on a pseudo-terminal of SIZE, reading (and dropping) what it writes; how many bytes."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    # Textual's driver writes to stderr, so that is the terminal too.
    child = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                             env={**env, "TERM": "xterm-256color", "COLORTERM": "truecolor"})
    os.close(slave)
    written, tail = 0, b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed its terminal
            break
        if not chunk:
            break
        written, tail = written + len(chunk), (tail + chunk)[-4000:]
    os.close(master)
    if child.wait() != 0:
        raise SystemExit(f"the {command[3]} trial failed: {tail.decode(errors='replace')}")
    return written


def _rounds(args: argparse.Namespace) -> tuple[list[Trial], list[Trial], list[float]]:
    """`--repeat` rounds of a loaded and an idle trial (in turn first) and the model alone."""
    loaded, idle, alone = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as scratch:
        for n in range(args.repeat):
            for kind in ("loaded", "idle") if n % 2 == 0 else ("idle", "loaded"):
                trial = _spawn(args, kind, Path(scratch) / f"{kind}-{n}.json")
                (loaded if kind == "loaded" else idle).append(trial)
                print(f"round {n + 1}: {kind}: {asdict(trial)}", file=sys.stderr)
            alone.append(model_alone(args))
    return loaded, idle, alone


def _table(args: argparse.Namespace, loaded: list[Trial], idle: list[Trial], alone: list[float]) -> list[str]:
    def med(values: Iterable[float]) -> float:
        return statistics.median(list(values))

    per_update = med(t.cpu_s / t.updates for t in loaded)
    idle_per_s = med(t.cpu_s / t.window_s for t in idle)
    screen = med((t.cpu_s - idle_per_s * t.window_s) / t.updates for t in loaded)
    backlog_max = max(max(t.backlog, default=0) for t in loaded)
    jobs = args.roots * args.per_root
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    terminal = (f"; {med(t.terminal_bytes for t in loaded) / 2**20:.1f} MiB written to the terminal in all"
                if args.terminal == "pty" else "")
    return [
        f"\n### {stamp}, terminal UI ({args.terminal}), {os.cpu_count()} cores, Python {sys.version.split()[0]}\n",
        "| benchmark | measured | baseline | ratio | target |", "| --- | --- | --- | --- | --- |",
        (f"| (e) {jobs}-job tree ({args.roots} roots), {args.rate:g} state changes/s for {args.seconds:g} s, "
         f"{args.terminal} {SIZE[0]}x{SIZE[1]}: app CPU per update (median of {args.repeat}) | "
         f"{per_update * 1e3:.2f} ms | model alone {med(alone) * 1e6:.1f} us | "
         f"{per_update / med(alone):.0f}x | |"),
        (f"| (e) app CPU in the window | {med(t.cpu_s / t.window_s for t in loaded) * 100:.0f} % of a core | "
         f"idle stream {idle_per_s * 100:.1f} % | {med(t.cpu_s for t in loaded) / (idle_per_s * med(t.window_s for t in loaded)):.1f}x | |"),
        f"| (e) the screen's cost per update (loaded less idle) | {screen * 1e3:.2f} ms | | | |",
        (f"| (e) backlog, events read not yet applied, each second | "
         f"{' '.join(str(b) for b in loaded[0].backlog)} (max of all {backlog_max}); all applied "
         f"{med(t.catch_up_s for t in loaded) * 1e3:.0f} ms after the last | | | no growth: "
         f"each < {args.rate:g} |"),
        (f"| (e) peak RSS | {max(t.peak_rss_mb for t in loaded):.0f} MiB (RSS {med(t.rss_window_start_mb for t in loaded):.0f} "
         f"-> {med(t.rss_window_end_mb for t in loaded):.0f} MiB over the window) | idle "
         f"{max(t.peak_rss_mb for t in idle):.0f} MiB | | < 300 MB |"),
        (f"| (e) first paint of the {jobs}-job tree, from the app's start | "
         f"{med(t.first_paint_s for t in loaded + idle):.2f} s (the main screen mounted at "
         f"{med(t.screen_s for t in loaded + idle):.2f} s), CPU time "
         f"{med(t.first_paint_cpu_s for t in loaded + idle):.2f} s{terminal} | | | |"),
    ]


def main() -> int:
    """Run the benchmark (or, with --trial, one of its trials)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--trial", choices=("loaded", "idle"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--terminal", choices=("headless", "pty"), default="headless")
    parser.add_argument("--roots", type=int, default=20)
    parser.add_argument("--per-root", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.trial is not None:
        args.out.write_text(json.dumps(asdict(run_trial(args))))
        return 0
    loaded, idle, alone = _rounds(args)
    lines = _table(args, loaded, idle, alone)
    print("\n".join(lines))
    if args.write:
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as results:
            results.write("\n".join(lines) + "\n")
    kept_up = all(b < args.rate for t in loaded for b in t.backlog)
    return 0 if kept_up and max(t.peak_rss_mb for t in loaded) < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
