"""Fan-out and the engine's own cost, from the shell: `runner run FAN_OUT -i n=N -i seconds=S --wait`.

    python3 benchmarks/fanout.py [--sizes 50,100,200,500] [--idle-s 30] [--write]

(h) 32 subjobs of 1 s on a 1-core instance type: the makespan (the whole `runner run --wait` process)
    against the ideal, 32 / host cores seconds plus one container start (`docker run --rm IMAGE true`, the
    median of 5 timed alternately around it): target <= 1.5x.
(i) 200 subjobs of 0.1 s: jobs per second (201 jobs: the master and its subjobs, over the makespan), and
    the engine's CPU per job (the daemon's user + system time over the run, from /proc, over 201).
(j) the engine at rest: its CPU over `--idle-s` seconds with nothing to do, and its memory (RSS); its RSS
    at the peak of the 32-way fan-out, less that at rest, per job then running.
(k) the curve: trees of 50, 100, 200 and 500 subjobs of 0.1 s, the engine's CPU per job and the wall time
    per job of each; a 500-job tree must not cost the engine more per job than a 50-job tree.

A private engine is started with `runner engine start` in a temporary $RUNNER_HOME; the job images must
exist. Exits 1 when a target is missed. `--write` appends the results to RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

import psutil
from _shell import (
    HERE,
    alternate,
    build,
    engine_pid,
    median,
    private_engine,
    runner_command,
    section,
    timed,
    write,
)

CURVE_SLACK = 1.25  # per-job CPU of the largest tree may exceed the smallest's by noise, not by growth


def run_tree(env: dict[str, str], applet: str, n: int, seconds: float, pid: int) -> dict[str, float]:
    """One `runner run --wait` of the fan-out: its wall time, the engine's CPU over it, the engine's peak RSS."""
    engine = psutil.Process(pid)
    peak = [engine.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], engine.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu = engine.cpu_times()
    started = time.perf_counter()
    subprocess.run([*runner_command(), "run", applet, "-i", f"n={n}", "-i", f"seconds={seconds}", "--wait"],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = engine.cpu_times()
    done.set()
    sampler.join()
    return {"wall_s": wall, "cpu_s": (after.user + after.system) - (cpu.user + cpu.system),
            "peak_rss": float(peak[0])}


def at_rest(pid: int, seconds: float) -> tuple[float, float]:
    """The engine's CPU share (of one core) over `seconds` with nothing to do, and its RSS after."""
    engine = psutil.Process(pid)
    before = engine.cpu_times()
    time.sleep(seconds)
    after = engine.cpu_times()
    used = (after.user + after.system) - (before.user + before.system)
    return used / seconds, float(engine.memory_info().rss)


def main() -> int:
    """Measure (h) to (k), print the section (and append it with --write)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50,100,200,500")
    parser.add_argument("--idle-s", type=float, default=30.0)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    cores = len(os.sched_getaffinity(0))
    mib = 1024 * 1024
    with private_engine() as (env, home):
        applet = build(env, HERE / "applets" / "fan_out")
        applet_id, image = str(applet["id"]), str(applet["image"])
        pid = engine_pid(home)
        run_tree(env, applet_id, 2, 0.1, pid)  # warm: the image's layers, dxpy's files in the page cache
        idle_cpu, idle_rss = at_rest(pid, args.idle_s)
        docker = ["docker", "run", "--rm", image, "true"]
        starts = alternate([("docker", lambda: timed(docker))], 3)["docker"]
        wide = run_tree(env, applet_id, args.width, 1.0, pid)
        starts += alternate([("docker", lambda: timed(docker))], 2)["docker"]
        curve = {n: run_tree(env, applet_id, n, 0.1, pid) for n in sizes}
    start_s = median(starts)
    ideal = args.width / cores + start_s
    ratio = wide["wall_s"] / ideal
    per_job = {n: curve[n]["cpu_s"] / (n + 1) for n in sizes}
    rows = [
        [f"(h) {args.width} subjobs of 1 s, 1-core instance type, `runner run --wait`", f"{wide['wall_s']:.2f} s",
         f"ideal {ideal:.2f} s ({args.width} / {cores} cores + one start {start_s:.2f} s)", f"{ratio:.2f}x",
         "<= 1.5x"],
    ]
    if 200 in curve:
        tree = curve[200]
        rows.append(["(i) 200 subjobs of 0.1 s", (f"{201 / tree['wall_s']:.1f} jobs/s; engine CPU "
                     f"{per_job[200] * 1000:.0f} ms per job"), f"makespan {tree['wall_s']:.1f} s", "", "report"])
    rows.append(["(j) engine at rest", (f"CPU {idle_cpu * 100:.2f} % of a core over {args.idle_s:g} s; RSS "
                 f"{idle_rss / mib:.0f} MiB"), "", "", "report"])
    rows.append([f"(j) engine memory per running job ({args.width}-way fan-out, {cores} at a time)",
                 f"{(wide['peak_rss'] - idle_rss) / mib / cores:.1f} MiB (peak RSS {wide['peak_rss'] / mib:.0f} MiB)",
                 f"at rest {idle_rss / mib:.0f} MiB", "", "report"])
    for n in sizes:
        rows.append([f"(k) tree of {n} subjobs of 0.1 s: engine CPU per job", f"{per_job[n] * 1000:.0f} ms",
                     f"{sizes[0]}-job tree {per_job[sizes[0]] * 1000:.0f} ms", f"{per_job[n] / per_job[sizes[0]]:.2f}x",
                     f"<= {CURVE_SLACK}x" if n == sizes[-1] else ""])
    walls = ", ".join(f"{n}: {curve[n]['wall_s'] / (n + 1) * 1000:.0f} ms" for n in sizes)
    text = section("fan-out and the engine's cost", rows, [(f"Wall time per job (makespan / jobs): {walls}. "
                   f"Container starts (s): {', '.join(f'{s:.2f}' for s in starts)}.")])
    print(text)
    if args.write:
        write(text)
    return 0 if ratio <= 1.5 and per_job[sizes[-1]] <= CURVE_SLACK * per_job[sizes[0]] else 1


if __name__ == "__main__":
    sys.exit(main())
