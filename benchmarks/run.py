"""Engine benchmarks, measured as ratios against a baseline taken in the same run (machines here are noisy).

    python3 benchmarks/run.py [--repeat 7] [--write]

(a) submit-to-done of a trivial job, against `docker run --rm` of the same image running the same script:
    target <= 1.3x (medians).
(b) a 32-way fan-out of 1-second subjobs with a 1-core instance type on this host: makespan against the
    ideal (32 / host cores seconds, plus one container start): target <= 1.5x.

A private engine is started in a temporary $RUNNER_HOME; the job images must exist (`runner images prepare`).
`--write` appends the results to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from runner.client.api import EngineClient
from runner.client.engine_process import connect, start_engine, stop_engine

HERE = Path(__file__).resolve().parent


def wait_done(engine: EngineClient, job_id: str) -> str:
    """Follow the job's log stream (as `runner run --wait` does) until its end record; its final state."""
    for record in engine.stream_logs(job_id, tree=True, follow=True):
        if record.get("kind") == "end":
            return str(record["state"])
    return str(engine.call(f"/{job_id}/describe", {"fields": {"state": True}})["state"])


def submit_to_done(engine: EngineClient, applet: str, input: dict[str, object]) -> float:
    """Seconds from the run request to the job's end (which must be done)."""
    started = time.perf_counter()
    job = engine.call(f"/{applet}/run", {"project": engine.project, "input": input})["id"]
    state = wait_done(engine, job)
    elapsed = time.perf_counter() - started
    if state != "done":
        raise SystemExit(f"{job} ended {state}")
    return elapsed


def raw_docker_run(image: str, script: Path) -> float:
    """Seconds of `docker run --rm` of `image` sourcing the same script and calling main."""
    command = ["docker", "run", "--rm", "--init", "--network", "none", "-v", f"{script}:/code.sh:ro", image,
               "bash", "-e", "-c", ". /code.sh; main"]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def bench_trivial(engine: EngineClient, repeat: int) -> dict[str, float]:
    """(a): medians of the engine's submit-to-done and of raw docker run, interleaved."""
    built = engine.call("/runner/build", {"folder": str(HERE / "applets" / "trivial")}, timeout_s=None)
    script = HERE / "applets" / "trivial" / "src" / "trivial.sh"
    submit_to_done(engine, built["id"], {})
    raw_docker_run(built["image"], script)
    ours, raw = [], []
    for _ in range(repeat):
        ours.append(submit_to_done(engine, built["id"], {}))
        raw.append(raw_docker_run(built["image"], script))
    return {"engine_s": statistics.median(ours), "docker_run_s": statistics.median(raw)}


def bench_fan_out(engine: EngineClient, width: int, container_start_s: float) -> dict[str, float]:
    """(b): the makespan of `width` 1-second, 1-core subjobs, and the ideal on this host."""
    built = engine.call("/runner/build", {"folder": str(HERE / "applets" / "fan_out")}, timeout_s=None)
    makespan = submit_to_done(engine, built["id"], {"n": width})
    cores = len(os.sched_getaffinity(0))
    ideal = width / cores * 1.0 + container_start_s
    return {"makespan_s": makespan, "ideal_s": ideal, "cores": cores}


def main() -> int:
    """Run both benchmarks and print (or append) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-"))
    start_engine(home)
    try:
        engine = connect(home, start=False)
        a = bench_trivial(engine, args.repeat)
        b = bench_fan_out(engine, args.width, a["docker_run_s"])
    finally:
        stop_engine(home)
    ratio_a = a["engine_s"] / a["docker_run_s"]
    ratio_b = b["makespan_s"] / b["ideal_s"]
    lines = [
        f"### {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {b['cores']:g} cores, Python {sys.version.split()[0]}",
        "",
        "| benchmark | measured | baseline | ratio | target |",
        "| --- | --- | --- | --- | --- |",
        f"| (a) trivial job, submit to done (median of {args.repeat}) | {a['engine_s']:.3f} s | "
        f"`docker run --rm` {a['docker_run_s']:.3f} s | {ratio_a:.2f}x | <= 1.3x |",
        f"| (b) {args.width}-way fan-out of 1 s subjobs, 1-core instance type | {b['makespan_s']:.2f} s | "
        f"ideal {b['ideal_s']:.2f} s | {ratio_b:.2f}x | <= 1.5x |",
        "",
    ]
    print("\n".join(lines))
    if args.write:
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as results:
            results.write("\n".join(lines) + "\n")
    return 0 if ratio_a <= 1.3 and ratio_b <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
