"""The `runner` process ends without Python's teardown, yet everything an exit must do still happens:
the whole output reaches a file or a pipe, exit handlers run, running threads are waited for, and a closed
stdout ends the command quietly, as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from runner import __version__

MAIN = "from runner.cli.main import main\nimport sys\nsys.argv = ['runner', *sys.argv[1:]]\nmain()\n"


def python(code: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = subprocess.run([sys.executable, "-c", code, *args], check=False,
                                                            text=True, timeout=120, **kwargs)
    return done


def test_the_whole_output_reaches_a_file(tmp_path: Path) -> None:
    out = tmp_path / "help.txt"
    with out.open("w") as stdout:
        done = python(MAIN, "--help", stdout=stdout, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("Usage: runner") and text.rstrip().splitlines()[-1].split()[0] == "watch"


def test_exit_handlers_run_and_what_they_print_is_flushed(tmp_path: Path) -> None:
    # Without PYTHONUNBUFFERED, stdout to a pipe is block-buffered: a line an exit handler prints (as logging
    # may) leaves the process only if the exit flushes it.
    mark = tmp_path / "atexit.txt"
    code = (f"import atexit, pathlib\natexit.register(pathlib.Path({str(mark)!r}).write_text, 'ran')\n"
            f"atexit.register(print, 'printed at exit')\n{MAIN}")
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    done = python(code, "--version", capture_output=True, env=buffered)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"runner, version {__version__}", "printed at exit"]
    assert mark.read_text() == "ran"
    assert python(MAIN, "run", "--no-such-flag", capture_output=True).returncode == 3


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    mark = tmp_path / "thread.txt"
    code = (f"import pathlib, threading, time\n"
            f"threading.Thread(target=lambda: (time.sleep(0.5), pathlib.Path({str(mark)!r}).write_text('done')))"
            f".start()\n{MAIN}")
    done = python(code, "--version", capture_output=True)
    assert done.returncode == 0, done.stderr
    assert mark.read_text() == "done"


def test_a_closed_stdout_exits_1_quietly() -> None:
    # `runner ... | head -0`: the reader is gone before anything is written; click says nothing and exits 1.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = python(MAIN, "--help", stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == ""
