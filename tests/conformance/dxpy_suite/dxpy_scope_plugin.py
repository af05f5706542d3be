"""A pytest plugin for dxpy's tests: deselect the tests (or whole classes) listed in $DXPY_OUT_OF_SCOPE."""

# pytest's own --deselect matches prefixes (TestX::test_update would take test_update_stage too).

from __future__ import annotations

import os

import pytest


def _left_out(nodeid, listed):
    """The test is listed, or its class is."""
    return nodeid in listed or nodeid.rsplit("::", 1)[0] in listed


def pytest_collection_modifyitems(config, items):
    """Leave out the out-of-scope tests, reported as deselected."""
    with open(os.environ["DXPY_OUT_OF_SCOPE"]) as listing:
        listed = {line.strip() for line in listing if line.strip()}
    collected_files = {item.nodeid.split("::", 1)[0] for item in items}
    known = {item.nodeid for item in items} | {item.nodeid.rsplit("::", 1)[0] for item in items}
    # Only the files this run collected can be checked (a run may take some of them).
    unknown = {node for node in listed if node.split("::", 1)[0] in collected_files} - known
    if unknown:
        raise pytest.UsageError(f"DXPY.md leaves out tests that do not exist: {sorted(unknown)}")
    config.hook.pytest_deselected(items=[item for item in items if _left_out(item.nodeid, listed)])
    items[:] = [item for item in items if not _left_out(item.nodeid, listed)]
