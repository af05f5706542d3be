"""The event stream under load: a 2,000-job tree getting 200 state changes a second for 10 s, three followers.

    python3 benchmarks/events.py [--jobs 2000] [--rate 200] [--seconds 10] [--followers 3] [--write]

The engine side runs in its own process (`--serve`): a real store with the tree inserted directly (no
containers), the whole API served over real HTTP on 127.0.0.1, and a publisher moving jobs through
idle -> runnable -> running -> done at the rate asked (each a `transition()`, so each writes its event in its
transaction). The followers are threads of this process, each reading GET /runner/events through
`runner.client.events.follow_events`. Measured: events delivered per second per follower, the lag from
publish (the event's time) to receipt (median, p99), gaps, and the engine process's CPU and memory (psutil,
sampled every 0.5 s). Target: every follower gets every event with no gap, and the engine's memory is flat
(RSS at the end within 10 % of RSS when publishing began). `--write` appends the figures to RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
from aiohttp import web

from runner.client.api import EngineClient
from runner.client.events import EventQuery, follow_events
from runner.spec import events as ev

HERE = Path(__file__).resolve().parent
STEPS = ("runnable", "running", "done")


async def _serve(home: Path, jobs: int, rate: float, seconds: float) -> None:
    from runner.api.core.routing import Services
    from runner.api.routes import all_routes
    from runner.api.server import make_app
    from runner.backends.fake import FakeBackend
    from runner.engine._container import Reachability
    from runner.engine.driver import Engine
    from runner.engine.scheduler import Resources
    from runner.spec.job_states import JobState
    from runner.store.db import Database
    from runner.store.jobs import insert_job, transition
    from runner.store.objects import create_container
    from runner.store.tokens import issue_user_token

    db = Database(home / "runner.db")
    project = create_container(db, "project", "bench")
    root = "job-" + "R" * 24
    ids = [root] + [f"job-{n:024d}" for n in range(1, jobs)]
    for job_id in ids:
        insert_job(db, {"id": job_id, "rootExecution": root, "parentJob": None if job_id == root else root,
                        "project": project, "name": "bench", "function": "main", "try": 0})
    engine = Engine(db, FakeBackend(), home, Reachability(port=1, socket_dir=home), Resources(2, 8 << 30))
    services = Services(db=db, home=home, engine=engine, default_project=project,
                        extras={"docker_client": None, "shutdown": asyncio.Event()})
    runner = web.AppRunner(make_app(services, all_routes()), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    (home / "token").write_text(issue_user_token(db))
    (home / "port").write_text(str(runner.addresses[0][1]))
    while not (home / "go").exists():
        await asyncio.sleep(0.05)
    moves = [(job_id, JobState(step)) for step in STEPS for job_id in ids][: int(rate * seconds)]
    began = time.monotonic()
    for done, (job_id, state) in enumerate(moves):
        due = began + done / rate
        if due > time.monotonic():
            await asyncio.sleep(due - time.monotonic())
        transition(db, job_id, state)
    (home / "published").write_text(str(len(moves)))
    while not (home / "stop").exists():
        await asyncio.sleep(0.05)
    await runner.cleanup()
    db.close()


class _Follower(threading.Thread):
    def __init__(self, url: str, token: str, since: int) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.since = url, token, since
        self.lags_ms: list[float] = []
        self.gaps = 0
        self.first_at = self.last_at = 0.0
        self.expected: int | None = None

    def run(self) -> None:
        with EngineClient(self.url, self.token) as client:
            for event in follow_events(client, EventQuery(since=self.since, kinds=("job.state", "gap")),
                                       heartbeats=True):
                now = time.time()
                if isinstance(event, ev.Gap):
                    self.gaps += 1
                elif isinstance(event, ev.JobStateChanged):
                    self.lags_ms.append(now * 1000 - event.time)
                    self.first_at = self.first_at or now
                    self.last_at = now
                if self.expected is not None and len(self.lags_ms) + self.gaps >= self.expected:
                    return


def _wait_for(path: Path, timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"the engine process did not write {path.name}")
        time.sleep(0.05)
    return path.read_text()


def _measure(args: argparse.Namespace) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="bench-events-"))
    serve = subprocess.Popen([sys.executable, __file__, "--serve", str(home), "--jobs", str(args.jobs),
                              "--rate", str(args.rate), "--seconds", str(args.seconds)])
    try:
        port, token = _wait_for(home / "port"), _wait_for(home / "token")
        process = psutil.Process(serve.pid)
        url = f"http://127.0.0.1:{port}"
        with EngineClient(url, token) as client:
            since = max(e.seq for e in follow_events(client, EventQuery(follow=False)))
        followers = [_Follower(url, token, since) for _ in range(args.followers)]
        for follower in followers:
            follower.start()
        time.sleep(1.0)  # every follower connected and idle
        process.cpu_percent()
        rss_start = process.memory_info().rss
        (home / "go").touch()
        cpu, rss = [], []
        while not (home / "published").exists():
            time.sleep(0.5)
            cpu.append(process.cpu_percent())
            rss.append(process.memory_info().rss)
        published = int((home / "published").read_text())
        for follower in followers:
            follower.expected = published
            follower.join(60)
        (home / "stop").touch()
        serve.wait(30)
    finally:
        serve.kill() if serve.poll() is None else None
    lags = sorted(lag for f in followers for lag in f.lags_ms)
    rates = [len(f.lags_ms) / max(f.last_at - f.first_at, 1e-9) for f in followers]
    return {"published": published, "delivered_min": min(len(f.lags_ms) for f in followers),
            "gaps": sum(f.gaps for f in followers), "rate_min": min(rates), "rate_max": max(rates),
            "lag_median_ms": statistics.median(lags), "lag_p99_ms": lags[int(len(lags) * 0.99) - 1],
            "cpu_mean": statistics.mean(cpu), "cpu_max": max(cpu), "rss_start_mb": rss_start / 2**20,
            "rss_end_mb": rss[-1] / 2**20, "rss_max_mb": max(rss) / 2**20}


def main() -> int:
    """Run the benchmark (or, with --serve, be its engine process)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", type=Path)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--followers", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve, args.jobs, args.rate, args.seconds))
        return 0
    m = _measure(args)
    kept_up = m["delivered_min"] == m["published"] and m["gaps"] == 0
    flat = m["rss_end_mb"] <= m["rss_start_mb"] * 1.1
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n### {stamp}, event stream, {os.cpu_count()} cores, Python {sys.version.split()[0]}\n",
        "| benchmark | measured | target |", "| --- | --- | --- |",
        (f"| (c) {args.jobs}-job tree, {args.rate:g} state changes/s for {args.seconds:g} s, "
         f"{args.followers} followers: events delivered (each) | {m['delivered_min']} of {m['published']}, "
         f"{m['gaps']} gaps | "
         "all, no gap |"),
        (f"| (c) delivered per follower | {m['rate_min']:.0f}-{m['rate_max']:.0f} events/s (published "
         f"{args.rate:g}/s) | = the rate published |"),
        (f"| (c) lag, publish to receipt | median {m['lag_median_ms']:.1f} ms, "
         f"p99 {m['lag_p99_ms']:.1f} ms | |"),
        f"| (c) engine CPU | mean {m['cpu_mean']:.0f} %, max {m['cpu_max']:.0f} % of one core | |",
        (f"| (c) engine memory (RSS) | {m['rss_start_mb']:.1f} MiB when publishing began, "
         f"{m['rss_end_mb']:.1f} MiB at the end (max {m['rss_max_mb']:.1f}) | flat (end within 10 %) |"),
    ]
    print("\n".join(lines))
    if args.write:
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as results:
            results.write("\n".join(lines) + "\n")
    return 0 if kept_up and flat else 1


if __name__ == "__main__":
    sys.exit(main())
