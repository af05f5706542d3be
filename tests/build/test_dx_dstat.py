"""The runtime image's /usr/bin/dx-dstat, run on this host: its arguments, and the logger's lines under
cgroup v2 and v1 (a folder laid out as a container's /sys/fs/cgroup)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.build import _runtime
from runner.build._runtime import RECIPE_FILES, recipe_file, recipe_hash

SCRIPT = Path(__file__).resolve().parents[2] / "runner" / "build" / "recipes" / "dx-dstat"
USAGE = "usage: dx-dstat [SECONDS]  (whole seconds between lines, 1 to 86400; default 600)"
LINE = re.compile(
    r"dstat \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ load \d+\.\d\d cpu (\d+\.\d)% of (\d+) "
    r"mem (\d+)/(\d+) MiB disk \d+\.\d/\d+\.\d GiB\n"
)
MIB = 1024 * 1024


def _dx_dstat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["abc"], "dx-dstat: SECONDS must be a whole number from 1 to 86400, not 'abc'"),
        (["0"], "not '0'"),
        (["86401"], "not '86401'"),
        (["-5"], "not '-5'"),
        (["1.5"], "not '1.5'"),
        (["30", "60"], "dx-dstat: expected at most one argument, got 2"),
    ],
)
def test_a_bad_interval_exits_2_with_the_usage_line(args: list[str], complaint: str) -> None:
    result = _dx_dstat(*args)
    assert result.returncode == 2
    assert complaint in result.stderr and result.stderr.endswith(USAGE + "\n")
    assert result.stdout == ""


def test_help_prints_the_usage() -> None:
    result = _dx_dstat("--help")
    assert (result.returncode, result.stdout) == (0, USAGE + "\n")


def _cgroup(root: Path, layout: str) -> Path:
    """The files the logger reads: 1.5 CPUs of quota, 300 MiB used of a 1 GiB limit."""
    if layout == "v2":
        root.mkdir()
        (root / "cpu.stat").write_text("usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n")
        (root / "cpu.max").write_text("150000 100000\n")
        (root / "memory.current").write_text(f"{300 * MIB}\n")
        (root / "memory.max").write_text(f"{1024 * MIB}\n")
    else:
        for name in ("cpuacct", "cpu", "memory"):
            (root / name).mkdir(parents=True)
        (root / "cpuacct" / "cpuacct.usage").write_text("5000000\n")
        (root / "cpu" / "cpu.cfs_quota_us").write_text("150000\n")
        (root / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
        (root / "memory" / "memory.usage_in_bytes").write_text(f"{300 * MIB}\n")
        (root / "memory" / "memory.limit_in_bytes").write_text(f"{1024 * MIB}\n")
    return root


@pytest.fixture
def logger_line(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The first line of a logger (in the foreground, as the launcher's runs) reading a fake cgroup folder."""
    cgroup = _cgroup(tmp_path / "cgroup", request.param)
    env = {**os.environ, "DX_DSTAT_CGROUP": str(cgroup), "HOME": str(tmp_path)}
    with subprocess.Popen(["bash", str(SCRIPT), "--logger", "1"], env=env, stdout=subprocess.PIPE,
                          text=True) as process:
        assert process.stdout is not None
        try:
            yield process.stdout.readline()
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.parametrize("logger_line", ["v2", "v1"], indirect=True)
def test_the_logger_reads_the_containers_cgroup(logger_line: str) -> None:
    match = LINE.fullmatch(logger_line)
    assert match, logger_line
    cpu, cpus, used, limit = match.groups()
    # The counters do not move in a fake folder: no CPU used; the quota rounds up to 2 CPUs.
    assert (cpu, cpus, used, limit) == ("0.0", "2", "300", "1024")


def test_a_change_of_the_script_makes_the_runtime_image_out_of_date(monkeypatch: pytest.MonkeyPatch) -> None:
    before = recipe_hash("sha256:base", "0.417.1", ("bash",))
    assert RECIPE_FILES == ("dx-dstat",) and recipe_file("dx-dstat") == SCRIPT.read_bytes()
    monkeypatch.setattr(_runtime, "recipe_file", lambda name: b"#!/bin/bash\nexit 0\n")
    assert recipe_hash("sha256:base", "0.417.1", ("bash",)) != before
