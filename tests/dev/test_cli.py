"""`runner dev` as a real process: its output, Ctrl+C (SIGINT) with and without --keep-running, bad flags."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from tests.dev.conftest import GUARD_S, QUICK_SCRIPT, STEP_S, WAITING_SCRIPT, write_applet
from tests.integration.helpers import REPO, SAMPLE_APPS, tree_jobs, wait_state, wait_terminal

EXIT_INTERRUPTED = 130


class DevProcess:
    """`python -m runner dev ARGS` against the tests' engine; its stdout lines read in a thread."""

    def __init__(self, home: Path, *args: str) -> None:
        env = {**os.environ, "RUNNER_HOME": str(home)}
        self.process = subprocess.Popen([sys.executable, "-m", "runner", "dev", *args], cwd=REPO, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def line(self, what: str, starts: str) -> str:
        """The first stdout line starting with `starts` (waits for it)."""
        deadline = time.monotonic() + GUARD_S
        while True:
            found = next((line for line in list(self.lines) if line.startswith(starts)), None)
            if found is not None:
                return found
            if self.process.poll() is not None and not self.reader.is_alive():
                raise AssertionError(f"runner dev ended ({self.process.returncode}) before {what}:\n"
                                     + "\n".join(self.lines) + (self.process.stderr.read() if self.process.stderr
                                                                else ""))
            if time.monotonic() > deadline:
                raise AssertionError(f"runner dev never printed {what}:\n" + "\n".join(self.lines))
            time.sleep(STEP_S)

    def interrupt(self) -> tuple[int, str]:
        """Ctrl+C: SIGINT, as the terminal sends it; the exit code and stderr."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(GUARD_S)
        self.reader.join(GUARD_S)
        assert self.process.stderr is not None
        return self.process.returncode, self.process.stderr.read()

    def close(self) -> None:
        """Make sure the process is gone (after a failed test) and its pipes closed."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.reader.join(GUARD_S)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.mark.docker
@pytest.mark.parametrize("keep_running", [False, True], ids=["terminates", "keep-running"])
def test_ctrl_c_stops_watching_and_terminates_the_running_tree_unless_keep_running(
        tmp_path: Path, dev_home: Path, engine: EngineClient, keep_running: bool) -> None:
    folder = write_applet(tmp_path / "app", WAITING_SCRIPT % "v0")
    dev = DevProcess(dev_home, str(folder), *(["--keep-running"] if keep_running else []))
    try:
        assert dev.line("that it watches", "[dev] watching ").endswith("(a change while busy: restart; "
                                                                      "Ctrl+C stops)")
        job = dev.line("the started job", "[dev] started job-").split()[2]
        wait_state(engine, job, ("running",))
        code, stderr = dev.interrupt()
    finally:
        dev.close()
    assert code == EXIT_INTERRUPTED
    assert "Traceback" not in stderr and "Traceback" not in "\n".join(dev.lines)
    if keep_running:
        assert dev.lines[-1] == f"[dev] stopped watching; {job} keeps running (runner watch {job})"
        assert engine.call(f"/{job}/describe", {})["state"] == "running"
        engine.call(f"/{job}/addTags", {"tags": ["released"]})
        assert wait_terminal(engine, job)["state"] == "done"
    else:
        assert dev.lines[-1] == f"[dev] stopped watching; terminated {job}"
        assert wait_terminal(engine, job)["state"] == "terminated"


@pytest.mark.docker
def test_runner_dev_prints_the_change_the_build_the_run_and_the_outputs(tmp_path: Path, dev_home: Path) -> None:
    folder = write_applet(tmp_path / "app", QUICK_SCRIPT % "cli-v0")
    dev = DevProcess(dev_home, str(folder), "--on-busy", "queue")
    try:
        dev.line("the first run's outputs", '  version: new  "cli-v0"')
        (folder / "src" / "code.sh").write_text(QUICK_SCRIPT % "cli-v1")
        dev.line("the change", "[dev] changed: src/code.sh")
        dev.line("the second run's outputs", '  version: changed  "cli-v1"')
        code, stderr = dev.interrupt()
    finally:
        dev.close()
    assert code == EXIT_INTERRUPTED and stderr == ""
    marked = [line.removeprefix("[dev] ") for line in dev.lines if line.startswith("[dev] ")]
    first, second = (line.split()[1].rstrip(",") for line in marked if line.startswith("started "))
    assert [line.split(" in ")[0] for line in marked] == [
        f"watching {folder} (a change while busy: queue; Ctrl+C stops)", "built " + marked[1].split()[1] + " (dev_probe)",
        f"started {first}", f"{first} done", "changed: src/code.sh", "built " + marked[5].split()[1] + " (dev_probe)",
        f"started {second}, re-running {first}", f"{second} done", "stopped watching"]


@pytest.mark.docker
def test_the_focused_loop_from_the_command_line(tmp_path: Path, dev_home: Path, engine: EngineClient) -> None:
    folder = tmp_path / "scatter"
    shutil.copytree(SAMPLE_APPS / "scatter_gather_python", folder)
    applet = engine.call("/runner/build", {"folder": str(folder)}, timeout_s=None)["id"]
    root = engine.call(f"/{applet}/run", {"project": engine.project, "input": {"n": 2}})["id"]
    wait_terminal(engine, root)
    gather = next(job for job in tree_jobs(engine, root) if job["function"] == "gather")
    dev = DevProcess(dev_home, str(folder), "--entry", "gather", "--input-from", gather["id"])
    try:
        job = dev.line("the focused run", "[dev] started job-").split()[2]
        dev.line("its output", "  total: new  1")
        code, stderr = dev.interrupt()
    finally:
        dev.close()
    assert code == EXIT_INTERRUPTED and stderr == ""
    described = engine.call(f"/{job}/describe", {})
    assert (described["function"], described["rerunOf"], described["input"]) == ("gather", gather["id"],
                                                                                   {"squares": [0, 1]})


@pytest.mark.parametrize(("args", "message"), [
    (["/nonexistent/applet"], "/nonexistent/applet is not a folder"),
    (["{app}", "--entry", "boom"], "--entry and --input-from go together"),
    (["{app}", "--entry", "boom", "--input-from", "nojob"], "--input-from: 'nojob' is not a job ID"),
    (["{app}", "-i", "who"], "-i"),
    (["{app}", "--on-busy", "later"], "'later' is not one of 'restart', 'queue', 'ignore'"),
    (["{app}", "--rank", "5000"], "--rank"),
])
def test_bad_flags_exit_3_with_one_line_before_anything_starts(tmp_path: Path, args: list[str],
                                                               message: str) -> None:
    folder = write_applet(tmp_path / "app", QUICK_SCRIPT % "x")
    home = tmp_path / "no-engine-here"
    done = subprocess.run([sys.executable, "-m", "runner", "dev", *(a.format(app=folder) for a in args)],
                          cwd=REPO, env={**os.environ, "RUNNER_HOME": str(home)}, capture_output=True, text=True,
                          timeout=GUARD_S, check=False)
    assert done.returncode == 3, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (home / "engine.json").exists(), "a bad flag started an engine"
