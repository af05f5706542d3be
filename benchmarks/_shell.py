"""What the shell benchmarks share: whole processes timed from outside, a private engine, the RESULTS.md table."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"


def runner_command() -> list[str]:
    """The installed `runner` console script next to this Python (no pyenv shim: the baseline has none either)."""
    beside = Path(sys.executable).with_name("runner")
    found = str(beside) if beside.exists() else shutil.which("runner")
    if found is None:
        raise SystemExit("no `runner` command: pip install -e .")
    return [found]


def timed(command: Sequence[str], env: dict[str, str] | None = None, check: bool = True) -> float:
    """Seconds the whole process `command` took, from its fork to its exit (its output thrown away)."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return elapsed


def alternate(pairs: Sequence[tuple[str, Callable[[], float]]], repeat: int) -> dict[str, list[float]]:
    """Each measurement once per round, in turn, the order rotated each round (a load on the machine hits all)."""
    rounds: dict[str, list[float]] = {name: [] for name, _ in pairs}
    for index in range(repeat):
        shift = index % len(pairs)
        for name, measure in [*pairs[shift:], *pairs[:shift]]:
            rounds[name].append(measure())
    return rounds


def median(values: Sequence[float]) -> float:
    """The median, as every figure of RESULTS.md is."""
    return statistics.median(values)


@contextmanager
def private_engine() -> Iterator[tuple[dict[str, str], Path]]:
    """An engine of its own, started from the shell as a user does, in a temporary $RUNNER_HOME."""
    home = Path(tempfile.mkdtemp(prefix="bench-shell-"))
    env = {**os.environ, "RUNNER_HOME": str(home)}
    runner = runner_command()
    subprocess.run([*runner, "engine", "start"], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        yield env, home
    finally:
        subprocess.run([*runner, "engine", "stop"], env=env, check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(home, ignore_errors=True)


def engine_pid(home: Path) -> int:
    """The pid of the engine daemon of `home` (from its engine.json)."""
    return int(json.loads((home / "engine.json").read_text())["pid"])


def build(env: dict[str, str], folder: Path) -> dict[str, object]:
    """`runner build --json FOLDER`: the applet's ID and image."""
    done = subprocess.run([*runner_command(), "build", "--json", str(folder)], env=env, check=True,
                          capture_output=True, text=True)
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def machine() -> str:
    """The machine, for the heading of a RESULTS.md section."""
    cores = len(os.sched_getaffinity(0))
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cores} cores ({model or platform.machine()}), Python {sys.version.split()[0]}"


def section(title: str, rows: Sequence[Sequence[str]], notes: Sequence[str] = ()) -> str:
    """A RESULTS.md section: heading with the time and the machine, the table, then notes."""
    lines = [f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {title}, {machine()}", "",
             "| benchmark | measured | baseline | ratio | target |", "| --- | --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", *notes, ""] if notes else [""]
    return "\n".join(lines)


def write(text: str) -> None:
    """Append a section to RESULTS.md."""
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write("\n" + text)
