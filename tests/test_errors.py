"""The exception tree drawn in runner/errors.py's docstring is the one the code defines."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import runner
from runner import errors
from runner.errors import RunnerError

# The launcher runs inside job containers on the standard library alone, so it cannot derive from RunnerError.
# The client's small HTTP transport fails with OSErrors only, so a broken answer reads as a broken connection.
OUTSIDE_BY_DESIGN = {"runner.launcher._hold._Stopped", "runner.launcher._main.LaunchError",
                     "runner.launcher.bundles.BundleError", "runner.client._http.ProtocolError"}
# runner/config.py belongs to another change in flight; its SettingError joins the tree with it.
OUTSIDE_FOR_NOW: set[str] = set()
DRAWN_LINE = re.compile(r"^(?P<indent>[ │├└─]*?)(?:[├└]── )?(?P<name>[A-Z][A-Za-z]+)\s")


def _exceptions_defined_in_runner() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module in pkgutil.walk_packages(runner.__path__, "runner."):
        if module.name.endswith("__main__"):
            continue  # running it is what importing it does
        for _, value in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.name:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def _drawn_parents() -> dict[str, str | None]:
    """Each class drawn in the docstring, with the class drawn above it (None for the root)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = DRAWN_LINE.match(line.removeprefix("    "))
        if not match or not line.startswith("    "):
            continue
        depth = len(match.group("indent")) // 4 + (1 if "──" in line else 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group("name")] = stack[-1][1] if stack else None
        stack.append((depth, match.group("name")))
    return parents


def test_every_runner_error_is_drawn_under_its_own_base() -> None:
    drawn = _drawn_parents()
    defined = {cls.__name__: cls for cls in _exceptions_defined_in_runner().values()
               if issubclass(cls, RunnerError)}
    assert sorted(defined) == sorted(drawn)
    for name, cls in defined.items():
        parent = drawn[name]
        assert (parent is None) == (cls is RunnerError), name
        assert parent is None or parent in {base.__name__ for base in cls.__bases__}, (name, parent)


def test_every_other_exception_is_in_the_tree_but_the_launchers() -> None:
    outside = {name for name, cls in _exceptions_defined_in_runner().items()
               if not issubclass(cls, RunnerError)}
    assert outside == OUTSIDE_BY_DESIGN | OUTSIDE_FOR_NOW

