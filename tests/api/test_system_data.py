"""/system/resolveDataObjects, findDataObjects and describeDataObjects through the real HTTP server."""

from __future__ import annotations

import pytest

from tests.api._data_env import Env


@pytest.mark.asyncio
async def test_resolve_data_objects_by_name_and_by_id(env: Env) -> None:
    top = await env.upload([b"1"], name="ref.fa")
    deep = await env.upload([b"2"], name="ref.fa", folder="/genomes")
    answer = await env.ok("/system/resolveDataObjects", {"project": env.project, "objects": [
        {"name": "ref.fa"},
        {"name": "ref.fa", "folder": "/genomes"},
        {"name": "missing"},
        {"id": deep},
        {"id": top, "project": env.other_project},
    ]})
    assert answer == {"results": [
        [{"project": env.project, "id": top}],
        [{"project": env.project, "id": deep}],
        [],
        [{"project": env.project, "id": deep}],
        [],
    ]}
    assert await env.fails("/system/resolveDataObjects", {"objects": [{"name": "x"}]}) == (422, "InvalidInput")


@pytest.mark.asyncio
async def test_find_data_objects_by_name_glob_and_scope(env: Env) -> None:
    a = await env.upload([b"a"], name="sample1.bam", folder="/bams")
    b = await env.upload([b"b"], name="sample2.bam", folder="/bams/more", tags=["keep"])
    c = await env.upload([b"c"], name="notes.txt", folder="/")
    other = await env.upload([b"o"], name="sample3.bam", project=env.other_project)
    record = (await env.ok("/record/new", {"project": env.project, "name": "sample.bam.rec", "close": True}))["id"]

    async def found(body: dict[str, object]) -> list[str]:
        return [r["id"] for r in (await env.ok("/system/findDataObjects", body))["results"]]

    assert await found({"name": {"glob": "*.bam"}}) == [a, b, other]
    assert await found({"name": {"glob": "*.bam"}, "scope": {"project": env.project}}) == [a, b]
    assert await found({"name": {"glob": "*.bam"}, "scope": {"project": env.project, "folder": "/bams",
                                                              "recurse": False}}) == [a]
    assert await found({"name": {"regexp": "^SAMPLE", "flags": "i"}, "class": "record"}) == [record]
    assert await found({"name": "notes.txt"}) == [c]
    assert await found({"tags": {"$and": ["keep"]}}) == [b]
    assert await found({"id": [c, a], "scope": {"project": env.project}}) == [a, c]
    first = await env.ok("/system/findDataObjects", {"class": "file", "limit": 2,
                                                     "describe": {"fields": {"name": True}}})
    assert [r["describe"]["name"] for r in first["results"]] == ["sample1.bam", "sample2.bam"]
    assert first["next"] == {"project": env.project, "id": c}
    rest = await env.ok("/system/findDataObjects", {"class": "file", "starting": first["next"]})
    assert [r["id"] for r in rest["results"]] == [c, other] and rest["next"] is None


@pytest.mark.asyncio
async def test_find_sees_clones_once_per_container_and_hidden_only_when_asked(env: Env) -> None:
    file_id = await env.upload([b"c"], name="cloned")
    hidden = await env.upload([b"h"], name="hidden", hidden=True)
    await env.ok(f"/{env.project}/clone", {"objects": [file_id], "project": env.other_project})
    results = (await env.ok("/system/findDataObjects", {"name": "cloned"}))["results"]
    assert results == [{"project": env.project, "id": file_id}, {"project": env.other_project, "id": file_id}]
    assert (await env.ok("/system/findDataObjects", {"name": "hidden"}))["results"] == []
    assert [r["id"] for r in (await env.ok("/system/findDataObjects", {"visibility": "either",
                                                                        "name": "hidden"}))["results"]] == [hidden]


@pytest.mark.asyncio
async def test_describe_data_objects(env: Env) -> None:
    file_id = await env.upload([b"abc"], name="f")
    record = (await env.ok("/record/new", {"project": env.project, "name": "r", "details": {"x": 1}}))["id"]
    answer = await env.ok("/system/describeDataObjects", {
        "objects": [file_id, {"id": record, "describe": {"fields": {"details": True}}},
                    "file-000000000000000000000000"],
        "classDescribeOptions": {"file": {"fields": {"size": True, "name": True}}},
    })
    assert answer == {"results": [
        {"describe": {"id": file_id, "name": "f", "size": 3}},
        {"describe": {"id": record, "details": {"x": 1}}},
        {},
    ]}


@pytest.mark.asyncio
async def test_records(env: Env) -> None:
    record = (await env.ok("/record/new", {"project": env.project, "name": "rec", "types": ["T"],
                                           "details": {"a": 1}}))["id"]
    described = await env.ok(f"/{record}/describe")
    assert (described["class"], described["state"], described["types"], described["name"]) == (
        "record", "open", ["T"], "rec")
    await env.ok(f"/{record}/setDetails", {"b": 2})
    assert await env.ok(f"/{record}/getDetails") == {"b": 2}
    await env.ok(f"/{record}/close")
    assert (await env.ok(f"/{record}/describe"))["state"] == "closed"
    assert await env.fails(f"/{record}/setDetails", {}) == (422, "InvalidState")
    assert await env.fails(f"/{record}/close") == (422, "InvalidState")
    await env.ok(f"/{record}/addTags", {"tags": ["done"]})
    assert (await env.ok(f"/{record}/describe", {"fields": {"tags": True}}))["tags"] == ["done"]
