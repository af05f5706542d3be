"""The usage sampler's cost: engine CPU time per running job per sample, on real containers and a real store.

    python3 benchmarks/usage.py [--jobs 10] [--rounds 40]

Starts `--jobs` real containers (`sleep`, named and labelled as the engine's, in a temporary $RUNNER_HOME) for
jobs of a real SQLite store, then times the sampler's rounds in this thread (time.thread_time: CPU, not wall):
the cgroup reads, the CPU % and the append to each job's usage.ndjson; once with events thinned as the engine
thins them (a steady job: none), once with an event for every sample (in one transaction a round). The
first round, which locates each container (one `docker inspect` each), is timed on its own.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

from runner.backends.docker import DockerBackend, container_name
from runner.backends.fake import FakeBackend
from runner.engine import usage
from runner.engine._container import Reachability
from runner.engine.driver import Engine
from runner.engine.scheduler import Resources
from runner.engine.submit import RunRequest
from runner.engine.usage import Sampled, UsageSampler
from runner.spec.ids import new_id
from runner.store.db import Database
from runner.store.objects import create_container, create_object

IMAGE = "applet-runner/runtime:ubuntu-24.04"


def make_jobs(home: Path, count: int) -> tuple[Database, list[str]]:
    """A store under `home` with `count` jobs of one applet (created, never started by an engine)."""
    db = Database(home / "runner.db")
    project = create_container(db, "project", "p")
    doc = {"outputSpec": None, "inputSpec": None, "access": {}, "title": "", "_runner": {
        "folder": str(home), "image": IMAGE, "interpreter": "bash",
        "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x2"}}, "timeoutPolicy": {},
        "executionPolicy": {}}}
    applet = create_object(db, "applet", project, name="bench", state="closed", doc=doc, object_id=new_id("applet"))
    creator = Engine(db, FakeBackend(), home, Reachability(port=1, socket_dir=home), Resources(2, 4 << 30))
    jobs = [creator.run(applet, RunRequest(input={}, original_input={}, project=project))["id"] for _ in range(count)]
    for job in jobs:
        (home / "jobs" / job).mkdir(parents=True, exist_ok=True)
    return db, jobs


def timed_rounds(sampler: UsageSampler, tries: list[Sampled], rounds: int, every_s: float) -> tuple[float, int]:
    """CPU seconds per round (median) over `rounds`, and the events they sent."""
    costs, sent = [], 0
    for _ in range(rounds):
        time.sleep(every_s)
        start = time.thread_time()
        sent += sampler.sample_once(tries)
        costs.append(time.thread_time() - start)
    return statistics.median(costs), sent


def main() -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    client = docker.from_env()
    with tempfile.TemporaryDirectory(prefix="usage-bench-") as scratch:
        home = Path(scratch)
        db, jobs = make_jobs(home, args.jobs)
        for job in jobs:
            subprocess.run(["docker", "run", "-d", "--rm", "--name", container_name(job), "--label",
                            f"runner.home={home}", IMAGE, "sleep", "600"], check=True, capture_output=True)
        try:
            tries = [Sampled(job, job) for job in jobs]
            sampler = UsageSampler(db, home, DockerBackend(client, home), lambda: tries)
            start = time.thread_time()
            sampler.sample_once(tries)
            first = time.thread_time() - start
            thinned, thinned_sent = timed_rounds(sampler, tries, args.rounds, 0.05)
            usage.KEEPALIVE_S = 0.0  # every sample is worth an event now
            every, every_sent = timed_rounds(sampler, tries, args.rounds, 0.05)
        finally:
            subprocess.run(["docker", "rm", "-f", *(container_name(j) for j in jobs)], capture_output=True, check=False)
            db.close()
    per = 1e6 / args.jobs
    print(f"{args.jobs} running containers, {args.rounds} rounds each, engine CPU per job per sample (median round):")
    print(f"  first round (locating each container, one docker inspect each): {first * per:.0f} us")
    print(f"  thinned events ({thinned_sent} sent): {thinned * per:.0f} us")
    print(f"  an event for every sample ({every_sent} sent): {every * per:.0f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
