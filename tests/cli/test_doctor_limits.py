"""`runner doctor` on limits: whether /proc/meminfo shows a job's limit (lxcfs), which disk enforcement holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.backends.docker_limits import lxcfs_dir
from runner.cli.doctor import doctor
from runner.config import write_setting


@pytest.mark.docker
def test_doctor_says_how_limits_are_enforced(runner_home: Path) -> None:
    write_setting("instance_policy", "strict", runner_home)
    facts = json.loads(CliRunner().invoke(doctor, ["--json"]).stdout)
    limits = facts["limits"]
    assert limits["lxcfs"] is (lxcfs_dir() is not None)
    assert limits["meminfo"].startswith("lxcfs at " if limits["lxcfs"] else "lxcfs is not running")
    assert isinstance(limits["storage_quota"], bool)
    assert limits["disk"].startswith("storage quota" if limits["storage_quota"] else "watchdog: ")
    assert (limits["instance_policy"], limits["gpu_policy"]) == ("strict", "refuse")

    text = CliRunner().invoke(doctor, []).output
    assert f"  disk    {limits['disk']}" in text
    assert "  policy  instance-policy strict, gpu-policy refuse" in text


def test_lxcfs_counts_only_where_its_file_system_is_mounted(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "meminfo").write_text("MemTotal:        1048576 kB\n")
    assert lxcfs_dir(tmp_path) is None  # a folder that looks like lxcfs's, but no mount: jobs would see nothing
    assert lxcfs_dir(tmp_path / "absent") is None
