"""Scheduler benchmark: a 40-job tree of mixed instance types packed onto this host.

    python3 benchmarks/scheduler.py [--write]

(f) benchmarks/applets/sched_tree: a 1-core root starts 39 sleepers (16 of 2 cores, 23 of 1 core, 3 to 8 s
    each) and waits on their outputs. From the engine's event stream (GET /runner/events of the tree):
    - the makespan (the root running to the root done) against the ideal packing, a lower bound:
      max(sum of cores x seconds / the host's cores, the longest job), each job's seconds being its own
      `running` to `done` (the root's: to `waiting_on_output`), so the bound includes what a try costs
      besides its sleep; target <= 1.25x;
    - that at no moment the admitted jobs' limits exceed the host (the cores and memory jobs may take, less
      the reserve). A try holds its share from `running` until its process ends; the end is taken as its
      last stdout line ("slept N", the job's last act; the engine frees its cores a moment later, before
      `done`), so a job admitted as another's process ends is not counted as an overlap. A job that the
      deadlock rule ran inside an ancestor's reservation (its log says so) is counted within that ancestor's
      cores, not the host's; the peaks are also given counted from `running` to `done` without that rule.

A private engine is started in a temporary $RUNNER_HOME; the job images must exist (`runner images prepare`).
`--write` appends the figures to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.client.api import EngineClient
from runner.client.engine_process import connect, start_engine, stop_engine
from runner.client.events import EventQuery, follow_events
from runner.spec.events import JobCreated, JobStateChanged, LogLines

HERE = Path(__file__).resolve().parent
GIB = 2**30
TARGET = 1.25
LENT = "inside the reservation of its ancestor "


@dataclass
class Try:
    """One job of the tree as the event stream shows it (times in ms)."""

    job: str
    cores: float
    memory: int
    running: int = 0
    done: int = 0
    process_end: int = 0
    output_wait: int = 0
    lender: str | None = None
    slept: float = 0.0

    @property
    def held_end(self) -> int:
        """When the try ended: `waiting_on_output` (the root, whose output waits on the sleepers), else `done`."""
        return self.output_wait or self.done

    @property
    def seconds(self) -> float:
        """How long the try held its share, as the states say: from running to its end."""
        return (self.held_end - self.running) / 1000


def read_tree(engine: EngineClient, root: str) -> dict[str, Try]:
    """Every job of the tree, from its events."""
    jobs: dict[str, Try] = {}
    for event in follow_events(engine, EventQuery(root=root, follow=False)):
        if isinstance(event, JobCreated):
            jobs[event.job] = Try(event.job, float(event.resources["cores"]), int(event.resources["memoryBytes"]))
        elif isinstance(event, JobStateChanged) and event.job in jobs:
            job = jobs[event.job]
            if event.to_state == "running":
                job.running = event.time
            elif event.to_state == "waiting_on_output":
                job.output_wait = job.process_end = event.time
            elif event.to_state == "done":
                job.done = event.time
        elif isinstance(event, LogLines) and event.job in jobs:
            if event.stream == "stdout" and "slept " in event.text:
                jobs[event.job].process_end = event.time
                jobs[event.job].slept = float(event.text.split("slept ")[1].split()[0])
            if event.stream == "runner" and LENT in event.text:
                jobs[event.job].lender = event.text.split(LENT)[1].split(",")[0].split(" ")[0]
    missing = [j.job for j in jobs.values() if not (j.running and j.done and j.process_end)]
    if missing:
        raise SystemExit(f"the events of {len(missing)} job(s) are incomplete: {missing[:3]}")
    return jobs


def peaks(jobs: dict[str, Try], end: str, lending: bool) -> tuple[float, int]:
    """The most cores and memory admitted at once on the host (`end`: the attribute that ends a try)."""
    moments = sorted({j.running for j in jobs.values()})
    most_cores, most_memory = 0.0, 0
    for at in moments:
        live = [j for j in jobs.values() if j.running <= at < getattr(j, end)]
        lenders = {j.job for j in live}
        on_host = [j for j in live if not (lending and j.lender in lenders)]
        most_cores = max(most_cores, sum(j.cores for j in on_host))
        most_memory = max(most_memory, sum(j.memory for j in on_host))
        if lending:
            for lender in {j.lender for j in live if j.lender in lenders}:
                lent = sum(j.cores for j in live if j.lender == lender)
                if lent > jobs[str(lender)].cores:
                    raise SystemExit(f"at {at}: {lender}'s borrowers hold {lent} cores, more than its own")
    return most_cores, most_memory


def bench(engine: EngineClient, n: int) -> dict[str, Any]:
    """Run the tree; its figures."""
    host = engine.call("/runner/host", {})
    built = engine.call("/runner/build", {"folder": str(HERE / "applets" / "sched_tree")}, timeout_s=None)
    root = engine.call(f"/{built['id']}/run", {"project": engine.project, "input": {"n": n}})["id"]
    for record in engine.stream_logs(root, tree=True, follow=True):
        if record.get("kind") == "end":
            break
    state = engine.call(f"/{root}/describe", {"fields": {"state": True}})["state"]
    if state != "done":
        raise SystemExit(f"{root} ended {state}")
    jobs = read_tree(engine, root)
    cores, memory = float(host["available"]["cpus"]), int(host["available"]["memoryBytes"])
    makespan = (jobs[root].done - jobs[root].running) / 1000
    ideal = max(sum(j.cores * j.seconds for j in jobs.values()) / cores, max(j.seconds for j in jobs.values()))
    sleeps = max(sum(j.cores * j.slept for j in jobs.values()) / cores, max(j.slept for j in jobs.values()))
    peak_cores, peak_memory = peaks(jobs, "process_end", lending=True)
    raw_cores, raw_memory = peaks(jobs, "held_end", lending=False)
    return {"jobs": len(jobs), "cores": cores, "memory": memory, "makespan": makespan, "ideal": ideal,
            "peak_cores": peak_cores, "peak_memory": peak_memory, "raw_cores": raw_cores, "raw_memory": raw_memory,
            "borrowers": sum(1 for j in jobs.values() if j.lender), "held": sum(j.seconds for j in jobs.values()),
            "slept": sum(j.slept for j in jobs.values()), "sleep_bound": sleeps,
            "two_core": sum(1 for j in jobs.values() if j.cores == 2)}


def report(f: dict[str, Any]) -> tuple[list[str], bool]:
    """The RESULTS.md section of one run, and whether it met the targets."""
    ratio = f["makespan"] / f["ideal"]
    within = f["peak_cores"] <= f["cores"] and f["peak_memory"] <= f["memory"]
    title = (f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, scheduler, {f['cores']:g} cores, "
             f"{f['memory'] / GIB:.1f} GiB for jobs, Python {sys.version.split()[0]}")
    makespan = (f"| (f) {f['jobs']}-job tree ({f['two_core']} of 2 cores, the rest of 1), makespan | "
                f"{f['makespan']:.1f} s | ideal packing {f['ideal']:.1f} s | {ratio:.2f}x | <= {TARGET}x |")
    admitted = (f"| (f) most admitted at once (deadlock rule counted in its lender) | {f['peak_cores']:g} cores, "
                f"{f['peak_memory'] / GIB:.1f} GiB | host {f['cores']:g} cores, {f['memory'] / GIB:.1f} GiB | "
                "| never above |")
    note = (f"Counted from `running` to `done` (the root: to `waiting_on_output`) without the deadlock rule: at "
            f"most {f['raw_cores']:g} cores and {f['raw_memory'] / GIB:.1f} GiB at once; {f['borrowers']} job(s) "
            "ran inside their parent's reservation (the root's, while it was still starting them). The jobs' "
            f"running-to-done seconds sum to {f['held']:.0f} s, their sleeps to {f['slept']:.0f} s: the same bound "
            f"over the sleeps alone is {f['sleep_bound']:.1f} s ({f['makespan'] / f['sleep_bound']:.2f}x), the "
            "rest being what each try costs (its container, Python and dxpy, the output) on this shared machine.")
    header = "| benchmark | measured | baseline | ratio | target |\n| --- | --- | --- | --- | --- |"
    lines = [title, "", header, makespan, admitted, "", note, ""]
    return lines, ratio <= TARGET and within


def main() -> int:
    """Run the benchmark and print (or append) its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=39, help="sleepers under the root (default 39: 40 jobs)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-sched-"))
    start_engine(home)
    try:
        figures = bench(connect(home, start=False), args.n)
    finally:
        stop_engine(home)
    lines, met = report(figures)
    print("\n".join(lines))
    if args.write:
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as results:
            results.write("\n".join(lines) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
