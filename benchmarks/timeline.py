"""Where the time of `runner run APPLET --wait` goes, from the fork of the command to its exit, phase by phase.

    python3 benchmarks/shell.py --timeline [--repeat 15] [--trees DIR,DIR]

Each round runs the command as a whole process, its code wrapped by TRACED (marks taken inside it: its first
line, the imports, each call to the engine, each log record as it arrives, the exit handlers), then reads the
job's stateTransitions and its container's `docker events`; every mark is a wall-clock time, so the engine's,
Docker's and the command's line up. The table is the median of each phase over the rounds.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _shell import HERE, build, private_engine, runner_command, timed

# The command itself, with marks: run as `python -c TRACED run APPLET --wait`, the marks go to $TRACE_OUT.
TRACED = r'''
import time
MARKS = [("start", time.time())]
def mark(name):
    MARKS.append((name, time.time()))
import atexit, json, os, sys
import click
mark("imported click")
from runner.cli.main import main
mark("imported runner.cli.main")
import runner.cli.run
mark("imported runner.cli.run")
from runner.client import api, engine_process
exchange, stream_logs, connect = api.EngineClient._exchange, api.EngineClient.stream_logs, engine_process.connect
def traced_exchange(self, method, route, data, timeout_s):
    mark("asked " + route)
    answer = exchange(self, method, route, data, timeout_s)
    mark("answered " + route)
    return answer
def traced_stream_logs(self, *args, **kwargs):
    mark("log stream opened")
    for record in stream_logs(self, *args, **kwargs):
        mark(f"record {record.get('kind')} {record.get('state') or record.get('line') or ''}")
        yield record
def traced_connect(*args, **kwargs):
    mark("connecting")
    client = connect(*args, **kwargs)
    mark("connected")
    return client
api.EngineClient._exchange, api.EngineClient.stream_logs = traced_exchange, traced_stream_logs
command = runner.cli.run.run.callback
def traced_command(*args, **kwargs):
    mark("command called")
    return command(*args, **kwargs)
runner.cli.run.run.callback = traced_command
engine_process.connect = traced_connect
@atexit.register
def dump():
    mark("exit handlers")
    with open(os.environ["TRACE_OUT"], "w") as out:
        json.dump(MARKS, out)
sys.argv = ["runner", *sys.argv[1:]]
main()
'''

# (phase, from mark, to mark): the marks' names as one round collects them (`first:` the first such mark).
PHASES = [
    ("interpreter start (fork to first line)", "fork", "start"),
    ("import click", "start", "imported click"),
    ("import runner.cli.main", "imported click", "imported runner.cli.main"),
    ("import runner.cli.run", "imported runner.cli.main", "imported runner.cli.run"),
    ("click reads the command line", "imported runner.cli.run", "command called"),
    ("the flags checked", "command called", "connecting"),
    ("connect (engine.json, ping)", "connecting", "connected"),
    ("/applet-x/describe", "connected", "answered describe applet"),
    ("/applet-x/run", "answered describe applet", "answered run"),
    ("/run answered to job running", "answered run", "state running"),
    ("running to container created", "state running", "docker create"),
    ("Docker: create to start", "docker create", "docker start"),
    ("start to the job's line (launcher, bash)", "docker start", "first:record log hello"),
    ("the job's line to the process's end", "first:record log hello", "docker die"),
    ("die to done (engine: wait, inspect, logs)", "docker die", "state done"),
    ("done to the end record at the command", "state done", "record end done"),
    ("end record to describe answered", "record end done", "answered describe job"),
    ("describe answered to exit handlers", "answered describe job", "exit handlers"),
    ("exit handlers to the process's end", "exit handlers", "exit"),
]


def one_round(env: dict[str, str], home: Path, applet: str) -> dict[str, float]:
    """The marks of one `runner run APPLET --wait` (seconds since the epoch), by name."""
    with tempfile.TemporaryDirectory(prefix="timeline-") as scratch:
        out = Path(scratch) / "marks.json"
        started = time.time()
        # Not from the checkout's folder: `python -c` puts the current folder first on the path, before PYTHONPATH.
        done = subprocess.run([sys.executable, "-c", TRACED, "run", applet, "--wait"],
                              env={**env, "TRACE_OUT": str(out)}, capture_output=True, text=True, check=True,
                              cwd=scratch)
        ended = time.time()
        traced = json.loads(out.read_text())
    job = done.stderr.split("Started ", 1)[1].split()[0]
    marks: dict[str, float] = {"fork": started, "exit": ended}
    for name, at in traced:
        name = name.replace(f"/{applet}/describe", "describe applet").replace(f"/{applet}/run", "run")
        name = name.replace(f"/{job}/describe", "describe job")
        marks.setdefault("first:" + name, at)
        marks[name] = at
    described = json.loads(subprocess.run([*runner_command(), "describe", job, "--json"], env=env, check=True,
                                          capture_output=True, text=True).stdout)
    for transition in described["stateTransitions"]:
        marks["state " + transition["newState"]] = transition["setAt"] / 1000
    events = subprocess.run(["docker", "events", "--since", f"{started:.3f}", "--until", f"{ended + 1:.3f}",
                             "--filter", f"label=runner.job={job}", "--format", "{{json .}}"],
                            capture_output=True, text=True, check=True).stdout
    for line in events.splitlines():
        event = json.loads(line)
        if event.get("Type") == "container":
            marks.setdefault("docker " + event["Action"].split(":")[0], event["timeNano"] / 1e9)
    return marks


def print_timeline(repeat: int, trees: list[str] | None = None) -> None:
    """Run `repeat` rounds (after one to warm up) and print each phase's median, and the whole's.

    With `trees` (checkouts' folders, e.g. this one and a copy of the code before a change), each round runs the
    command once from each, alternated, and the table has a column per tree: the same load weighs on all.
    """
    with private_engine() as (env, home):
        built = build(env, HERE / "applets" / "trivial")
        applet, image = str(built["id"]), str(built["image"])
        envs = {tree: {**env, "PYTHONPATH": tree} for tree in trees} if trees else {"": env}
        for tree_env in envs.values():
            one_round(tree_env, home, applet)
        rounds: dict[str, list[dict[str, float]]] = {tree: [] for tree in envs}
        docker = []
        for _ in range(repeat):
            for tree, tree_env in envs.items():
                rounds[tree].append(one_round(tree_env, home, applet))
            docker.append(timed(["docker", "run", "--rm", image, "true"]))
    print(f"`runner run APPLET --wait` of benchmarks/applets/trivial, medians of {repeat} rounds (ms)\n")
    print("| phase | " + " | ".join(tree or "ms" for tree in envs) + " |\n|" + " --- |" * (len(envs) + 1))
    for label, start, end in [*PHASES, ("**whole command**", "fork", "exit")]:
        cells = []
        for tree in envs:
            spans = [(r[end] - r[start]) * 1000 for r in rounds[tree] if start in r and end in r]
            cells.append(f"{statistics.median(spans):.1f}" if spans else "(not seen)")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"| `docker run --rm IMAGE true` | {statistics.median(docker) * 1000:.1f} |")
    if os.environ.get("TIMELINE_RAW"):
        for tree_rounds in rounds.values():
            for marks in tree_rounds:
                print(json.dumps({name: round((at - marks["fork"]) * 1000, 1) for name, at in
                                  sorted(marks.items(), key=lambda item: item[1])}))
