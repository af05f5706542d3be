"""Rows of jobs created in one batch: a subjob stamped no later than its parent still shows under it."""

from __future__ import annotations

import pytest

from runner.tui.app import make_app
from runner.tui.widgets.job_tree import JobTree
from tests.tui.conftest import until
from tests.tui.events_fixture import T0, created

pytestmark = pytest.mark.asyncio
ROOT = "job-R00000000000000000000001"
FIRST, SECOND = "job-S00000000000000000000001", "job-S00000000000000000000002"
GRANDCHILD = "job-G00000000000000000000001"


async def test_subjobs_created_in_their_parents_millisecond_show_under_it_in_creation_order() -> None:
    # Clocks give one millisecond to many jobs; these subjobs even carry an earlier one than their parent.
    events = [
        created(1, ROOT, ROOT, None, "pipeline", at=T0 + 5),
        created(2, FIRST, ROOT, ROOT, "pipeline:split", "split", at=T0 + 5),
        created(3, GRANDCHILD, ROOT, FIRST, "pipeline:leaf", "leaf", at=T0),
        created(4, SECOND, ROOT, ROOT, "pipeline:merge", "merge", at=T0 + 1),
    ]
    app = make_app(None, lambda: T0 + 10, events=events)
    async with app.run_test(size=(120, 30)) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, "every job's row", lambda: len(tree.nodes) == 4)
        root = tree.nodes[ROOT]
        assert [child.data for child in root.children] == [FIRST, SECOND]
        assert [child.data for child in tree.nodes[FIRST].children] == [GRANDCHILD]
