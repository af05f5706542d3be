"""The app lifecycle through the real HTTP server: /app/new from an applet, describe by every identifier,
update before publish only, tags, publish, delete, get, run (the job's app, resources and project cache),
and /system/findApps."""

from __future__ import annotations

from typing import Any

import pytest

from runner.store.jobs import get_job
from runner.store.objects import find_objects
from runner.store.tokens import issue_job_token
from tests.api._apps_env import SPEC_IN, SPEC_OUT, error, make_applet, new_app, ok
from tests.api._full_env import Api


@pytest.mark.asyncio
async def test_an_app_is_made_from_an_applet_with_a_resources_container_holding_the_applet(api: Api) -> None:
    applet = make_applet(api, title="BWA mapper")
    made = await new_app(api, applet=applet)
    resources = made["resourcesByRegion"]["aws:us-east-1"]
    assert made["resources"] == resources and made["id"].startswith("app-")
    described = await ok(api, f"/{made['id']}/describe")
    assert described["name"] == "bwa" and described["version"] == "1.0.0" and described["class"] == "app"
    assert described["title"] == "BWA mapper" and described["deleted"] is False and "published" not in described
    assert described["aliases"] == ["1.0.0", "default"]  # a name's first version is its default
    assert described["inputSpec"] == SPEC_IN and described["outputSpec"] == SPEC_OUT
    assert "code" not in described["runSpec"]
    assert described["regionalOptions"] == {"aws:us-east-1": {"applet": applet, "resources": resources}}
    assert [o["id"] for o in find_objects(api.world.db, container=resources)] == [applet]
    assert await ok(api, "/app-bwa/describe", {"fields": {"name": True, "version": True}}) == {
        "name": "bwa", "version": "1.0.0"}
    got = await ok(api, f"/{made['id']}/get")
    assert got["runSpec"]["code"] == "main() { :; }"


@pytest.mark.asyncio
@pytest.mark.parametrize("missing", ["inputSpec", "outputSpec"])
async def test_an_applet_without_both_specs_is_refused(api: Api, missing: str) -> None:
    applet = make_applet(api, **{"input_spec" if missing == "inputSpec" else "output_spec": None})
    status, kind, message = await error(api, "/app/new", {"name": "x", "version": "1", "applet": applet})
    assert (status, kind) == (422, "InvalidInput")
    assert f"has no {missing}" in message and "both input and output specifications" in message


@pytest.mark.asyncio
async def test_a_taken_version_is_refused_in_the_words_dx_build_recognises(api: Api) -> None:
    await new_app(api)
    _, kind, message = await error(api, "/app/new", {"name": "bwa", "version": "1.0.0",
                                                          "applet": make_applet(api)})
    assert (kind, message) == ("InvalidInput", "Specified name and version conflict with an existing alias")


@pytest.mark.asyncio
@pytest.mark.parametrize("body,field", [
    ({"name": "app-bwa", "version": "1"}, "name"), ({"name": "b w a", "version": "1"}, "name"),
    ({"name": "bwa", "version": "1 0"}, "version"), ({"name": "bwa"}, "version"),
    ({"name": "bwa", "version": "1", "regionalOptions": {"azure:westus": {}}}, "regionalOptions.azure:westus"),
    ({"name": "bwa", "version": "1", "regionalOptions": {}}, "regionalOptions"),
    ({"name": "bwa", "version": "1", "applet": "file-0123456789012345678901AB"}, "applet"),
    ({"name": "bwa", "version": "1"}, "applet"),
])
async def test_a_bad_app_new_names_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    status, answer = await api.post("/app/new", body, "user")
    assert status == 422 and answer["error"]["type"] == "InvalidInput", answer
    assert answer["error"]["details"]["field"] == field


@pytest.mark.asyncio
async def test_unpublished_versions_update_in_place_and_published_ones_do_not(api: Api) -> None:
    made = await new_app(api)
    await ok(api, "/app-bwa/1.0.0/update", {"title": "New title", "summary": "s"})
    described = await ok(api, "/app-bwa/1.0.0/describe")
    assert described["title"] == "New title" and described["summary"] == "s"
    newer = make_applet(api, output_spec=[*SPEC_OUT, {"name": "more", "class": "string"}])
    await ok(api, f"/{made['id']}/update", {"applet": newer})
    described = await ok(api, f"/{made['id']}/describe")
    assert described["applet"] == newer and len(described["outputSpec"]) == 2
    assert [o["id"] for o in find_objects(api.world.db, container=made["resources"])] == [newer]
    await ok(api, f"/{made['id']}/publish", {})
    assert (await ok(api, f"/{made['id']}/describe"))["published"] > 0
    status, kind, message = await error(api, f"/{made['id']}/update", {"title": "again"})
    assert (status, kind) == (422, "InvalidState") and "already been published" in message


@pytest.mark.asyncio
async def test_tags_name_one_version_and_default_is_what_app_name_means(api: Api) -> None:
    first = await new_app(api, "1.0.0")
    second = await new_app(api, "2.0.0")
    assert (await ok(api, "/app-bwa/describe"))["id"] == first["id"]  # a later version does not take it
    await ok(api, f"/{first['id']}/publish", {"makeDefault": True})
    assert (await ok(api, "/app-bwa/describe"))["id"] == first["id"]
    await ok(api, f"/{second['id']}/publish", {"makeDefault": True})
    assert (await ok(api, "/app-bwa/describe"))["id"] == second["id"]
    assert (await ok(api, "/app-bwa/1.0.0/describe"))["aliases"] == ["1.0.0"]
    await ok(api, "/app-bwa/1.0.0/addTags", {"tags": ["stable"]})
    assert (await ok(api, "/app-bwa/stable/describe"))["id"] == first["id"]
    await ok(api, "/app-bwa/2.0.0/addTags", {"tags": ["stable"]})
    assert (await ok(api, "/app-bwa/stable/describe"))["id"] == second["id"]
    assert (await ok(api, "/app-bwa/2.0.0/describe"))["aliases"] == ["2.0.0", "default", "stable"]
    assert await ok(api, "/app-bwa/removeTags", {"tags": ["stable"]}) == {"name": "bwa"}
    assert (await error(api, "/app-bwa/stable/describe"))[1] == "ResourceNotFound"
    assert (await error(api, "/app-bwa/removeTags", {"tags": ["default"]}))[1] == "InvalidInput"
    assert (await error(api, "/app-bwa/addTags", {"tags": ["1.0.0"]}))[1] == "InvalidInput"
    assert (await error(api, "/app-bwa/addTags", {"tags": "x"}))[1] == "InvalidInput"


@pytest.mark.asyncio
async def test_a_deleted_version_is_described_but_not_run_or_got(api: Api) -> None:
    first = await new_app(api, "1.0.0")
    await new_app(api, "2.0.0")
    await ok(api, f"/{first['id']}/addTags", {"tags": ["default", "old"]})
    _, kind, message = await error(api, f"/{first['id']}/delete")
    assert kind == "InvalidState" and "delete the other versions" in message
    await ok(api, "/app-bwa/2.0.0/delete")
    assert await ok(api, f"/{first['id']}/delete") == {"id": first["id"]}
    described = await ok(api, f"/{first['id']}/describe")
    assert described["deleted"] is True and "inputSpec" not in described and "resources" not in described
    assert described["aliases"] == ["1.0.0", "default"]  # the non-default tags are invalidated
    run = await error(api, f"/{first['id']}/run", {"input": {}, "project": api.world.P})
    assert run[:2] == (422, "InvalidState") and "deleted" in run[2]
    assert (await error(api, f"/{first['id']}/get"))[1] == "InvalidState"
    assert (await error(api, f"/{first['id']}/addTags", {"tags": ["t"]}))[1] == "InvalidState"


@pytest.mark.asyncio
async def test_a_run_of_an_app_makes_a_job_with_its_resources_and_a_project_cache_kept_per_project(api: Api) -> None:
    made = await new_app(api)
    first = await ok(api, "/app-bwa/1.0.0/run", {"input": {"n": 3}, "project": api.world.P})
    second = await ok(api, "/app-bwa/run", {"input": {}, "project": api.world.P})
    elsewhere = await ok(api, f"/{made['id']}/run", {"input": {}, "project": api.world.Q})
    jobs = [await ok(api, f"/{j['id']}/describe") for j in (first, second, elsewhere)]
    assert {j["app"] for j in jobs} == {made["id"]} and {j["resources"] for j in jobs} == {made["resources"]}
    assert jobs[0]["projectCache"] == jobs[1]["projectCache"] != jobs[2]["projectCache"]
    assert jobs[0]["projectCache"].startswith("container-") and jobs[0]["executableName"] == "bwa"
    assert get_job(api.world.db, first["id"])["input"] == {"n": 3}
    bad = await api.post("/app-bwa/run", {"input": {"n": "three"}, "project": api.world.P}, "user")
    assert bad[0] == 422 and bad[1]["error"]["type"] == "InvalidInput"


@pytest.mark.asyncio
async def test_find_apps_finds_default_versions_unless_all_are_asked(api: Api) -> None:
    first = await new_app(api, "1.0.0")
    second = await new_app(api, "2.0.0")
    await new_app(api, "0.1", name="other")
    await ok(api, f"/{first['id']}/publish", {"makeDefault": True})
    found = await ok(api, "/system/findApps", {"name": "bwa", "describe": {"fields": {"version": True}}})
    assert found == {"results": [{"id": first["id"], "describe": {"version": "1.0.0"}}], "next": None}
    every = await ok(api, "/system/findApps", {"name": {"glob": "b*"}, "allVersions": True})
    assert [r["id"] for r in every["results"]] == [second["id"], first["id"]]
    unpublished = await ok(api, "/system/findApps", {"published": False, "allVersions": True})
    assert second["id"] in [r["id"] for r in unpublished["results"]]
    assert first["id"] not in [r["id"] for r in unpublished["results"]]
    assert (await error(api, "/system/findApps", {"limit": 0}))[1] == "InvalidInput"


@pytest.mark.asyncio
async def test_lists_kept_for_the_name_apply_to_every_version(api: Api) -> None:
    await new_app(api, "1.0.0")
    await new_app(api, "2.0.0")
    await ok(api, "/app-bwa/1.0.0/addCategories", {"categories": ["Mappers"]})
    assert await ok(api, "/app-bwa/2.0.0/listCategories") == {"categories": ["Mappers"]}
    assert (await error(api, "/app-bwa/1.0.0/addCategories", {"categories": ["new"]}))[1] == "InvalidInput"
    assert (await error(api, "/app-bwa/1.0.0/addAuthorizedUsers",
                        {"authorizedUsers": ["PUBLIC"]}))[1] == "PermissionDenied"
    await ok(api, "/app-bwa/1.0.0/addAuthorizedUsers", {"authorizedUsers": ["org-lab"]})
    assert await ok(api, "/app-bwa/2.0.0/listAuthorizedUsers") == {"authorizedUsers": ["org-lab"]}
    assert await ok(api, "/app-bwa/2.0.0/listDevelopers") == {"developers": ["user-local"]}


@pytest.mark.asyncio
async def test_jobs_may_describe_apps_but_not_make_or_change_them(api: Api) -> None:
    made = await new_app(api)
    assert (await ok(api, f"/{made['id']}/describe", caller="tree"))["id"] == made["id"]
    assert (await error(api, f"/{made['id']}/publish", caller="tree"))[1] == "PermissionDenied"
    assert (await error(api, "/app/new", {"name": "z", "version": "1"}, caller="tree"))[1] == "PermissionDenied"
    _, kind, message = await error(api, f"/{made['id']}/get", caller="tree")
    assert kind == "PermissionDenied" and "resources container" in message


@pytest.mark.asyncio
async def test_a_subjob_of_an_apps_job_is_a_job_of_the_app_with_the_same_containers(api: Api) -> None:
    made = await new_app(api)
    root = (await ok(api, "/app-bwa/1.0.0/run", {"input": {}, "project": api.world.P}))["id"]
    token = issue_job_token(api.world.db, root)
    api.world.tokens["app_job"] = token
    sub = (await ok(api, "/job/new", {"function": "main", "input": {}}, caller="app_job"))["id"]
    described = await ok(api, f"/{sub}/describe")
    parent = await ok(api, f"/{root}/describe")
    assert described["app"] == made["id"] and described["parentJob"] == root
    assert (described["resources"], described["projectCache"]) == (parent["resources"], parent["projectCache"])
    # The app asks for no project access: its job reads its resources, writes its cache, and reads no project.
    assert (await error(api, "/system/findDataObjects", {"scope": {"project": api.world.P}},
                        caller="app_job"))[1] == "PermissionDenied"
    listing = await ok(api, "/system/findDataObjects", {"scope": {"project": made["resources"]}}, caller="app_job")
    assert [r["id"] for r in listing["results"]] == [described["applet"]]
    assert (await error(api, "/file/new", {"project": made["resources"], "name": "x"},
                        caller="app_job"))[1] == "PermissionDenied"
    await ok(api, "/file/new", {"project": parent["projectCache"], "name": "kept.txt"}, caller="app_job")


@pytest.mark.asyncio
async def test_initialize_from_copies_a_version_and_its_resources_under_a_new_version(api: Api) -> None:
    first = await new_app(api, "1.0.0", summary="the first")
    file_id = api.world.file_p
    await ok(api, f"/{first['id']}/update", {"resources": [file_id]})
    made = await ok(api, "/app/new", {"initializeFrom": "app-bwa/1.0.0", "version": "1.1.0", "title": "Newer"})
    described = await ok(api, f"/{made['id']}/describe")
    assert (described["name"], described["version"], described["title"]) == ("bwa", "1.1.0", "Newer")
    assert described["summary"] == "the first" and described["applet"] == (await ok(api, "/app-bwa/1.0.0/describe"))["applet"]
    assert made["resources"] != first["resources"]
    assert sorted(o["id"] for o in find_objects(api.world.db, container=made["resources"])) == sorted(
        [described["applet"], file_id])
    both = await api.post("/app/new", {"initializeFrom": "app-bwa/1.0.0", "version": "2", "applet": described["applet"]},
                          "user")
    assert both[0] == 422 and "Only one of initializeFrom or applet" in both[1]["error"]["message"]


@pytest.mark.asyncio
async def test_settings_by_executable_may_name_the_app(api: Api) -> None:
    made = await new_app(api)
    job = await ok(api, f"/{made['id']}/run", {
        "input": {}, "project": api.world.P,
        "timeoutPolicyByExecutable": {made["id"]: {"*": {"minutes": 7}}},
        "systemRequirementsByExecutable": {made["id"]: {"*": {"instanceType": "mem2_ssd1_v2_x4"}}}})
    described = await ok(api, f"/{job['id']}/describe")
    assert described["timeout"] == 7 * 60 * 1000 and described["instanceType"] == "mem2_ssd1_v2_x4"


@pytest.mark.asyncio
async def test_a_protected_project_gives_each_run_a_fresh_cache(api: Api) -> None:
    made = await new_app(api)
    await ok(api, f"/{api.world.Q}/update", {"protected": True})
    runs = [await ok(api, f"/{made['id']}/run", {"input": {}, "project": api.world.Q}) for _ in range(2)]
    caches = [(await ok(api, f"/{run['id']}/describe"))["projectCache"] for run in runs]
    assert caches[0] != caches[1] and all(cache.startswith("container-") for cache in caches)


@pytest.mark.asyncio
async def test_validate_batch_expands_against_the_apps_input_spec(api: Api) -> None:
    await new_app(api)
    answer = await ok(api, "/app-bwa/validateBatch", {"batchInput": {"n": [1, 2]}})
    assert answer == {"expandedBatch": [{"n": 1}, {"n": 2}]}
    status, kind, message = await error(api, "/app-bwa/validateBatch", {"batchInput": {"m": [1]}})
    assert (status, kind) == (422, "InvalidInput") and "'m' is not defined" in message
