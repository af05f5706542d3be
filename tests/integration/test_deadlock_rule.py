"""The scheduler's deadlock rule in a real tree: a 2-core parent on a 2-core host blocks on three 1-core children
(dxpy's DXJob.wait_on_done in a real container); they run inside its reservation, two at a time, the third's
describe saying why it waits, and the tree ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.client.api import EngineClient
from tests.integration.helpers import run_test_applet, runner_cli, tree_jobs, wait_terminal

pytestmark = pytest.mark.docker
BACKENDS = ("docker", "local")
# A bound on waiting (a deadlocked tree never ends), not an assertion on speed.
TREE_WAIT_S = 900


def test_a_parent_blocking_on_its_children_lends_them_its_cores(engine: EngineClient, engine_home: Path) -> None:
    host = engine.call("/runner/host", {})
    root_id = run_test_applet(engine, "waiting_parent", {})
    root = wait_terminal(engine, root_id, TREE_WAIT_S)
    assert root["state"] == "done", (root.get("failureReason"), root.get("failureMessage"))
    assert root["output"]["squares"] == [4, 9, 16]
    children = tree_jobs(engine, root_id)[1:]
    assert [child["state"] for child in children] == ["done", "done", "done"]
    for child in children:
        assert child["startedRunning"] < root["stoppedRunning"], "the child ran while its parent blocked on it"
        log = runner_cli(engine_home, "watch", child["id"]).stdout
        if host["available"]["cpus"] <= 2:  # the parent holds the whole host: only lending lets the child run
            assert f"inside the reservation of its ancestor {root_id}" in log, log
    if host["available"]["cpus"] <= 2:  # two children fill the parent's 2 cores: the third waits, and says why
        logs = [runner_cli(engine_home, "watch", child["id"]).stdout for child in children]
        assert "needs 1 core; 0 free" in root["output"]["seen"], (root["output"], logs)
