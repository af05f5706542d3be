"""The entry points of an applet's code, read as its interpreter finds them: what a job may be started at.

bash: a function defined in the script (`name() {`, `function name {`), which the launcher calls as `$1`;
python3: a function decorated with `@dxpy.entry_point("name")`, which `dxpy.run()` dispatches to. The code
is read, never run: a function defined by a file the code sources or imports is not seen. `main` is always
an entry point, as the platform calls it for every run.
"""

from __future__ import annotations

import ast
import re

MAIN = "main"
# As the launcher accepts them (a bash function name it may call).
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:+-]*$")
_BASH_FUNCTION = re.compile(r"^\s*(?:function\s+([A-Za-z_][A-Za-z0-9_.:+-]*)\s*(?:\(\s*\))?|"
                            r"([A-Za-z_][A-Za-z0-9_.:+-]*)\s*\(\s*\))\s*(?:\{|$)", re.MULTILINE)
_PYTHON_DECORATOR = re.compile(r"""^\s*@(?:dxpy\.)?entry_point\(\s*(?:name\s*=\s*)?['"]([^'"]+)['"]""",
                               re.MULTILINE)


def entry_points(interpreter: str, code: str) -> tuple[str, ...]:
    """The entry points `code` defines for `interpreter`, `main` first, then in the order they appear."""
    if interpreter.startswith("python"):
        found = _python(code)
    else:
        found = [a or b for a, b in _BASH_FUNCTION.findall(code)]
    return tuple(dict.fromkeys([MAIN, *(name for name in found if NAME.match(name))]))


def _python(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        # Code this Python cannot parse may still run in the job's: read the decorators line by line.
        return _PYTHON_DECORATOR.findall(code)
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.extend(name for name in map(_decorated_name, node.decorator_list) if name is not None)
    return names


def _decorated_name(decorator: ast.expr) -> str | None:
    """The name in `@dxpy.entry_point("name")` (or `@entry_point(name="name")`), else None."""
    if not isinstance(decorator, ast.Call):
        return None
    func = decorator.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called != "entry_point":
        return None
    given = [*decorator.args[:1], *(k.value for k in decorator.keywords if k.arg == "name")]
    if given and isinstance(given[0], ast.Constant) and isinstance(given[0].value, str):
        return given[0].value
    return None


def unknown_entry_point(name: str, known: tuple[str, ...]) -> str:
    """The message for a run asking for an entry point the code does not define."""
    return (f"entryPoint: the applet has no entry point {name!r}: its code defines {', '.join(known)}"
            " (an entry point is a bash function, or a python3 function decorated with @dxpy.entry_point)")
