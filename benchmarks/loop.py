"""The engine loop's cost per wake-up as a tree grows: a real Engine on a real SQLite store, no containers.

    python3 benchmarks/loop.py [--sizes 50,100,200,500] [--wakes 40] [--tree [--repeat 3]] [--write]

Each size N is a fresh store holding one gate job and N jobs: half wait on input (a reference to the gate's
output), half are runnable, and one try holds all the host's cores, so nothing starts and nothing changes: each
wake-up is the loop's pure overhead (the advance of the waiting jobs, then admission) for a tree of N.
`Engine._advance()` is called `--wakes` times and timed (process CPU time); per wake-up, and per job per
wake-up. Target: the cost per job of a 500-job tree no higher than that of a 50-job tree (a constant cost per
wake-up, or one that grows more slowly than the tree, passes). Run it with another checkout first on
PYTHONPATH to measure that code (`PYTHONPATH=/path/to/other python3 benchmarks/loop.py`).

With `--tree`, each size N is a whole tree run by the engine's own loop on the in-process fake backend: a master
job creates N subjobs (two cores, one subjob at a time) and outputs a job-based reference to each one's output,
so it waits on output for all N while they end one by one (fan-out then fan-in, as fanout.py's tree with
references). The process CPU time from the run to the master's done, per job (the least of `--repeat` runs,
the sizes alternated): what the engine spends per job when no container costs anything. Target as above: a 500-job tree no dearer per job than a 50-job tree.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from _shell import section, write

from runner import launcher
from runner.backends.base import ContainerSpec
from runner.backends.fake import FakeBackend, FakeJob
from runner.engine._container import Reachability
from runner.engine._host import RunningTry
from runner.engine.driver import Engine
from runner.engine.scheduler import Resources
from runner.engine.submit import RunRequest, SubjobRequest
from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.jobs import get_job
from runner.store.objects import create_container, create_object


def _store(folder: Path) -> tuple[Database, str, dict[str, object]]:
    """A store with a project and a 2-core applet."""
    db = Database(folder / "runner.db")
    project = create_container(db, "project", "p")
    doc = {"outputSpec": None, "inputSpec": None, "access": {}, "title": "", "_runner": {
        "folder": str(folder), "image": "img", "interpreter": "bash",
        "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x2"}}, "timeoutPolicy": {},
        "executionPolicy": {}}}
    applet = create_object(db, "applet", project, name="bench", state="closed", doc=doc, object_id=new_id("applet"))
    return db, project, applet


def engine_with_tree(folder: Path, size: int) -> Engine:
    """An engine with no free core, a gate job and `size` jobs, half waiting on the gate's output."""
    db, project, applet = _store(folder)
    capacity = Resources(cores=2, memory_bytes=8 << 30, gpus=0)
    engine = Engine(db, FakeBackend(), folder, Reachability(port=1, socket_dir=folder), capacity)
    # A try holding the whole host (none runs: the engine's loop is not started): nothing else fits.
    engine._running["job-" + "B" * 24] = RunningTry("job-" + "B" * 24, capacity)
    gate = engine.run(applet, RunRequest(input={}, original_input={}, project=project))["id"]
    for index in range(size):
        given = {"x": {"$dnanexus_link": {"job": gate, "field": "y"}}} if index % 2 else {}
        engine.run(applet, RunRequest(input=given, original_input=given, project=project))
    engine._advance()  # the first look: idle jobs move to waiting_on_input or runnable
    engine._advance()
    return engine


def per_wake(engine: Engine, wakes: int) -> float:
    """CPU seconds of one wake-up's advance, over `wakes` of them."""
    started = time.process_time()
    for _ in range(wakes):
        engine._advance()
    return (time.process_time() - started) / wakes


async def run_tree(folder: Path, size: int) -> float:
    """CPU seconds of the whole tree: a master creating `size` subjobs, then waiting on a reference to each."""
    db, project, applet = _store(folder)

    def play(spec: ContainerSpec) -> FakeJob:
        work = next(Path(m.host_path) for m in spec.mounts if m.container_path == launcher.JOB_DIR)
        output: dict[str, object] = {"x": 1}
        if spec.env[launcher.ENV_FUNCTION] == "main":
            parent = get_job(db, spec.job_id)
            children = [engine.new_subjob(applet, parent, SubjobRequest(function="leaf", input={}))["id"]
                        for _ in range(size)]
            output = {"r": [{"$dnanexus_link": {"job": child, "field": "x"}} for child in children]}
        (work / launcher.OUTPUT).write_text(json.dumps(output), encoding="utf-8")
        return FakeJob()

    engine = Engine(db, FakeBackend(play), folder, Reachability(port=1, socket_dir=folder),
                    Resources(cores=2, memory_bytes=8 << 30, gpus=0))
    await engine.start()
    started = time.process_time()
    master = engine.run(applet, RunRequest(input={}, original_input={}, project=project))["id"]
    while not JobState(get_job(db, master)["state"]).is_terminal:
        await asyncio.sleep(0.01)
    used = time.process_time() - started
    await engine.close()
    assert get_job(db, master)["state"] == "done", get_job(db, master)
    return used


def tree_cost(size: int) -> float:
    """CPU seconds per job of one tree of `size` subjobs, in a fresh store."""
    with tempfile.TemporaryDirectory(prefix="bench-tree-") as folder:
        return asyncio.run(run_tree(Path(folder), size)) / (size + 1)


def tree_rows(sizes: list[int], label: str, repeat: int) -> tuple[list[list[str]], bool]:
    """The --tree curve's rows (the least of `repeat` runs of each size, sizes alternated), and whether the
    largest tree costs no more per job than the smallest."""
    runs: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(repeat):
        for size in sizes:
            runs[size].append(tree_cost(size))
    per_job = {size: min(costs) for size, costs in runs.items()}
    first = per_job[sizes[0]]
    rows = [[f"(l) tree of {size} subjobs, fan-in on their outputs, fake backend, {label}",
             f"{per_job[size] * 1000:.2f} ms CPU per job", f"{sizes[0]}-job tree {first * 1000:.2f} ms",
             f"{per_job[size] / first:.2f}x", "<= 1x" if size == sizes[-1] else ""] for size in sizes]
    return rows, per_job[sizes[-1]] <= first


def main() -> int:
    """Measure each size; print the section (and append it with --write)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50,100,200,500")
    parser.add_argument("--wakes", type=int, default=40)
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--tree", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="--tree: runs of each size (the least counts)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.tree:
        rows, met = tree_rows(sizes, args.label, args.repeat)
        text = section("the engine's cost per job in a whole tree", rows)
        print(text)
        if args.write:
            write(text)
        return 0 if met else 1
    costs = {}
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-loop-") as folder:
            costs[size] = per_wake(engine_with_tree(Path(folder), size), args.wakes)
    first = costs[sizes[0]] / (sizes[0] + 1)
    rows = []
    for size in sizes:
        job = costs[size] / (size + 1)
        rows.append([f"(l) loop wake-up, tree of {size} (half waiting on input, half runnable), {args.label}",
                     f"{costs[size] * 1000:.2f} ms; {job * 1e6:.1f} us per job",
                     f"{sizes[0]}-job tree {first * 1e6:.1f} us per job", f"{job / first:.2f}x",
                     "<= 1x" if size == sizes[-1] else ""])
    text = section("the engine loop per wake-up", rows)
    print(text)
    if args.write:
        write(text)
    return 0 if costs[sizes[-1]] / (sizes[-1] + 1) <= first else 1


if __name__ == "__main__":
    sys.exit(main())
