"""The engine loop's cost per wake-up as a tree grows: a real Engine on a real SQLite store, no containers.

    python3 benchmarks/loop.py [--sizes 50,100,200,500] [--wakes 40] [--write]

Each size N is a fresh store holding one gate job and N jobs: half wait on input (a reference to the gate's
output), half are runnable, and one try holds all the host's cores, so nothing starts and nothing changes: each
wake-up is the loop's pure overhead (the advance of the waiting jobs, then admission) for a tree of N.
`Engine._advance()` is called `--wakes` times and timed (process CPU time); per wake-up, and per job per
wake-up. Target: the cost per job of a 500-job tree no higher than that of a 50-job tree (a constant cost per
wake-up, or one that grows more slowly than the tree, passes). Run it with another checkout first on
PYTHONPATH to measure that code (`PYTHONPATH=/path/to/other python3 benchmarks/loop.py`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _shell import section, write

from runner.backends.fake import FakeBackend
from runner.engine._container import Reachability
from runner.engine._host import RunningTry
from runner.engine.driver import Engine
from runner.engine.scheduler import Resources
from runner.engine.submit import RunRequest
from runner.spec.ids import new_id
from runner.store.db import Database
from runner.store.objects import create_container, create_object


def engine_with_tree(folder: Path, size: int) -> Engine:
    """An engine with no free core, a gate job and `size` jobs, half waiting on the gate's output."""
    db = Database(folder / "runner.db")
    project = create_container(db, "project", "p")
    doc = {"outputSpec": None, "inputSpec": None, "access": {}, "title": "", "_runner": {
        "folder": str(folder), "image": "img", "interpreter": "bash",
        "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x2"}}, "timeoutPolicy": {},
        "executionPolicy": {}}}
    applet = create_object(db, "applet", project, name="bench", state="closed", doc=doc, object_id=new_id("applet"))
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


def main() -> int:
    """Measure each size; print the section (and append it with --write)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50,100,200,500")
    parser.add_argument("--wakes", type=int, default=40)
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
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
