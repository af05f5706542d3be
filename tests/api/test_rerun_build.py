"""`POST /runner/build`'s `changedFiles` over real HTTP on a real store: checked, and carried by the build's
events (applet.build_started, then applet.failed here: this world has no Docker); the new events' JSON form;
an applet's `sourceFolder`, shown to the user and never to a job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.spec import events as ev
from runner.spec.ids import new_id
from runner.store.objects import create_object
from tests.api._full_env import Api, applet_doc


def _broken(tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    (folder / "src").mkdir(parents=True)
    (folder / "dxapp.json").write_text(json.dumps({"name": "broken", "runSpec": {"interpreter": "bash"}}))
    return folder


async def _build_events(api: Api) -> list[dict[str, Any]]:
    status, lines = await api.send("GET", "/runner/events?follow=false&kinds=applet.*", "user")
    assert status == 200, lines
    return list(lines)


@pytest.mark.asyncio
@pytest.mark.parametrize("changed,field", [
    ("src/a.sh", "changedFiles"), ({"a": 1}, "changedFiles"), (["x"] * 10_001, "changedFiles"),
    (["ok.txt", 3], "changedFiles[1]"), ([""], "changedFiles[0]"), (["/etc/passwd"], "changedFiles[0]"),
    (["../outside"], "changedFiles[0]"), (["src/../../outside"], "changedFiles[0]"),
    (["."], "changedFiles[0]"),
    (["a\0b"], "changedFiles[0]"), (["a" * 4097], "changedFiles[0]"),
])
async def test_bad_changed_files_are_refused_naming_the_key_and_nothing_is_built(
        api: Api, tmp_path: Path, changed: Any, field: str) -> None:
    body = {"folder": str(_broken(tmp_path)), "changedFiles": changed}
    status, answer = await api.post("/runner/build", body, "user")
    assert status == 422, answer
    error = answer["error"]
    assert error["type"] == "InvalidInput" and error["details"]["field"] == field
    assert "changedFiles" in error["message"] and "relative path" in error["message"]
    assert await _build_events(api) == []


@pytest.mark.asyncio
async def test_the_build_events_carry_the_changed_files_normalized(api: Api, tmp_path: Path) -> None:
    folder = _broken(tmp_path)
    changed = ["src/a.sh", "./dxapp.json", "src//b.sh", "src/a.sh", "resources/x/../y"]
    status, answer = await api.post("/runner/build", {"folder": str(folder), "changedFiles": changed}, "user")
    assert status == 422 and "runSpec" in answer["error"]["message"], answer
    started, failed = await _build_events(api)
    normal = ["src/a.sh", "dxapp.json", "src/b.sh", "resources/y"]
    assert (started["kind"], started["folder"]) == ("applet.build_started", str(folder))
    assert started["changed_files"] == normal
    assert (failed["kind"], failed["folder"], failed["changed_files"]) == ("applet.failed", str(folder),
                                                                           normal)
    assert started["seq"] < failed["seq"]


@pytest.mark.asyncio
async def test_a_build_without_changed_files_says_none_changed(api: Api, tmp_path: Path) -> None:
    status, _ = await api.post("/runner/build", {"folder": str(_broken(tmp_path))}, "user")
    assert status == 422
    assert [(e["kind"], e["changed_files"]) for e in await _build_events(api)] == [
        ("applet.build_started", []), ("applet.failed", [])]


@pytest.mark.parametrize("event", [
    ev.AppletBuildStarted(seq=1, time=2, folder="/src/a", changed_files=["src/a.sh"]),
    ev.AppletBuilt(seq=3, time=4, applet="applet-x", name="a", project="project-p", folder="/src/a",
                   changed_files=["dxapp.json"]),
    ev.AppletFailed(seq=5, time=6, folder="/src/a", message="bad", changed_files=["src/a.sh", "b"]),
    ev.JobCreated(seq=7, time=8, job="job-b", root="job-b", parent=None, name="a:square",
                  executable="applet-x", function="square", instance_type="mem1_ssd1_v2_x2", resources={},
                  rank=0, created=8,
                  rerun_of="job-a"),
], ids=lambda e: e.kind)
def test_the_new_fields_survive_the_json_round_trip(event: ev.Event) -> None:
    assert ev.event_from_json(json.loads(json.dumps(event.to_json()))) == event


def test_events_written_before_the_new_fields_still_read() -> None:
    built = ev.event_from_json({"kind": "applet.built", "seq": 1, "time": 2, "applet": "applet-x",
                                "name": "a", "project": "project-p"})
    assert isinstance(built, ev.AppletBuilt) and built.changed_files == [] and built.folder == ""
    created = ev.event_from_json({"kind": "job.created", "seq": 1, "time": 2, "job": "job-a", "root": "job-a",
                                  "parent": None, "name": "n", "executable": "applet-x", "function": "main",
                                  "instance_type": "t", "resources": {}, "rank": 0, "created": 2})
    assert isinstance(created, ev.JobCreated) and created.rerun_of is None


@pytest.mark.asyncio
async def test_an_applets_source_folder_is_shown_to_the_user_only(api: Api) -> None:
    doc = applet_doc()
    doc["_runner"] = {**doc["_runner"], "sourceFolder": "/home/me/applets/scatter"}
    applet = create_object(api.world.db, "applet", api.world.P, name="scatter", state="closed", doc=doc,
                           object_id=new_id("applet"))["id"]
    status, answer = await api.post(f"/{applet}/describe", {"sourceFolder": True}, "user")
    assert status == 200 and answer["sourceFolder"] == "/home/me/applets/scatter", answer
    status, answer = await api.post(f"/{applet}/describe", {"fields": {"sourceFolder": True}}, "user")
    assert answer == {"id": applet, "sourceFolder": "/home/me/applets/scatter"}
    status, answer = await api.post(f"/{applet}/describe", {}, "user")
    assert status == 200 and "sourceFolder" not in answer
    status, answer = await api.post(f"/{applet}/describe", {"sourceFolder": True}, "tree")
    assert status == 200 and "sourceFolder" not in answer, answer
