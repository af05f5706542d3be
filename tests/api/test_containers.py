"""Projects and containers through the real HTTP server: describe, folders, clone, move, rename, remove."""

from __future__ import annotations

import hashlib

import pytest

from runner.store.files import blob_path
from tests.api._data_env import Env


@pytest.mark.asyncio
async def test_describe_a_project(env: Env) -> None:
    default = await env.ok(f"/{env.project}/describe")
    assert (default["id"], default["class"], default["name"], default["region"], default["billTo"],
            default["level"], default["dataUsage"]) == (env.project, "project", "local", "aws:us-east-1", "user-local",
                                                        "ADMINISTER", 0)
    assert "folders" not in default and "fileUploadParameters" not in default
    await env.ok(f"/{env.project}/newFolder", {"folder": "/a/b", "parents": True})
    assert (await env.ok(f"/{env.project}/describe", {"folders": True}))["folders"] == ["/", "/a", "/a/b"]
    asked = await env.ok(f"/{env.workspace}/describe", {"fields": {"fileUploadParameters": True}})
    assert asked == {"id": env.workspace, "fileUploadParameters": {
        "minimumPartSize": 5242880, "maximumPartSize": 5368709120, "maximumNumParts": 10000,
        "maximumFileSize": 5497558138880, "emptyLastPartAllowed": True}}
    assert await env.fails("/project-000000000000000000000000/describe") == (404, "ResourceNotFound")


@pytest.mark.asyncio
async def test_new_project(env: Env) -> None:
    created = await env.ok("/project/new", {"name": "fresh"})
    assert (await env.ok(f"/{created['id']}/describe"))["name"] == "fresh"
    assert await env.fails("/project/new", {}) == (422, "InvalidInput")
    assert await env.fails("/project/new", {"name": "mine"}, token=env.job_token) == (401, "PermissionDenied")


@pytest.mark.asyncio
async def test_new_folder_and_list_folder(env: Env) -> None:
    assert await env.fails(f"/{env.project}/newFolder", {"folder": "/x/y"}) == (404, "ResourceNotFound")
    await env.ok(f"/{env.project}/newFolder", {"folder": "/x/y", "parents": True})
    await env.ok(f"/{env.project}/newFolder", {"folder": "/x/z"})
    shown = await env.upload([b"1"], name="shown", folder="/x")
    hidden = await env.upload([b"2"], name="hidden", folder="/x", hidden=True)
    listed = await env.ok(f"/{env.project}/listFolder", {"folder": "/x"})
    assert listed == {"objects": [{"id": shown}], "folders": ["/x/y", "/x/z"]}
    everything = await env.ok(f"/{env.project}/listFolder", {"folder": "/x", "includeHidden": True,
                                                             "describe": {"fields": {"name": True}}})
    assert everything["objects"] == [{"id": shown, "describe": {"id": shown, "name": "shown"}},
                                     {"id": hidden, "describe": {"id": hidden, "name": "hidden"}}]
    assert await env.ok(f"/{env.project}/listFolder", {"folder": "/x", "only": "folders"}) == {
        "folders": ["/x/y", "/x/z"]}
    assert await env.fails(f"/{env.project}/listFolder", {"folder": "/nope"}) == (404, "ResourceNotFound")


@pytest.mark.asyncio
async def test_clone_keeps_the_id_in_both_containers(env: Env) -> None:
    file_id = await env.upload([b"shared"], name="s.txt", folder="/src", tags=["orig"])
    open_id = await env.upload([b"o"], close=False)
    target = env.other_project
    assert await env.fails(f"/{env.project}/clone", {"objects": [open_id], "project": target}) == (
        422, "InvalidState")
    answer = await env.ok(f"/{env.project}/clone", {"objects": [file_id], "project": target,
                                                    "destination": "/copies", "parents": True})
    assert answer == {"id": env.project, "project": target, "exists": []}
    again = await env.ok(f"/{env.project}/clone", {"objects": [file_id], "project": target, "destination": "/"})
    assert again["exists"] == [file_id]
    there = await env.ok(f"/{file_id}/describe", {"project": target})
    assert (there["project"], there["folder"], there["name"], there["tags"]) == (target, "/copies", "s.txt", ["orig"])
    await env.ok(f"/{file_id}/addTags", {"project": target, "tags": ["copy"]})
    assert (await env.ok(f"/{file_id}/describe", {"project": env.project}))["tags"] == ["orig"]
    assert (await env.ok(f"/{target}/listFolder", {"folder": "/copies"}))["objects"] == [{"id": file_id}]
    await env.ok(f"/{env.project}/removeObjects", {"objects": [file_id]})
    assert (await env.ok(f"/{file_id}/describe"))["project"] == target
    assert await env.content(file_id) == (200, b"shared")
    assert blob_path(env.home, hashlib.sha256(b"shared").hexdigest()).exists()


@pytest.mark.asyncio
async def test_clone_folders(env: Env) -> None:
    deep = await env.upload([b"d"], folder="/run/out/deep")
    top = await env.upload([b"t"], folder="/run")
    await env.ok(f"/{env.project}/clone", {"folders": ["/run"], "project": env.other_project,
                                           "destination": "/"})
    assert (await env.ok(f"/{env.other_project}/describe", {"folders": True}))["folders"] == [
        "/", "/run", "/run/out", "/run/out/deep"]
    assert (await env.ok(f"/{deep}/describe", {"project": env.other_project}))["folder"] == "/run/out/deep"
    assert (await env.ok(f"/{top}/describe", {"project": env.other_project}))["folder"] == "/run"


@pytest.mark.asyncio
async def test_move_and_rename(env: Env) -> None:
    file_id = await env.upload([b"m"], folder="/a/inner")
    loose = await env.upload([b"l"], folder="/")
    await env.ok(f"/{env.project}/newFolder", {"folder": "/b"})
    await env.ok(f"/{env.project}/move", {"objects": [loose], "folders": ["/a/inner"], "destination": "/b"})
    assert (await env.ok(f"/{file_id}/describe"))["folder"] == "/b/inner"
    assert (await env.ok(f"/{loose}/describe"))["folder"] == "/b"
    assert await env.fails(f"/{env.project}/move", {"folders": ["/b"], "destination": "/b/inner"}) == (
        422, "InvalidState")
    assert await env.fails(f"/{env.project}/move", {"objects": [loose], "destination": "/zzz"}) == (
        404, "ResourceNotFound")
    await env.ok(f"/{env.project}/renameFolder", {"folder": "/b", "name": "c"})
    assert (await env.ok(f"/{file_id}/describe"))["folder"] == "/c/inner"
    assert (await env.ok(f"/{env.project}/describe", {"folders": True}))["folders"] == ["/", "/a", "/c", "/c/inner"]
    assert await env.fails(f"/{env.project}/renameFolder", {"folder": "/c", "name": "a"}) == (422, "InvalidState")
    assert await env.fails(f"/{env.project}/renameFolder", {"folder": "/c", "name": "x/y"}) == (422, "InvalidInput")
    assert await env.fails(f"/{env.project}/renameFolder", {"folder": "/", "name": "r"}) == (422, "InvalidInput")


@pytest.mark.asyncio
async def test_remove_folder_and_objects(env: Env) -> None:
    inside = await env.upload([b"only here"], folder="/gone/sub")
    assert await env.fails(f"/{env.project}/removeFolder", {"folder": "/gone"}) == (422, "InvalidState")
    await env.ok(f"/{env.project}/removeFolder", {"folder": "/gone", "recurse": True})
    assert await env.fails(f"/{inside}/describe") == (404, "ResourceNotFound")
    assert not blob_path(env.home, hashlib.sha256(b"only here").hexdigest()).exists()
    assert (await env.ok(f"/{env.project}/describe", {"folders": True}))["folders"] == ["/"]
    assert await env.fails(f"/{env.project}/removeFolder", {"folder": "/"}) == (422, "InvalidInput")
    await env.ok(f"/{env.project}/newFolder", {"folder": "/empty"})
    await env.ok(f"/{env.project}/removeFolder", {"folder": "/empty"})
    file_id = await env.upload([b"r"])
    missing = "file-000000000000000000000000"
    assert await env.fails(f"/{env.project}/removeObjects", {"objects": [file_id, missing]}) == (
        404, "ResourceNotFound")
    await env.ok(f"/{env.project}/removeObjects", {"objects": [file_id, missing], "force": True})
    assert await env.fails(f"/{file_id}/describe") == (404, "ResourceNotFound")
