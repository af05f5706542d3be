"""/runner/logs as a filter of the event stream: children created while following, trees past retention."""

from __future__ import annotations

import json

import pytest

from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.events import prune
from runner.store.jobs import get_job, insert_job, transition
from tests.api._full_env import Api

pytestmark = pytest.mark.asyncio


async def test_a_tree_follower_picks_up_a_child_created_meanwhile_and_ends_with_the_tree(api: Api) -> None:
    w = api.world
    engine, db = w.services.engine, w.db
    transition(db, w.job_a1, JobState.DONE)
    async with api.client.get(f"/runner/logs?job={w.job_a}", headers=api.headers("user")) as response:
        assert response.status == 200
        child = new_id("job")
        insert_job(db, {**{k: v for k, v in get_job(db, w.job_a1).items() if k != "stateTransitions"},
                        "id": child, "name": "late child"})
        engine.say(child, "hello from the late child")
        engine.say(w.job_b, "another tree")
        for state in (JobState.RUNNABLE, JobState.RUNNING, JobState.DONE):
            transition(db, child, state)
        transition(db, w.job_a, JobState.DONE)
        records = [json.loads(line) for line in (await response.text()).splitlines()]
    logs = [(r["job"], r["name"], r["line"]) for r in records if r["kind"] == "log"]
    assert logs == [(child, "late child", "hello from the late child")]
    states = [(r["job"], r["state"]) for r in records if r["kind"] == "state"]
    assert states[-4:] == [(child, "runnable"), (child, "running"), (child, "done"), (w.job_a, "done")]
    assert records[-1] == {"kind": "end", "job": w.job_a, "state": "done"}


async def test_a_tree_whose_events_aged_out_is_read_from_its_job_logs(api: Api) -> None:
    w = api.world
    w.services.engine.say(w.job_a_done, "logged long ago")
    prune(w.db, max_count=1, max_age_ms=-1)  # every event is gone, as after the retention age
    status, records = await api.send("GET", f"/runner/logs?job={w.job_a}&follow=0", "user")
    assert status == 200
    logs = [(r["job"], r["line"]) for r in records if r["kind"] == "log"]
    assert logs == [(w.job_a_done, "logged long ago")]
    assert records[-1] == {"kind": "end", "job": w.job_a, "state": "running"}
