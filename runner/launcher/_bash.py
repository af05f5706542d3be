"""Bash jobs: the input variables `dx-print-bash-vars` would define, and the wrapper that calls the entry point.

dx-print-bash-vars (dxpy/utils/file_load_utils.py) exports each input as a shell variable: strings as they
are, other values as JSON text, arrays as bash arrays, all shell-quoted; a file input `x` also gets
`x_name`, `x_prefix` and `x_path`, which need the file's name from the API. So the launcher defines the
variables itself when no input is a file, and runs dx-print-bash-vars when one is.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

# dx-print-bash-vars warns about values this long (bash copes badly with them).
LONG_VALUE = 16 * 1024
# Names that can be both a bash function and a word inside the JSON text the wrapper writes.
ENTRY_POINT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:+-]*$")


def is_file_link(value: Any) -> bool:
    """Whether `value` is a DNAnexus link to a file: `{"$dnanexus_link": "file-..."}` or `{..: {"id": "file-..."}}`."""
    if not isinstance(value, dict) or "$dnanexus_link" not in value:
        return False
    target = value["$dnanexus_link"]
    if isinstance(target, dict):
        target = target.get("id")
    return isinstance(target, str) and target.startswith("file-")


def has_file_inputs(job_input: Mapping[str, Any]) -> bool:
    """Whether any input (or element of an array input) is a file link, so that names must come from the API."""
    for value in job_input.values():
        items = value if isinstance(value, list) else [value]
        if any(is_file_link(item) for item in items):
            return True
    return False


def _quote_element(value: Any) -> str:
    return shlex.quote(value if isinstance(value, str) else json.dumps(value))


def _quote_value(value: Any) -> str:
    if isinstance(value, list):
        return "( {} )".format(" ".join(_quote_element(item) for item in value))
    return _quote_element(value)


def bash_vars(job_input: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """The `export` lines for an input without files, as dx-print-bash-vars prints them, and its warnings."""
    definitions = {}
    warnings = []
    for key, value in job_input.items():
        if key in environ or key in definitions:
            warnings.append(f"Creating environment variable ({key}) would cause a name collision")
            continue
        definitions[key] = _quote_value(value)
    lines = []
    for key, text in definitions.items():
        if len(text) >= LONG_VALUE:
            lines.append(f'echo "warning: variable {key} is long ({len(text)} bytes)"')
        lines.append(f"export {key}={text}")
    return "".join(line + "\n" for line in lines), warnings


def wrapper_script(vars_path: str, code_path: str, error_path: str) -> str:
    """The `bash -e -c` program: define the inputs, source the applet, call the entry point named by `$1`."""
    missing = (
        '{"error": {"type": "AppInternalError", "message": "entry point %s is not defined in the script"}}\\n'
    )
    return (
        f". {shlex.quote(vars_path)}\n"
        f". {shlex.quote(code_path)}\n"
        'if [ "$(type -t -- "$1")" = function ]; then\n'
        '    "$1"\n'
        "else\n"
        '    echo "entry point $1 is not defined in the script" >&2\n'
        f"    printf {shlex.quote(missing)} \"$1\" > {shlex.quote(error_path)}\n"
        "    exit 1\n"
        "fi\n"
    )


def bash_argv(script: str, function: str) -> list[str]:
    """The command line running `script` under `bash -e` with `$1` set to the entry point."""
    return ["bash", "-e", "-c", script, "bash", function]
