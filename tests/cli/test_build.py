"""`runner build DIR --dry-run`: a clear report, exit 0 when valid and 3 with every problem when not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from runner.cli.main import cli
from tests.conftest import SAMPLE_APPS


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_valid_sample_app_report() -> None:
    code, output = run("build", str(SAMPLE_APPS / "hello_bash"), "--dry-run")
    assert code == 0
    assert "valid applet 'hello_bash'" in output
    assert "entry point  main: mem1_ssd1_v2_x2 (runSpec.systemRequirements), timeout 10m" in output
    assert 'who (string, default "World")' in output


def test_invalid_folder_lists_every_problem_and_exits_3(tmp_path: Path) -> None:
    (tmp_path / "dxapp.json").write_text(json.dumps({
        "runSpec": {"interpreter": "python2.7", "distribution": "Ubuntu", "release": "24.04", "file": "x.py"},
        "inputSpec": [{"name": "a b", "class": "int"}], "treeTurnaroundTimeThreshold": -5}))
    code, output = run("build", str(tmp_path), "--dry-run")
    assert code == 3
    assert "is invalid (4 problem(s))" in output
    for path in ("runSpec.interpreter", "runSpec.file", "inputSpec[0].name", "treeTurnaroundTimeThreshold"):
        assert f"  - {path}: " in output
    assert "Traceback" not in output


def test_json_report(tmp_path: Path) -> None:
    (tmp_path / "dxapp.json").write_text("{not json")
    code, output = run("build", str(tmp_path), "--dry-run", "--json")
    assert code == 3
    report = json.loads(output)
    assert report["valid"] is False
    assert report["problems"][0]["path"] == "" and "not valid JSON" in report["problems"][0]["message"]
    code, output = run("build", str(SAMPLE_APPS / "hello_python"), "--dry-run", "--json")
    assert code == 0 and json.loads(output)["valid"] is True


def test_not_a_folder(tmp_path: Path) -> None:
    code, output = run("build", str(tmp_path / "missing"), "--dry-run")
    assert code == 3
    assert "is not a folder" in output


def test_installed_command_exits_3_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "dxapp.json").write_text("[]")
    result = subprocess.run([sys.executable, "-m", "runner", "build", str(tmp_path), "--dry-run"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 3
    assert "expected a JSON object" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
