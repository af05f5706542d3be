"""A pytest plugin for dxpy's tests: deselect exactly the node IDs listed in $DXPY_OUT_OF_SCOPE (one a line)."""

# pytest's own --deselect matches prefixes (TestX::test_update would take test_update_stage too).

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config, items):
    """Leave out the out-of-scope tests, reported as deselected."""
    with open(os.environ["DXPY_OUT_OF_SCOPE"]) as listing:
        left_out = {line.strip() for line in listing if line.strip()}
    unknown = left_out - {item.nodeid for item in items}
    if unknown:
        raise pytest.UsageError(f"DXPY.md leaves out tests that do not exist: {sorted(unknown)}")
    kept = [item for item in items if item.nodeid not in left_out]
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid in left_out])
    items[:] = kept
