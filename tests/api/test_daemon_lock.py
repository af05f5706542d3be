"""The daemon's side of the file contract its starter relies on: one daemon per home, a second exits 75."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.api.daemon import engine_lock
from runner.home_files import DAEMON_MODULE, ENGINE_LOCK, EXIT_ALREADY_RUNNING


def test_a_second_daemon_for_a_locked_home_exits_with_the_code_its_starter_waits_on(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with engine_lock(home) as held:
        assert held is not None
        second = subprocess.run([sys.executable, "-m", DAEMON_MODULE, "--home", str(home)],
                                capture_output=True, text=True, timeout=60, check=False)
    assert second.returncode == EXIT_ALREADY_RUNNING, second.stderr
    assert f"another engine already runs for {home}" in second.stderr
    assert sorted(p.name for p in home.iterdir()) == [ENGINE_LOCK]  # it wrote nothing else
