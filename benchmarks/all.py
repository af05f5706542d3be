"""Every benchmark, one after another, each in its own process: one command for all of RESULTS.md.

    python3 benchmarks/all.py [--write] [--quick] [--only shell,fanout,...]

shell (the command line's start, submit to done), fanout (fan-out, the engine at rest and under load, the
curve), loop (the engine loop per wake-up by tree size), run (the in-process submit-to-done and fan-out of
before), events (the event stream), dev (watch mode), tui (the terminal UI), usage (the usage sampler; it
prints its figures and writes nothing), scheduler (the 40-job tree's makespan against the ideal packing). The
job images must exist (`runner images prepare`). The package's bytecode is compiled first, as `pip install` does (a checkout run
with PYTHONDONTWRITEBYTECODE would otherwise compile every module at every start, and the baseline's
packages are compiled). `--quick` runs fewer rounds and smaller trees (a smoke run, not figures to keep).
Exits 1 when any benchmark missed a target.
"""

from __future__ import annotations

import argparse
import compileall
import subprocess
import sys
import time
from pathlib import Path

import runner

HERE = Path(__file__).resolve().parent
FULL = {
    "shell": ["shell.py"],
    "fanout": ["fanout.py"],
    "loop": ["loop.py"],
    "run": ["run.py"],
    "events": ["events.py"],
    "dev": ["dev.py"],
    "tui": ["tui.py"],
    "usage": ["usage.py"],
    "scheduler": ["scheduler.py"],
}
PRINTS_ONLY = {"usage"}  # no --write: its figures are printed
QUICK = {
    "shell": ["shell.py", "--repeat", "3"],
    "fanout": ["fanout.py", "--sizes", "10,20", "--idle-s", "5", "--width", "8"],
    "loop": ["loop.py", "--wakes", "5"],
    "run": ["run.py", "--repeat", "2", "--width", "4"],
    "events": ["events.py", "--jobs", "200", "--seconds", "3"],
    "dev": ["dev.py", "--repeat", "2"],
    "tui": ["tui.py", "--repeat", "1", "--roots", "4", "--seconds", "3"],
    "usage": ["usage.py", "--jobs", "2", "--rounds", "5"],
    "scheduler": ["scheduler.py", "--n", "9"],
}


def main() -> int:
    """Run the benchmarks asked for; a summary line each, and the exit status of the worst."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(FULL))
    args = parser.parse_args()
    table = QUICK if args.quick else FULL
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in table]
    if unknown:
        parser.error(f"--only: no benchmark {', '.join(unknown)} (there are: {', '.join(table)})")
    compileall.compile_dir(Path(runner.__file__).parent, quiet=1)
    outcomes = []
    for name in names:
        command = [sys.executable, str(HERE / table[name][0]), *table[name][1:], *(["--write"] if args.write and name not in PRINTS_ONLY else [])]
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        code = subprocess.run(command, cwd=HERE, check=False).returncode
        outcomes.append((name, code, time.monotonic() - started))
    for name, code, seconds in outcomes:
        print(f"{name:8} {'met' if code == 0 else f'MISSED (exit {code})':18} {seconds:6.0f} s")
    return 0 if all(code == 0 for _, code, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
