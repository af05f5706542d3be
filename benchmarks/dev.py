"""Watch mode's benchmark: from saving a file to the new root job running, and to done, against a raw
`docker run --rm` of the same image, measured alternately in the same run (machines here are noisy).

    python3 benchmarks/dev.py [--repeat 7] [--write]

hello_bash (a copy in a temporary folder) is watched by the same loop as `runner dev` (runner.dev.loop), its
image cached by a first build. Each round saves a new greeting into its script, then reads, from the engine's
events, when the new root job was `running` (the engine's state, set as the try is admitted, before its
container is created), when its code printed its first stdout line (the container started and the launcher
ran the script: what "running" means to the user) and when it was done (the events' own times, in ms; the
save's time is taken just before the write), then times `docker run --rm IMAGE true`. Targets: save to the
first line <= 1.5 s and <= 2x the raw container's start-to-exit (medians). A private engine runs in a temporary $RUNNER_HOME; the
job images must exist (`runner images prepare`). `--write` appends the results to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from runner.client.api import EngineClient
from runner.client.engine_process import connect, start_engine, stop_engine
from runner.client.events import EventQuery, follow_events
from runner.dev.loop import DevLoop, DevOptions
from runner.dev.runs import same_request
from runner.spec.events import Event, JobCreated, JobStateChanged, LogLines

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "sample_apps" / "hello_bash"
SCRIPT = "src/hello_bash.sh"
GUARD_S = 300.0


class Timeline:
    """The engine's events from now on, read in a thread: each root job's creation, running and end times."""

    def __init__(self, engine: EngineClient) -> None:
        existing = list(follow_events(engine, EventQuery(follow=False)))
        self.client = EngineClient(engine.url, engine.token, engine.project)
        self.since = existing[-1].seq if existing else 0
        self.events: list[Event] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for event in follow_events(self.client, EventQuery(since=self.since, kinds=("job.created", "job.state", "log"))):
            self.events.append(event)

    def root_after(self, saved_ms: int) -> tuple[int, int, int]:
        """The first root job created after `saved_ms`: when it was running, printed its first line, was done."""
        deadline = time.monotonic() + GUARD_S
        while time.monotonic() < deadline:
            events = list(self.events)
            root = next((e.job for e in events if isinstance(e, JobCreated) and e.parent is None
                         and e.time >= saved_ms), None)
            states = {e.to_state: e.time for e in events if isinstance(e, JobStateChanged) and e.job == root}
            printed = next((e.time for e in events if isinstance(e, LogLines) and e.job == root
                            and e.stream == "stdout"), None)
            if root is not None and "done" in states and "running" in states and printed is not None:
                return states["running"], printed, states["done"]
            if root is not None and ({"failed", "terminated"} & states.keys()):
                raise SystemExit(f"{root} did not end done: {states}")
            time.sleep(0.02)
        raise SystemExit(f"no run followed the save at {saved_ms} within {GUARD_S:g} s")


def raw_docker_run(image: str) -> float:
    """Seconds of `docker run --rm IMAGE true`: a container's start and exit, nothing else."""
    started = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", "--network", "none", image, "true"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(engine: EngineClient, folder: Path, repeat: int) -> dict[str, list[float]]:
    """`repeat` rounds of save -> running -> done, each followed by a raw docker run."""
    image = engine.call("/runner/build", {"folder": str(folder)}, timeout_s=None)["image"]
    raw_docker_run(image)
    timeline = Timeline(engine)
    body = {"project": engine.project, "input": {"who": "bench"}}
    own = EngineClient(engine.url, engine.token, engine.project)
    loop = DevLoop(own, DevOptions(folder, on_busy="queue"), same_request(own, body), lambda note: None)
    threading.Thread(target=loop.run, daemon=True).start()
    timeline.root_after(0)  # the loop's first run: warm
    script = folder / SCRIPT
    original = script.read_text()
    results: dict[str, list[float]] = {"running": [], "printed": [], "done": [], "raw": []}
    try:
        for round_ in range(repeat + 1):
            saved_ms = time.time_ns() // 1_000_000
            script.write_text(original.replace("Hello, ", f"Hello ({round_}), "))
            running, printed, done = timeline.root_after(saved_ms)
            raw = raw_docker_run(image)
            if round_ == 0:
                continue  # the first save's build hashes a new folder into the caches: warm-up
            results["running"].append((running - saved_ms) / 1000)
            results["printed"].append((printed - saved_ms) / 1000)
            results["done"].append((done - saved_ms) / 1000)
            results["raw"].append(raw)
    finally:
        loop.stop()
    return results


def _table(repeat: int, results: dict[str, list[float]], medians: dict[str, float]) -> list[str]:
    def listed(key: str) -> str:
        return ", ".join(f"{v:.2f}" for v in results[key])

    raw = medians["raw"]
    baseline = f"`docker run --rm IMAGE true` {raw:.3f} s"
    return [
        "",
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, watch mode, Python {sys.version.split()[0]}",
        "",
        "| benchmark | measured | baseline | ratio | target |",
        "| --- | --- | --- | --- | --- |",
        (f"| (d) hello_bash, save to the new root job `running` (median of {repeat}) | {medians['running']:.3f} s | "
        f"{baseline} | {medians['running'] / raw:.2f}x | |"),
        (f"| (d) hello_bash, save to its code running: its first stdout line (median of {repeat}) | "
        f"{medians['printed']:.3f} s | {baseline} | {medians['printed'] / raw:.2f}x | <= 1.5 s and <= 2x |"),
        (f"| (d) hello_bash, save to done (median of {repeat}) | {medians['done']:.3f} s | {baseline} | "
        f"{medians['done'] / raw:.2f}x | |"),
        "",
        (f"Rounds (s): running {listed('running')}; first line {listed('printed')}; done {listed('done')}; "
        f"raw {listed('raw')}."),
        "",
    ]


def main() -> int:
    """Run the benchmark and print (or append) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-dev-"))
    folder = home / "hello_bash"
    shutil.copytree(SAMPLE, folder)
    start_engine(home / "state")
    try:
        results = measure(connect(home / "state", start=False), folder, args.repeat)
    finally:
        stop_engine(home / "state")
    medians = {key: statistics.median(values) for key, values in results.items()}
    lines = _table(args.repeat, results, medians)
    print("\n".join(lines))
    if args.write:
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    printed, raw = medians["printed"], medians["raw"]
    return 0 if printed <= 1.5 and printed / raw <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
