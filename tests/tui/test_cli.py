"""`runner tui` on the command line: bad paths are refused with a clear message before any screen opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def runner(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, check=False, stdin=subprocess.DEVNULL)


def test_a_path_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    done = runner("tui", str(tmp_path / "nowhere"), home=tmp_path / "home")
    assert done.returncode == 3
    assert "nowhere" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_help_names_the_paths(tmp_path: Path) -> None:
    done = runner("tui", "--help", home=tmp_path / "home")
    assert done.returncode == 0 and "sample_apps" in done.stdout
