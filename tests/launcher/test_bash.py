"""The launcher's bash side without Docker: input variables as dx-print-bash-vars prints them, the wrapper."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from runner.launcher._bash import LONG_VALUE, bash_argv, bash_vars, has_file_inputs, wrapper_script

FILE = {"$dnanexus_link": "file-B0000000000000000000000x"}


def test_values_are_exported_as_dx_print_bash_vars_prints_them() -> None:
    # Checked against dx-print-bash-vars of dxpy 0.417.1 on the same input.
    job_input = {
        "s": "it's a \"test\" $HOME", "i": 3, "f": 3.0, "b": False, "n": None, "d": {"a": [1, 2]},
        "arr": ["x y", "z"], "ai": [1, 2], "empty": [], "rec": {"$dnanexus_link": "record-B0000000000000000000000x"},
    }
    text, warnings = bash_vars(job_input, {})
    assert warnings == []
    assert text.splitlines() == [
        "export s='it'\"'\"'s a \"test\" $HOME'",
        "export i=3",
        "export f=3.0",
        "export b=false",
        "export n=null",
        "export d='{\"a\": [1, 2]}'",
        "export arr=( 'x y' z )",
        "export ai=( 1 2 )",
        "export empty=(  )",
        "export rec='{\"$dnanexus_link\": \"record-B0000000000000000000000x\"}'",
    ]


def test_an_input_named_like_an_environment_variable_is_dropped_with_a_warning() -> None:
    text, warnings = bash_vars({"PATH": "x", "ok": "y"}, {"PATH": "/bin"})
    assert text == "export ok=y\n"
    assert warnings == ["Creating environment variable (PATH) would cause a name collision"]


def test_long_values_get_a_warning_line() -> None:
    text, _ = bash_vars({"big": "x" * LONG_VALUE}, {})
    assert text.splitlines()[0] == f'echo "warning: variable big is long ({LONG_VALUE} bytes)"'


def test_file_links_need_the_api() -> None:
    assert has_file_inputs({"reads": FILE})
    assert has_file_inputs({"reads": [FILE, FILE]})
    assert has_file_inputs({"reads": {"$dnanexus_link": {"project": "project-x", "id": "file-y"}}})
    assert not has_file_inputs({"rec": {"$dnanexus_link": "record-x"}, "n": 1, "arr": ["file-x"]})


def run_wrapper(tmp_path: Path, script: str, function: str, job_input: dict[str, object]) -> tuple[int, str, str]:
    vars_path, code_path, error_path = tmp_path / "vars.sh", tmp_path / "code.sh", tmp_path / "job_error.json"
    vars_path.write_text(bash_vars(job_input, {})[0])
    code_path.write_text(script)
    argv = bash_argv(wrapper_script(str(vars_path), str(code_path), str(error_path)), function)
    result = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, check=False)
    error = error_path.read_text() if error_path.exists() else ""
    return result.returncode, result.stdout, error


def test_the_wrapper_runs_top_level_code_then_the_entry_point(tmp_path: Path) -> None:
    script = 'echo "top $1"\nmain() { echo "main sees name=$name arr=${arr[1]} args=$#"; }\n'
    code, out, error = run_wrapper(tmp_path, script, "main", {"name": "x y", "arr": ["a", "b"]})
    assert (code, error) == (0, "")
    assert out.splitlines() == ["top main", "main sees name=x y arr=b args=0"]


def test_a_missing_entry_point_is_an_app_internal_error(tmp_path: Path) -> None:
    code, _, error = run_wrapper(tmp_path, "main() { :; }\n", "postprocess", {})
    assert code == 1
    assert json.loads(error) == {
        "error": {"type": "AppInternalError", "message": "entry point postprocess is not defined in the script"}
    }


@pytest.mark.parametrize("script", ["main() { false; echo after; }\n", "false\nmain() { echo never; }\n"])
def test_errors_stop_the_script(tmp_path: Path, script: str) -> None:
    code, out, _ = run_wrapper(tmp_path, script, "main", {})
    assert code == 1 and out == ""
