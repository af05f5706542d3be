"""Files through the real HTTP server: multi-part upload, download (whole and a byte range), states, describe."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest

from runner.store.files import blob_path
from tests.api._data_env import Env

PARTS = [b"first part, ", b"the second one, ", b"and the end\n"]
WHOLE = b"".join(PARTS)


@pytest.mark.asyncio
async def test_a_multipart_upload_downloads_whole_and_by_range(env: Env) -> None:
    file_id = await env.upload(PARTS, name="reads.txt", folder="/in")
    described = await env.ok(f"/{file_id}/describe", {"fields": {"parts": True, "state": True, "size": True}})
    assert described == {
        "id": file_id, "state": "closed", "size": len(WHOLE),
        "parts": {str(i): {"size": len(p), "md5": hashlib.md5(p).hexdigest(), "state": "complete"}
                  for i, p in enumerate(PARTS, start=1)},
    }
    assert await env.content(file_id) == (200, WHOLE)
    assert await env.content(file_id, "bytes=6-20") == (206, WHOLE[6:21])
    answer = await env.ok(f"/{file_id}/download", {"preauthenticated": True, "duration": 60})
    assert answer["headers"] == {} and answer["expires"] > 0
    status, _, headers = await env.get(answer["url"])
    assert status == 200 and 'filename="reads.txt"' in headers["Content-Disposition"]


@pytest.mark.asyncio
async def test_identical_parts_are_stored_once_and_parts_are_gone_after_close(env: Env) -> None:
    first = await env.upload([b"same bytes"], close=False)
    second = await env.upload([b"same bytes"], close=False)
    sha = hashlib.sha256(b"same bytes").hexdigest()
    assert blob_path(env.home, sha).read_bytes() == b"same bytes"
    for file_id in (first, second):
        await env.ok(f"/{file_id}/close")
    assert blob_path(env.home, sha).exists()
    two = await env.upload([b"a" * 10, b"b" * 10])
    assert not blob_path(env.home, hashlib.sha256(b"a" * 10).hexdigest()).exists()
    assert await env.content(two) == (200, b"a" * 10 + b"b" * 10)


@pytest.mark.asyncio
async def test_urls_use_the_host_the_caller_used(env: Env) -> None:
    file_id = await env.upload([], close=False)
    status, answer = await env.call(f"/{file_id}/upload", {"index": 1}, headers={"Host": "engine.internal:7000"})
    assert status == 200 and urlsplit(answer["url"]).netloc == "engine.internal:7000"
    assert urlsplit(answer["url"]).scheme == "http"


@pytest.mark.asyncio
async def test_a_part_must_match_the_md5_and_size_declared(env: Env) -> None:
    file_id = await env.upload([], close=False)
    declared = await env.ok(f"/{file_id}/upload", {"index": 1, "md5": hashlib.md5(b"other").hexdigest()})
    status, answer = await env.put(declared["url"], b"these bytes")
    assert (status, answer["error"]["type"]) == (422, "InvalidInput") and "MD5" in answer["error"]["message"]
    declared = await env.ok(f"/{file_id}/upload", {"index": 1, "size": 3})
    status, answer = await env.put(declared["url"], b"four")
    assert (status, answer["error"]["type"]) == (422, "InvalidInput")
    assert (await env.ok(f"/{file_id}/describe", {"fields": {"parts": True}}))["parts"] == {}


@pytest.mark.asyncio
async def test_a_tampered_or_unsigned_url_is_refused(env: Env) -> None:
    file_id = await env.upload([], close=False)
    url = (await env.ok(f"/{file_id}/upload", {"index": 1, "size": 4}))["url"]
    assert (await env.put(url.replace("size=4", "size=5"), b"fives"))[0] == 401
    assert (await env.put(url.split("?")[0], b"four"))[0] == 401
    assert (await env.put(url, b"four"))[0] == 200


@pytest.mark.asyncio
async def test_close_states(env: Env) -> None:
    file_id = await env.upload([b"x"], close=False)
    assert await env.fails(f"/{file_id}/download") == (422, "InvalidState")
    assert (await env.ok(f"/{file_id}/describe"))["state"] == "open"
    assert "size" not in await env.ok(f"/{file_id}/describe")
    await env.ok(f"/{file_id}/close")
    assert (await env.ok(f"/{file_id}/describe"))["state"] == "closed"
    assert await env.fails(f"/{file_id}/close") == (422, "InvalidState")
    assert await env.fails(f"/{file_id}/upload", {"index": 2}) == (422, "InvalidState")
    empty = await env.upload([])
    assert (await env.ok(f"/{empty}/describe"))["size"] == 0
    assert await env.content(empty) == (200, b"")


@pytest.mark.asyncio
async def test_a_part_put_after_close_is_invalid_state(env: Env) -> None:
    file_id = await env.upload([], close=False)
    url = (await env.ok(f"/{file_id}/upload", {"index": 1}))["url"]
    await env.ok(f"/{file_id}/close")
    status, answer = await env.put(url, b"late")
    assert (status, answer["error"]["type"]) == (422, "InvalidState")


@pytest.mark.asyncio
async def test_upload_input_is_checked(env: Env) -> None:
    file_id = await env.upload([], close=False)
    for body in ({"index": 0}, {"index": 10001}, {"index": "1"}, {"md5": "nothex"}, {"size": -1}):
        assert await env.fails(f"/{file_id}/upload", body) == (422, "InvalidInput")


@pytest.mark.asyncio
async def test_describe_fields(env: Env) -> None:
    file_id = await env.upload([b"abc"], name="a.txt", tags=["t"], properties={"k": "v"}, details={"d": 1},
                               types=["Text"], media="text/plain")
    default = await env.ok(f"/{file_id}/describe")
    assert {"id", "project", "class", "types", "created", "modified", "createdBy", "state", "hidden", "links",
            "name", "folder", "sponsored", "tags", "media", "archivalState", "size"} == set(default)
    assert (default["project"], default["name"], default["media"], default["archivalState"]) == (
        env.project, "a.txt", "text/plain", "live")
    assert default["createdBy"] == {"user": "user-local"} and default["tags"] == ["t"]
    assert await env.ok(f"/{file_id}/describe", {"fields": {"name": True}}) == {"id": file_id, "name": "a.txt"}
    asked = await env.ok(f"/{file_id}/describe", {"properties": True, "details": True})
    assert asked["properties"] == {"k": "v"} and asked["details"] == {"d": 1} and "parts" not in asked
    both = await env.ok(f"/{file_id}/describe", {"defaultFields": True, "fields": {"details": True, "tags": False}})
    assert "details" in both and "tags" not in both and "name" in both


@pytest.mark.asyncio
async def test_unknown_file_is_resource_not_found(env: Env) -> None:
    assert await env.fails("/file-000000000000000000000000/describe") == (404, "ResourceNotFound")
    assert await env.fails("/file-000000000000000000000000/download") == (404, "ResourceNotFound")


@pytest.mark.asyncio
async def test_a_repeated_nonce_returns_the_same_file(env: Env) -> None:
    body = {"project": env.project, "name": "once", "nonce": "n-1"}
    first = await env.ok("/file/new", body)
    assert await env.ok("/file/new", body) == first
    assert await env.fails("/file/new", {**body, "name": "changed"}) == (422, "InvalidInput")
    listed = await env.ok(f"/{env.project}/listFolder", {"folder": "/"})
    assert [o["id"] for o in listed["objects"]] == [first["id"]]


@pytest.mark.asyncio
async def test_new_file_input(env: Env) -> None:
    assert await env.fails("/file/new", {"project": env.project, "folder": "/no/such"}) == (404, "ResourceNotFound")
    assert await env.fails("/file/new", {"project": env.project, "folder": "relative"}) == (422, "InvalidInput")
    assert await env.fails("/file/new", {"project": "project-000000000000000000000000"}) == (404, "ResourceNotFound")
    assert await env.fails("/file/new", {"project": env.project, "tags": "t"}) == (422, "InvalidInput")
    unnamed = (await env.ok("/file/new", {"project": env.project}))["id"]
    assert (await env.ok(f"/{unnamed}/describe"))["name"] == unnamed


@pytest.mark.asyncio
async def test_metadata_routes(env: Env) -> None:
    file_id = await env.upload([b"m"], name="before", tags=["a"])
    await env.ok(f"/{file_id}/addTags", {"project": env.project, "tags": ["b", "a"]})
    await env.ok(f"/{file_id}/removeTags", {"project": env.project, "tags": ["a"]})
    await env.ok(f"/{file_id}/setProperties", {"project": env.project, "properties": {"x": "1", "y": "2"}})
    await env.ok(f"/{file_id}/setProperties", {"project": env.project, "properties": {"x": None}})
    await env.ok(f"/{file_id}/rename", {"project": env.project, "name": "after"})
    await env.ok(f"/{file_id}/setVisibility", {"hidden": True})
    described = await env.ok(f"/{file_id}/describe", {"fields": {"tags": True, "properties": True, "name": True,
                                                                  "hidden": True}})
    assert described == {"id": file_id, "tags": ["b"], "properties": {"y": "2"}, "name": "after", "hidden": True}
    assert await env.fails(f"/{file_id}/setDetails", {}) == (422, "InvalidState")
    open_id = await env.upload([], close=False)
    await env.ok(f"/{open_id}/setDetails", {"ref": {"$dnanexus_link": file_id}})
    assert await env.ok(f"/{open_id}/getDetails") == {"ref": {"$dnanexus_link": file_id}}
    assert (await env.ok(f"/{open_id}/describe"))["links"] == [file_id]
