"""The TUI stays on an engine that stops and starts again: the stream resumes where it was, nothing repeats."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.client.engine_process import connect, start_engine, stop_engine
from runner.tui.app import make_app
from runner.tui.widgets.job_tree import JobTree
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import run_sample, wait_terminal
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]


async def test_a_restarted_engine_s_new_jobs_appear_and_old_rows_stay_single(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    home: Path = tmp_path_factory.mktemp("tuirs")
    start_engine(home)
    try:
        engine = connect(home, start=False)
        before = run_sample(engine, "hello_bash", {"who": "before"})
        wait_terminal(engine, before)
        app = make_app(engine, paths=[SAMPLE_APPS], locate=lambda: connect(home, start=False))
        async with app.run_test(size=(120, 36)) as pilot:
            tree = app.screen.query_one(JobTree)
            await until(pilot, "the first run done", lambda: before in tree.nodes
                        and "done" in tree.nodes[before].label.plain)
            stop_engine(home)
            start_engine(home)
            again = connect(home, start=False)
            after = run_sample(again, "hello_bash", {"who": "after"})
            await until(pilot, "the run after the restart done", lambda: after in tree.nodes
                        and "done" in tree.nodes[after].label.plain)
            assert app.feed.error is None
            assert [job.id for _, job in app.model.tree_order()] == [after, before]
            assert len(tree.root.children) == 2
    finally:
        stop_engine(home)
