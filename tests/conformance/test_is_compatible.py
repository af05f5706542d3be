"""/app-xxxx/isCompatible, one test per rule of the reference (apps-api.txt), through the real HTTP server.

Each test makes the "other" version from one applet and the version in the URL from another whose specs make
exactly the change the rule names, and checks the answer's `compatible`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api._apps_env import error, make_applet, new_app, ok
from tests.api._full_env import Api, api

__all__ = ["api"]

READS = {"name": "reads", "class": "file", "label": "Reads", "help": "the reads"}
MIN_Q = {"name": "min_q", "class": "int", "optional": True}
BAM = {"name": "bam", "class": "file"}
BASE_IN, BASE_OUT = [READS, MIN_Q], [BAM]


async def compatible(api: Api, new_in: list[Any], new_out: list[Any]) -> bool:
    """Whether a version with these specs may replace one with BASE_IN and BASE_OUT."""
    other = await new_app(api, "1.0.0", applet=make_applet(api, input_spec=BASE_IN, output_spec=BASE_OUT))
    made = await new_app(api, "2.0.0", applet=make_applet(api, input_spec=new_in, output_spec=new_out))
    answer = await ok(api, "/app-bwa/2.0.0/isCompatible", {"otherVersion": "app-bwa/1.0.0"})
    assert answer["id"] == made["id"] and answer["otherVersion"] == other["id"]
    return bool(answer["compatible"])


# Compatible: "Changing any label or help fields"
@pytest.mark.asyncio
async def test_changing_label_or_help_is_compatible(api: Api) -> None:
    relabelled = {**READS, "label": "Sequencing reads", "help": "FASTQ, gzipped"}
    assert await compatible(api, [relabelled, MIN_Q], [{**BAM, "label": "Alignments", "help": "sorted"}])


# Compatible: "Setting optional to true for any input field"
@pytest.mark.asyncio
async def test_setting_optional_to_true_is_compatible(api: Api) -> None:
    assert await compatible(api, [{**READS, "optional": True}, MIN_Q], BASE_OUT)


# Compatible: "Setting default to some valid value for any input field"
@pytest.mark.asyncio
async def test_setting_a_default_is_compatible(api: Api) -> None:
    assert await compatible(api, [READS, {**MIN_Q, "default": 20}], BASE_OUT)


# Compatible: "Adding additional optional inputs"
@pytest.mark.asyncio
async def test_adding_an_optional_input_is_compatible(api: Api) -> None:
    assert await compatible(api, [*BASE_IN, {"name": "threads", "class": "int", "optional": True}], BASE_OUT)


# Compatible: "Adding additional outputs"
@pytest.mark.asyncio
async def test_adding_an_output_is_compatible(api: Api) -> None:
    assert await compatible(api, BASE_IN, [*BASE_OUT, {"name": "bai", "class": "file"}])


# Incompatible: "Making an optional input required"
@pytest.mark.asyncio
async def test_making_an_optional_input_required_is_incompatible(api: Api) -> None:
    assert not await compatible(api, [READS, {**MIN_Q, "optional": False}], BASE_OUT)


# Incompatible: "Adding a required input"
@pytest.mark.asyncio
async def test_adding_a_required_input_is_incompatible(api: Api) -> None:
    assert not await compatible(api, [*BASE_IN, {"name": "genome", "class": "file"}], BASE_OUT)


# Incompatible: "Renaming ... an existing input ... field name"
@pytest.mark.asyncio
async def test_renaming_an_input_is_incompatible(api: Api) -> None:
    assert not await compatible(api, [{**READS, "name": "fastq"}, MIN_Q], BASE_OUT)


# Incompatible: "... changing the class or type specification for an existing input ..."
@pytest.mark.asyncio
async def test_changing_an_inputs_class_is_incompatible(api: Api) -> None:
    assert not await compatible(api, [READS, {**MIN_Q, "class": "float"}], BASE_OUT)


@pytest.mark.asyncio
async def test_changing_an_inputs_type_is_incompatible(api: Api) -> None:
    assert not await compatible(api, [{**READS, "type": "FASTQ"}, MIN_Q], BASE_OUT)


# Incompatible: "Renaming or changing the class ... for an existing ... output field name"
@pytest.mark.asyncio
async def test_renaming_an_output_is_incompatible(api: Api) -> None:
    assert not await compatible(api, BASE_IN, [{**BAM, "name": "alignments"}])


@pytest.mark.asyncio
async def test_changing_an_outputs_class_is_incompatible(api: Api) -> None:
    assert not await compatible(api, BASE_IN, [{**BAM, "class": "array:file"}])


# Incompatible: "Removing an output"
@pytest.mark.asyncio
async def test_removing_an_output_is_incompatible(api: Api) -> None:
    assert not await compatible(api, BASE_IN, [])


# "this app object can be a deleted version"
@pytest.mark.asyncio
async def test_a_deleted_other_version_may_be_checked_against(api: Api) -> None:
    other = await new_app(api, "1.0.0", applet=make_applet(api, input_spec=BASE_IN, output_spec=BASE_OUT))
    await new_app(api, "2.0.0", applet=make_applet(api, input_spec=BASE_IN, output_spec=BASE_OUT))
    await ok(api, "/app-bwa/2.0.0/addTags", {"tags": ["default"]})  # the first version's "default" moves on
    await ok(api, f"/{other['id']}/delete")
    answer = await ok(api, "/app-bwa/2.0.0/isCompatible", {"otherVersion": other["id"]})
    assert answer["compatible"] is True and answer["otherVersion"] == other["id"]


# InvalidState: "the app object in the URL has already been deleted"
@pytest.mark.asyncio
async def test_a_deleted_app_in_the_url_is_invalid_state(api: Api) -> None:
    await new_app(api, "1.0.0")
    deleted = await new_app(api, "2.0.0")
    await ok(api, f"/{deleted['id']}/delete")
    status, kind, message = await error(api, f"/{deleted['id']}/isCompatible", {"otherVersion": "app-bwa/1.0.0"})
    assert (status, kind) == (422, "InvalidState") and "deleted" in message


# InvalidInput: "otherVersion is not present or is not a nonempty string"; ResourceNotFound: no such app
@pytest.mark.asyncio
@pytest.mark.parametrize("body,kind", [({}, "InvalidInput"), ({"otherVersion": ""}, "InvalidInput"),
                                       ({"otherVersion": 3}, "InvalidInput"),
                                       ({"otherVersion": "app-bwa/9.9"}, "ResourceNotFound")])
async def test_a_bad_other_version_is_refused(api: Api, body: dict[str, Any], kind: str) -> None:
    await new_app(api, "1.0.0")
    assert (await error(api, "/app-bwa/1.0.0/isCompatible", body))[1] == kind
