"""The launcher as a whole on this host (bash jobs need no Docker), and what it may import."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

import runner.launcher
from runner.launcher import ENV_FUNCTION, ENV_INTERPRETER, LAUNCHER_FAILED, container_command, host_path
from runner.launcher._main import main

LAUNCHER_FILES = sorted(Path(runner.launcher.__file__).parent.glob("*.py"))


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    paths = {name: tmp_path / name for name in ("home", "job", "applet", "input")}
    for name in ("job", "applet", "input"):
        paths[name].mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_INTERPRETER, "bash")
    monkeypatch.setenv(ENV_FUNCTION, "main")
    return paths


def launch(layout: dict[str, Path], script: str, job_input: object) -> int:
    (layout["applet"] / "code.sh").write_text(script)
    (layout["input"] / "job_input.json").write_text(json.dumps(job_input))
    return main(str(layout["home"]), str(layout["job"]), str(layout["applet"]), str(layout["input"]))


def test_a_bash_job_gets_its_input_and_its_output_is_collected(
    layout: dict[str, Path], capfd: pytest.CaptureFixture[str]
) -> None:
    script = 'main() {\n  echo "hello $who from $(pwd)"\n  echo "{\\"n\\": $n}" > job_output.json\n}\n'
    assert launch(layout, script, {"who": "world", "n": 2}) == 0
    assert capfd.readouterr().out == f"hello world from {layout['home']}\n"
    assert json.loads((layout["job"] / "output.json").read_text()) == {"n": 2}
    assert json.loads((layout["home"] / "job_input.json").read_text()) == {"who": "world", "n": 2}
    assert (layout["job"] / "bash-vars.sh").read_text() == "export who=world\nexport n=2\n"


def test_a_failing_job_gets_an_error_with_its_exit_code_and_stderr(
    layout: dict[str, Path], capfd: pytest.CaptureFixture[str]
) -> None:
    script = "main() {\n  for i in $(seq 30); do echo line $i >&2; done\n  exit 4\n}\n"
    assert launch(layout, script, {}) == 4
    assert capfd.readouterr().err.count("line ") == 30
    message = json.loads((layout["job"] / "error.json").read_text())["error"]["message"]
    assert "exit code 4" in message
    assert "line 11\n" in message and "line 10\n" not in message and message.endswith("line 30")


def test_the_job_does_not_see_the_launcher_settings(layout: dict[str, Path], capfd: pytest.CaptureFixture[str]) -> None:
    assert launch(layout, 'main() { env | grep -c "^RUNNER_" || true; }\n', {}) == 0
    assert capfd.readouterr().out.strip() == "0"


def test_launcher_problems_are_reported_as_errors(layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    folders = (str(layout[name]) for name in ("home", "job", "applet", "input"))
    assert main(*folders) == LAUNCHER_FAILED
    error = json.loads((layout["job"] / "error.json").read_text())["error"]
    assert error["type"] == "AppInternalError" and "job_input.json" in error["message"]
    monkeypatch.setenv(ENV_INTERPRETER, "python2.7")
    assert launch(layout, "", {}) == LAUNCHER_FAILED
    assert "python2.7" in json.loads((layout["job"] / "error.json").read_text())["error"]["message"]


def test_the_container_command_starts_the_package_mounted_at_opt() -> None:
    command = container_command()
    assert command[:3] == ["python3", "-I", "-c"]
    assert "'/opt/applet-runner'" in command[3] and "from launcher._main import main" in command[3]
    assert Path(host_path(), "_main.py").exists()


@pytest.mark.parametrize("path", LAUNCHER_FILES, ids=lambda path: path.name)
def test_the_launcher_is_python_3_8_and_standard_library_only(path: Path) -> None:
    # Ubuntu 20.04 images run the launcher with Python 3.8.
    tree = ast.parse(path.read_text(), feature_version=(3, 8))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [] if node.level else [node.module or ""]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in sys.stdlib_module_names | {"__future__"}, f"{path.name} imports {name}"
