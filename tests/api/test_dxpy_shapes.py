"""The routes and shapes dxpy's own tests use, through the real HTTP server on a real store (issue 13)."""

from __future__ import annotations

import pytest

from runner.store.files import blob_path
from runner.store.objects import get_object
from tests.api._data_env import Env


@pytest.mark.asyncio
async def test_a_new_project_describes_the_fields_dxpy_reads(env: Env) -> None:
    project = (await env.ok("/project/new", {"name": "p", "protected": True, "downloadRestricted": True}))["id"]
    described = await env.ok(f"/{project}/describe")
    assert {k: described[k] for k in ("protected", "restricted", "downloadRestricted", "previewViewerRestricted",
                                      "containsPHI", "databaseUIViewOnly", "externalUploadRestricted",
                                      "databaseResultsRestricted", "allowedExecutables", "summary")} == {
        "protected": True, "restricted": False, "downloadRestricted": True, "previewViewerRestricted": True,
        "containsPHI": False, "databaseUIViewOnly": False, "externalUploadRestricted": False,
        "databaseResultsRestricted": None, "allowedExecutables": None, "summary": ""}
    assert "permissions" not in described
    assert await env.ok(f"/{project}/describe", {"fields": {"permissions": True}}) == {
        "id": project, "permissions": {"user-local": "ADMINISTER"}}


@pytest.mark.asyncio
async def test_update_a_project(env: Env) -> None:
    project = env.project
    await env.ok(f"/{project}/update", {"name": "renamed", "protected": True, "restricted": True,
                                        "downloadRestricted": True, "description": "new description",
                                        "allowedExecutables": ["applet-abcdefghijklmnopqrstuzwx"],
                                        "databaseResultsRestricted": 10})
    described = await env.ok(f"/{project}/describe")
    assert (described["name"], described["protected"], described["restricted"], described["downloadRestricted"],
            described["previewViewerRestricted"], described["description"], described["allowedExecutables"],
            described["databaseResultsRestricted"]) == (
        "renamed", True, True, True, True, "new description", ["applet-abcdefghijklmnopqrstuzwx"], 10)
    status, answer = await env.call(f"/{project}/update", {"downloadRestricted": False})
    assert (status, answer["error"]["type"]) == (422, "InvalidInput")
    assert "previewViewerRestricted" in answer["error"]["message"]
    await env.ok(f"/{project}/update", {"previewViewerRestricted": False})
    await env.ok(f"/{project}/update", {"restricted": False, "downloadRestricted": False,
                                        "allowedExecutables": None, "databaseResultsRestricted": None})
    described = await env.ok(f"/{project}/describe")
    assert (described["restricted"], described["downloadRestricted"], described["allowedExecutables"],
            described["databaseResultsRestricted"], described["name"]) == (False, False, None, None, "renamed")
    status, answer = await env.call(f"/{project}/update", {"databaseResultsRestricted": "ten"})
    assert status == 422 and "databaseResultsRestricted" in answer["error"]["message"]
    assert await env.fails(f"/{project}/update", {"name": ""}) == (422, "InvalidInput")
    await env.ok(f"/{project}/update", {"containsPHI": True})
    status, answer = await env.call(f"/{project}/update", {"containsPHI": False})
    assert status == 422 and "containsPHI cannot be unset" in answer["error"]["message"]
    assert (await env.ok(f"/{project}/describe"))["containsPHI"] is True
    assert await env.fails(f"/{project}/update", {"summary": "mine"}, token=env.job_token) == (
        401, "PermissionDenied")
    assert await env.fails("/project-000000000000000000000000/update", {"name": "x"}) == (404, "ResourceNotFound")


@pytest.mark.asyncio
async def test_destroy_a_project_keeps_what_another_project_holds(env: Env) -> None:
    doomed = (await env.ok("/project/new", {"name": "doomed"}))["id"]
    alone = await env.upload([b"only here"], project=doomed, folder="/a")
    shared = await env.upload([b"shared"], project=doomed)
    await env.ok(f"/{doomed}/clone", {"objects": [shared], "project": env.other_project})
    only_blob = get_object(env.db, alone)["blob"]
    assert await env.ok(f"/{doomed}/destroy", {"terminateJobs": True}) == {}
    assert await env.fails(f"/{doomed}/describe") == (404, "ResourceNotFound")
    assert await env.fails(f"/{alone}/describe") == (404, "ResourceNotFound")
    assert not blob_path(env.home, only_blob).exists()
    assert (await env.ok(f"/{shared}/listProjects")) == {env.other_project: "ADMINISTER"}
    assert await env.content(shared) == (200, b"shared")
    assert await env.fails(f"/{doomed}/destroy") == (404, "ResourceNotFound")


@pytest.mark.asyncio
async def test_the_default_project_cannot_be_destroyed(env: Env) -> None:
    status, answer = await env.call(f"/{env.project}/destroy", {"terminateJobs": True})
    assert (status, answer["error"]["type"]) == (422, "InvalidState")
    assert "default project" in answer["error"]["message"]
    assert (await env.ok(f"/{env.project}/describe"))["id"] == env.project


@pytest.mark.asyncio
async def test_find_projects(env: Env) -> None:
    created = (await env.ok(f"/{env.other_project}/describe"))["created"]
    found = await env.ok("/system/findProjects")
    assert [r["id"] for r in found["results"]] == [env.project, env.other_project]
    assert found["results"][0] == {"id": env.project, "level": "ADMINISTER", "permissionSources": ["user-local"],
                                   "public": False}
    assert found["next"] is None
    described = await env.ok("/system/findProjects", {"level": "VIEW", "describe": True, "name": "someone else's"})
    assert [(r["id"], r["describe"]["name"]) for r in described["results"]] == [(env.other_project,
                                                                                  "someone else's")]
    assert [r["id"] for r in (await env.ok("/system/findProjects", {"name": {"glob": "loc*"}}))["results"]] == [
        env.project]
    first = await env.ok("/system/findProjects", {"limit": 1})
    assert (len(first["results"]), first["next"]) == (1, env.other_project)
    rest = await env.ok("/system/findProjects", {"limit": 1, "starting": first["next"]})
    assert [r["id"] for r in rest["results"]] == [env.other_project]
    assert (await env.ok("/system/findProjects", {"created": {"before": created - 100_000}}))["results"] == []
    assert len((await env.ok("/system/findProjects", {"billTo": "user-local"}))["results"]) == 2
    assert (await env.ok("/system/findProjects", {"billTo": "org-else"}))["results"] == []
    # A job sees the projects it may read, at its level there: VIEW in its project context.
    as_job = await env.ok("/system/findProjects", token=env.job_token)
    assert [(r["id"], r["level"]) for r in as_job["results"]] == [(env.project, "VIEW")]
    assert await env.fails("/system/findProjects", {"level": "OWNER"}) == (422, "InvalidInput")


@pytest.mark.asyncio
async def test_whoami_and_greet(env: Env) -> None:
    assert await env.ok("/system/whoami") == {"id": "user-local"}
    assert await env.ok("/system/whoami", token=env.job_token) == {"id": "user-local"}
    async with env.client.post("/system/greet", json={"client": "dxclient", "version": "v0.417.1"}) as response:
        assert response.status == 200 and (await response.json())["messages"] == []
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    async with env.client.post("/system/whoami", json={}) as response:
        assert response.status == 401 and response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.asyncio
async def test_rename_folder_to_a_new_path_as_dx_mv_sends_it(env: Env) -> None:
    await env.ok(f"/{env.project}/newFolder", {"folder": "/a/inner", "parents": True})
    await env.ok(f"/{env.project}/newFolder", {"folder": "/b"})
    await env.ok(f"/{env.project}/renameFolder", {"folder": "/a", "newpath": "/a2"})
    await env.ok(f"/{env.project}/renameFolder", {"folder": "/a2/inner", "newpath": "/b/moved"})
    listed = await env.ok(f"/{env.project}/listFolder", {"folder": "/", "only": "folders"})
    assert sorted(listed["folders"]) == ["/a2", "/b"]
    assert (await env.ok(f"/{env.project}/listFolder", {"folder": "/b"}))["folders"] == ["/b/moved"]
    assert await env.fails(f"/{env.project}/renameFolder", {"folder": "/", "newpath": "/c"}) == (422, "InvalidInput")


@pytest.mark.asyncio
async def test_folder_errors_in_the_platform_wording(env: Env) -> None:
    await env.upload([b"c"], folder="/baz")
    body = {"folders": ["/baz"], "project": env.other_project, "destination": "/"}
    await env.ok(f"/{env.project}/clone", body)
    status, answer = await env.call(f"/{env.project}/clone", body)
    assert (status, answer["error"]["type"]) == (422, "InvalidState")
    assert answer["error"]["message"].startswith("If cloned, a folder would conflict with an existing folder: /baz")
    status, answer = await env.call(f"/{env.project}/listFolder", {"folder": "/nope"})
    assert (status, answer["error"]["type"]) == (404, "ResourceNotFound")
    assert answer["error"]["message"] == f'Folder "/nope" does not exist in project "{env.project}"'


@pytest.mark.asyncio
async def test_project_tags_and_properties(env: Env) -> None:
    await env.ok(f"/{env.project}/addTags", {"tags": ["Ψ", "b", "Ψ"]})
    await env.ok(f"/{env.project}/removeTags", {"tags": ["b", "never"]})
    await env.ok(f"/{env.project}/setProperties", {"properties": {"Ψ": "world", "gone": "x"}})
    await env.ok(f"/{env.project}/setProperties", {"properties": {"gone": None}})
    described = await env.ok(f"/{env.project}/describe")
    assert (described["tags"], described["properties"]) == (["Ψ"], {"Ψ": "world"})
    found = await env.ok("/system/findProjects", {"tags": "Ψ", "properties": {"Ψ": "world"}})
    assert [r["id"] for r in found["results"]] == [env.project]
    await env.ok(f"/{env.project}/update", {"containsPHI": True})
    with_phi = await env.ok("/system/findProjects", {"containsPHI": True})
    without = await env.ok("/system/findProjects", {"containsPHI": False})
    assert [r["id"] for r in with_phi["results"]] == [env.project]
    assert env.project not in [r["id"] for r in without["results"]] and without["results"]
    assert await env.fails("/system/findProjects", {"containsPHI": "yes"}) == (422, "InvalidInput")
    assert await env.fails(f"/{env.project}/setProperties", {}) == (422, "InvalidInput")
    assert await env.fails(f"/{env.project}/addTags", {"tags": "Ψ"}) == (422, "InvalidInput")


@pytest.mark.asyncio
async def test_global_workflows_are_none(env: Env) -> None:
    assert await env.ok("/system/findGlobalWorkflows", {"name": "anything"}) == {"results": [], "next": None}
    assert await env.ok("/system/findGlobalWorkflows", token=env.job_token) == {"results": [], "next": None}


@pytest.mark.asyncio
async def test_the_user_describes_itself_billing_to_itself(env: Env) -> None:
    described = await env.ok("/user-local/describe")
    assert (described["id"], described["class"], described["billTo"]) == ("user-local", "user", "user-local")
    assert described["permittedRegions"] == ["aws:us-east-1"]  # where dx get may put what it unbuilds
    assert await env.ok("/user-local/describe", token=env.job_token) == described
    assert await env.fails("/user-else/describe") == (404, "ResourceNotFound")


@pytest.mark.asyncio
async def test_list_projects_of_a_cloned_record(env: Env) -> None:
    record = (await env.ok("/record/new", {"project": env.project, "close": True}))["id"]
    await env.ok(f"/{env.project}/clone", {"objects": [record], "project": env.other_project})
    assert await env.ok(f"/{record}/listProjects") == {env.project: "ADMINISTER", env.other_project: "ADMINISTER"}
    assert await env.ok(f"/{record}/listProjects", token=env.job_token) == {env.project: "VIEW"}
    assert await env.fails("/record-000000000000000000000000/listProjects") == (404, "ResourceNotFound")


@pytest.mark.asyncio
async def test_set_details_takes_the_whole_body(env: Env) -> None:
    record = (await env.ok("/record/new", {"project": env.project}))["id"]
    await env.ok(f"/{record}/setDetails", {"foo": "bar"})
    assert await env.ok(f"/{record}/getDetails") == {"foo": "bar"}
    links = [{"$dnanexus_link": record}, {"$dnanexus_link": record}]
    await env.ok(f"/{record}/setDetails", links)
    assert await env.ok(f"/{record}/getDetails") == links
    assert (await env.ok(f"/{record}/describe"))["links"] == [record]
    # An array body is still refused where the route wants a hash of inputs.
    status, answer = await env.call(f"/{record}/rename", ["x"])
    assert (status, answer["error"]["type"]) == (422, "InvalidInput")


@pytest.mark.asyncio
async def test_a_closed_record_refuses_hiding_and_new_details(env: Env) -> None:
    record = (await env.ok("/record/new", {"project": env.project}))["id"]
    await env.ok(f"/{record}/close")
    for route, body in (("setVisibility", {"hidden": True}), ("setDetails", ["foo"]), ("addTypes", {"types": ["t"]})):
        status, answer = await env.call(f"/{record}/{route}", body)
        assert (status, answer["error"]["type"]) == (422, "InvalidState"), route
        assert "is not in the open state" in answer["error"]["message"], route
    assert await env.ok(f"/{record}/getDetails") == {}
    await env.ok(f"/{record}/rename", {"name": "newname"})
    described = await env.ok(f"/{record}/describe")
    assert (described["name"], described["hidden"]) == ("newname", False)


@pytest.mark.asyncio
async def test_a_closed_file_refuses_an_upload_in_the_platforms_words(env: Env) -> None:
    file_id = await env.upload([b"foo\n"])
    status, answer = await env.call(f"/{file_id}/upload", {"size": 3, "md5": "c157a79031e1c40f85931829bc5fc552"})
    assert (status, answer["error"]["type"]) == (422, "InvalidState")
    assert "is not in the open state" in answer["error"]["message"]


@pytest.mark.asyncio
async def test_a_record_initialized_from_another(env: Env) -> None:
    first = (await env.ok("/record/new", {"project": env.project, "details": {"foo": "bar"}, "types": ["footype"],
                                          "tags": ["footag"], "properties": {"k": "v"}}))["id"]
    second = (await env.ok("/record/new", {"project": env.project, "types": ["bartype"],
                                           "initializeFrom": {"id": first, "project": env.project}}))["id"]
    asked = {"fields": {"details": True, "name": True, "tags": True, "types": True, "properties": True}}
    one, two = [await env.ok(f"/{r}/describe", asked) for r in (first, second)]
    assert (two["details"], two["name"], two["tags"], two["properties"], two["types"]) == (
        one["details"], one["name"], ["footag"], {"k": "v"}, ["bartype"])
    assert second != first
    status, answer = await env.call("/record/new", {"project": env.project, "initializeFrom": {"id": "file-x"}})
    assert status == 422 and "initializeFrom" in answer["error"]["message"]
    missing = {"id": first, "project": env.other_project}
    assert await env.fails("/record/new", {"project": env.project, "initializeFrom": missing}) == (
        404, "ResourceNotFound")


@pytest.mark.asyncio
async def test_a_download_url_is_given_again_while_it_is_valid(env: Env) -> None:
    file_id = await env.upload([b"foo\n"])
    options = {"preauthenticated": True, "filename": "foo"}
    first, again = [await env.ok(f"/{file_id}/download", options) for _ in range(2)]
    assert first == again
    other_name = await env.ok(f"/{file_id}/download", {"preauthenticated": True, "filename": "bar"})
    assert other_name["url"] != first["url"]
    short = await env.ok(f"/{file_id}/download", {**options, "duration": 30})
    assert short["url"] != first["url"] and short["expires"] < first["expires"]
    status, data, _ = await env.get(first["url"])
    assert (status, data) == (200, b"foo\n")
