"""The reference's "Valid App Identifiers" (apps-api.txt), each example through the real HTTP server."""

from __future__ import annotations

import pytest

from runner.api.apps.identifiers import AppIdentifier, parse_identifier
from tests.api._apps_env import error, new_app, ok
from tests.api._full_env import Api, api

__all__ = ["api"]


@pytest.mark.parametrize("text,expected", [
    ("app-B7Z2QZ00GqgvQbfB6J7Q0003", AppIdentifier(app_id="app-B7Z2QZ00GqgvQbfB6J7Q0003")),
    ("app-bwa", AppIdentifier(name="bwa", alias="default")),
    ("app-bwa/1.0.0", AppIdentifier(name="bwa", alias="1.0.0")),
    ("app-bwa/default", AppIdentifier(name="bwa", alias="default")),
    ("app-micromap/0.0.1", AppIdentifier(name="micromap", alias="0.0.1")),
])
def test_each_documented_identifier_is_read_as_the_reference_says(text: str, expected: AppIdentifier) -> None:
    assert parse_identifier(text) == expected


@pytest.mark.asyncio
async def test_app_hash_id_names_that_version(api: Api) -> None:
    made = await new_app(api, "1.0.0")
    assert (await ok(api, f"/{made['id']}/describe"))["version"] == "1.0.0"


@pytest.mark.asyncio
async def test_app_name_is_app_name_slash_default(api: Api) -> None:
    await new_app(api, "1.0.0")
    tagged = await new_app(api, "2.0.0")
    await ok(api, "/app-bwa/2.0.0/addTags", {"tags": ["default"]})
    assert (await ok(api, "/app-bwa/describe"))["id"] == tagged["id"]
    assert (await ok(api, "/app-bwa/default/describe"))["id"] == tagged["id"]


@pytest.mark.asyncio
async def test_app_name_slash_version(api: Api) -> None:
    first = await new_app(api, "1.0.0")
    await new_app(api, "2.0.0")
    assert (await ok(api, "/app-bwa/1.0.0/describe"))["id"] == first["id"]


@pytest.mark.asyncio
async def test_app_name_slash_tag(api: Api) -> None:
    first = await new_app(api, "1.0.0")
    await ok(api, f"/{first['id']}/addTags", {"tags": ["stable"]})
    assert (await ok(api, "/app-bwa/stable/describe"))["id"] == first["id"]


# "Note that using the form app-<hash id>/<version or tag> will be rejected."
@pytest.mark.asyncio
@pytest.mark.parametrize("alias", ["1.0.0", "default"])
async def test_app_hash_id_with_a_version_or_tag_is_rejected(api: Api, alias: str) -> None:
    made = await new_app(api, "1.0.0")
    await ok(api, f"/{made['id']}/addTags", {"tags": ["default"]})
    status, kind, message = await error(api, f"/{made['id']}/{alias}/describe")
    assert (status, kind) == (422, "InvalidInput")
    assert "hash ID" in message and "could conflict with the given version or tag" in message


@pytest.mark.asyncio
async def test_an_unknown_name_version_or_tag_is_not_found(api: Api) -> None:
    await new_app(api, "1.0.0")
    for path in ("/app-nothing/describe", "/app-bwa/9.9.9/describe", "/app-bwa/stable/describe"):
        status, kind, _ = await error(api, path)
        assert (status, kind) == (404, "ResourceNotFound"), path
