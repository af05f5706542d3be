"""runner.spec.app_identifiers: the one reading of app identifiers that the API and `runner app` share."""

from __future__ import annotations

import pytest

from runner.errors import InvalidInput
from runner.spec.app_identifiers import AppIdentifier, parse_identifier

HASH_ID = "app-B7Z2QZ00GqgvQbfB6J7Q0003"


@pytest.mark.parametrize("text,expected", [
    (HASH_ID, AppIdentifier(app_id=HASH_ID)),
    ("app-bwa", AppIdentifier(name="bwa", alias="default")),
    ("app-bwa/1.0.0+build.2", AppIdentifier(name="bwa", alias="1.0.0+build.2")),
    ("app-my_app.v2/stable", AppIdentifier(name="my_app.v2", alias="stable")),
])
def test_each_form_is_read_into_its_parts(text: str, expected: AppIdentifier) -> None:
    assert parse_identifier(text) == expected


@pytest.mark.parametrize("text", ["bwa", "applet-x", "app-", "app-/1.0", "app-a/", "app-a/b/c", "/app-a"])
def test_what_is_not_of_any_form_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_identifier(text)
    assert str(refused.value) == (f"{text!r} is not an app identifier: expected app-<hash id>, app-<name>, "
                                  "app-<name>/<version> or app-<name>/<tag>")
    assert refused.value.details == {"field": "app", "expected": "app identifier"}


@pytest.mark.parametrize("alias", ["1.0.0", "default"])
def test_a_hash_id_with_a_version_or_tag_is_refused(alias: str) -> None:
    with pytest.raises(InvalidInput, match="cannot name a version or tag as well") as refused:
        parse_identifier(f"{HASH_ID}/{alias}")
    assert refused.value.details["expected"] == "app-<hash id> without /<version or tag>"


@pytest.mark.parametrize("text", ["app-no spaces", "app-a*b/1.0", "app-ünï"])
def test_a_name_outside_the_pattern_is_refused_with_the_pattern(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"an app name must match /\^\[a-zA-Z0-9\._-\]\+\$/"):
        parse_identifier(text)
