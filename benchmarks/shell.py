"""The command line as a user meets it, from a shell: every figure is a whole process, its baseline
alternated with it in the same run (the order rotated each round), medians of `--repeat` rounds.

    python3 benchmarks/shell.py [--repeat 15] [--write]

(f) CLI start: `runner --help`, and `runner find jobs` with the engine running, against `python -c "import
    click"` (the same interpreter, no shim for either): target <= 1.5x.
(g) submit to done: `runner run APPLET --wait` of a trivial bash applet (built first), against `docker run
    --rm IMAGE true` of the applet's own image: target <= 1.3x.

A private engine is started with `runner engine start` in a temporary $RUNNER_HOME; the job images must exist
(`runner images prepare`). Exits 1 when a target is missed. `--write` appends the results to RESULTS.md.

    python3 benchmarks/shell.py --timeline [--repeat 15] [--trees DIR,DIR]

prints instead where the time of (g) goes, phase by phase (medians, ms): the command's own marks (its start,
imports, each call to the engine, each log record as it arrives, its exit; `timeline.py` times them inside the
process), the job's stateTransitions, and its container's `docker events` (create, start, die, destroy);
`--trees` runs the command from each checkout in turn (a column each: before and after a change).
"""

from __future__ import annotations

import argparse
import sys

from _shell import HERE, alternate, build, median, private_engine, runner_command, section, timed, write
from timeline import print_timeline


def main() -> int:
    """Measure (f) and (g), print the section (and append it with --write)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--timeline", action="store_true", help="where the time of (g) goes, phase by phase")
    parser.add_argument("--trees", default="", help="with --timeline: checkouts to compare (DIR,DIR), alternated")
    args = parser.parse_args()
    if args.timeline:
        print_timeline(args.repeat, [tree for tree in args.trees.split(",") if tree] or None)
        return 0
    runner = runner_command()
    click = [sys.executable, "-c", "import click"]
    with private_engine() as (env, _home):
        applet = build(env, HERE / "applets" / "trivial")
        image = str(applet["image"])
        run = [*runner, "run", str(applet["id"]), "--wait"]
        docker = ["docker", "run", "--rm", image, "true"]
        timed(run, env), timed(docker)  # warm both: page cache, the image's layers
        cli = alternate([("click", lambda: timed(click, env)), ("help", lambda: timed([*runner, "--help"], env)),
                         ("find", lambda: timed([*runner, "find", "jobs"], env))], args.repeat)
        job = alternate([("docker", lambda: timed(docker)), ("run", lambda: timed(run, env))], args.repeat)
    base, help_, find = median(cli["click"]), median(cli["help"]), median(cli["find"])
    raw, ours = median(job["docker"]), median(job["run"])
    checks = [help_ / base <= 1.5, find / base <= 1.5, ours / raw <= 1.3]
    rows = [
        [f"(f) `runner --help` (median of {args.repeat})", f"{help_:.3f} s", (f'`python -c "import click"` '
         f"{base:.3f} s"), f"{help_ / base:.2f}x", "<= 1.5x"],
        [f"(f) `runner find jobs`, engine running (median of {args.repeat})", f"{find:.3f} s",
         f'`python -c "import click"` {base:.3f} s', f"{find / base:.2f}x", "<= 1.5x"],
        [f"(g) `runner run APPLET --wait`, trivial bash job (median of {args.repeat})", f"{ours:.3f} s",
         f"`docker run --rm IMAGE true` {raw:.3f} s", f"{ours / raw:.2f}x", "<= 1.3x"],
    ]
    notes = [f"Rounds (s): {name} " + ", ".join(f"{v:.3f}" for v in values)
             for name, values in (*cli.items(), *job.items())]
    text = section("command line from the shell", rows, [" ".join(notes)])
    print(text)
    if args.write:
        write(text)
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
