"""/runner/sourceId and /runner/host on the whole API (real store, real HTTP): a folder's applet ID by content, the
problems a build would refuse it for, the folder argument checked, and the capacity the scheduler fits jobs into."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from runner.config import write_setting
from runner.store.objects import create_object
from tests.api._full_env import Api, applet_doc
from tests.conftest import SAMPLE_APPS

pytestmark = pytest.mark.asyncio


def hello_copy(tmp_path: Path) -> Path:
    """A copy of sample_apps/hello_bash to edit."""
    return Path(shutil.copytree(SAMPLE_APPS / "hello_bash", tmp_path / "hello_bash"))


async def source_id(api: Api, folder: Any, caller: str = "user") -> tuple[int, dict[str, Any]]:
    status, answer = await api.post("/runner/sourceId", {"folder": str(folder) if isinstance(folder, Path)
                                                          else folder}, caller)
    return status, answer


def hold(api: Api, applet_id: str, name: str) -> None:
    """The engine holds an applet of this ID and name in the default project (as a build leaves it)."""
    create_object(api.world.db, "applet", api.world.P, name=name, state="closed", doc=applet_doc(),
                  object_id=applet_id)


async def test_the_host_is_the_capacity_jobs_are_fitted_into(api: Api) -> None:
    status, answer = await api.post("/runner/host", {}, "user")
    assert status == 200
    assert answer == {"cpus": 2, "memoryBytes": 8 << 30, "gpus": 0, "cpuIds": [0, 1], "gpuIds": [],
                      "nvidiaDriver": None, "reserve": {"cpus": 0, "memoryBytes": 1 << 30},
                      "available": {"cpus": 2, "memoryBytes": 7 << 30, "gpus": 0}, "maxParallel": 0}


async def test_the_host_says_the_reserve_and_max_parallel_set_now(api: Api) -> None:
    write_setting("max-parallel", "3", api.world.home)
    write_setting("reserve-cores", "0.5", api.world.home)
    write_setting("reserve-memory-gib", "2", api.world.home)
    status, answer = await api.post("/runner/host", {}, "user")
    assert status == 200
    assert answer["maxParallel"] == 3
    assert answer["reserve"] == {"cpus": 0.5, "memoryBytes": 2 << 30}
    assert answer["available"] == {"cpus": 1.5, "memoryBytes": 6 << 30, "gpus": 0}


async def test_a_folder_gets_the_same_id_until_its_content_changes(api: Api, tmp_path: Path) -> None:
    folder = hello_copy(tmp_path)
    status, first = await source_id(api, folder)
    assert status == 200, first
    assert first["id"].startswith("applet-") and first["name"] == "hello_bash" and first["problems"] == []
    assert (first["built"], first["latest"]) == (False, None)
    script = folder / "src" / "hello_bash.sh"
    os.utime(script, (1, 1))
    assert (await source_id(api, folder))[1]["id"] == first["id"], "a new mtime is no change"
    script.write_text(script.read_text() + "\necho changed\n")
    _, edited = await source_id(api, folder)
    assert edited["id"] != first["id"]


async def test_built_and_latest_say_which_applet_the_engine_holds_of_that_name(api: Api, tmp_path: Path) -> None:
    folder = hello_copy(tmp_path)
    _, before = await source_id(api, folder)
    hold(api, before["id"], "hello_bash")
    _, now = await source_id(api, folder)
    assert (now["built"], now["latest"]) == (True, before["id"])
    (folder / "src" / "hello_bash.sh").write_text("echo stale\n")
    _, stale = await source_id(api, folder)
    assert (stale["built"], stale["latest"]) == (False, before["id"]) and stale["id"] != before["id"]


async def test_resources_are_part_of_the_id(api: Api, tmp_path: Path) -> None:
    folder = hello_copy(tmp_path)
    (folder / "resources" / "opt").mkdir(parents=True)
    (folder / "resources" / "opt" / "data.txt").write_text("one")
    _, first = await source_id(api, folder)
    (folder / "resources" / "opt" / "data.txt").write_text("two")
    _, second = await source_id(api, folder)
    assert first["problems"] == second["problems"] == []
    assert first["id"] != second["id"]
    assert not list((api.world.home / "tmp").iterdir()), "the scratch bundle is removed"


async def test_a_link_out_of_the_folder_is_refused_as_a_build_refuses_it(api: Api, tmp_path: Path) -> None:
    folder = hello_copy(tmp_path)
    script = folder / "src" / "hello_bash.sh"
    outside = tmp_path / "outside.sh"
    shutil.move(script, outside)
    script.symlink_to(outside)
    status, answer = await source_id(api, folder)
    assert status == 200 and answer["id"] is None
    assert any("outside the applet folder" in p for p in answer["problems"]), answer["problems"]
    script.unlink()
    shutil.move(outside, script)
    (folder / "resources").mkdir()
    (folder / "resources" / "passwd").symlink_to("/etc/passwd")
    _, answer = await source_id(api, folder)
    assert answer["id"] is None
    assert answer["problems"] == ["resources/passwd: is a link to '/etc/passwd', outside the applet folder"]


async def test_an_invalid_dxapp_json_gives_its_problems(api: Api, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "dxapp.json").write_text('{"name": "broken", "runSpec": {"interpreter": "cobol"}}')
    status, answer = await source_id(api, folder)
    assert status == 200 and answer["id"] is None and answer["problems"]
    assert any(p.startswith("runSpec.interpreter") for p in answer["problems"]), answer["problems"]
    empty = tmp_path / "empty"
    empty.mkdir()
    _, answer = await source_id(api, empty)
    assert answer["problems"] == [f"no dxapp.json in {empty}"]


@pytest.mark.parametrize("folder,says", [
    (None, "absolute path"), (7, "absolute path"), ("relative/hello_bash", "absolute path"), ("", "absolute path"),
    ("/nonexistent/hello_bash", "does not exist"), ("/etc/hostname", "is not a folder")])
async def test_a_bad_folder_is_invalid_input_naming_folder(api: Api, folder: Any, says: str) -> None:
    status, answer = await source_id(api, folder)
    assert status == 422
    error = answer["error"]
    assert error["type"] == "InvalidInput" and "`folder`" in error["message"] and says in error["message"]
    assert error["details"]["field"] == "folder"


async def test_only_the_user_may_ask(api: Api, tmp_path: Path) -> None:
    status, answer = await source_id(api, hello_copy(tmp_path), caller="tree")
    assert status in (401, 403) and answer["error"]["type"] == "PermissionDenied"
    status, answer = await api.post("/runner/host", {}, "none")
    assert status == 401 and answer["error"]["type"] == "InvalidAuthentication"


async def test_an_unchanged_resources_folder_keeps_its_id_and_any_change_to_it_gives_a_new_one(
        api: Api, tmp_path: Path) -> None:
    folder = hello_copy(tmp_path)
    data = folder / "resources" / "opt" / "data.txt"
    data.parent.mkdir(parents=True)
    data.write_text("one")
    for path in (data, data.parent, data.parent.parent):
        os.utime(path, (1_000_000_000, 1_000_000_000))  # long ago: its digest is remembered
    _, first = await source_id(api, folder)
    _, again = await source_id(api, folder)
    assert again["id"] == first["id"]
    data.write_text("three")
    os.utime(data, (1_000_000_000, 1_000_000_000))
    _, changed = await source_id(api, folder)
    assert changed["id"] != first["id"], "a new size is a new listing, hashed again"


async def test_a_fifo_in_resources_is_refused_before_anything_opens_it(api: Api, tmp_path: Path) -> None:
    folder = hello_copy(tmp_path)
    (folder / "resources").mkdir()
    os.mkfifo(folder / "resources" / "pipe")
    status, answer = await source_id(api, folder)
    assert status == 200 and answer["id"] is None
    assert answer["problems"] == ["resources/pipe: is a FIFO (named pipe); a build takes only files, folders and links"]
