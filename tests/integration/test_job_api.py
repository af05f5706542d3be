"""The job API against a real engine: describe, tags and properties, /job/new, nonces, run input checks,
and the tokens a job holds (identity token, its API token's revocation, what that token may read)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.api.jobs.identity import IdentityKeys
from runner.client.api import EngineClient
from runner.errors import InvalidAuthentication, InvalidInput, ResourceNotFound
from tests.integration.helpers import (
    build_sample,
    build_test_applet,
    run_sample,
    run_test_applet,
    upload_text,
    wait_terminal,
)

pytestmark = pytest.mark.docker
# Backend-neutral: every test runs on the Docker and on the local backend (tests/integration/conftest.py).
BACKENDS = ("docker", "local")
# They look at containers, images or Docker's isolation (tests/integration/test_local_backend.py has the
# local backend's own).
DOCKER_ONLY = (
    "test_describe_names_the_image_and_whether_it_is_a_stand_in",
)

MISSING_JOB = "job-" + "0" * 24
DESCRIBE_FIELDS = (
    "id", "try", "class", "name", "executableName", "created", "modified", "startedRunning", "stoppedRunning",
    "project", "folder", "rootExecution", "parentJob", "originJob", "detachedFrom", "state", "stateTransitions",
    "workspace", "launchedBy", "function", "tags", "properties", "details", "systemRequirements",
    "executionPolicy", "timeout", "instanceType", "networkAccess", "dependsOn", "failureCounts", "runInput",
    "originalInput", "input", "output", "applet", "delayWorkspaceDestruction", "runSystemRequirements",
    "runSystemRequirementsByExecutable", "mergedSystemRequirementsByExecutable",
)


def done(engine: EngineClient, job_id: str) -> dict[str, Any]:
    job = wait_terminal(engine, job_id)
    assert job["state"] == "done", (job_id, job.get("failureReason"), job.get("failureMessage"))
    return job


@pytest.fixture(scope="module")
def hello_job(engine: EngineClient) -> dict[str, Any]:
    """A done run of hello_bash with no input (so `who` takes its default)."""
    return done(engine, run_sample(engine, "hello_bash", {}))


@pytest.fixture(scope="module")
def tokens_job(engine: EngineClient) -> dict[str, Any]:
    """A done run of job_tokens: its outputs hold an identity token and the job's own API token."""
    return done(engine, run_test_applet(engine, "job_tokens", {}))


# -- describe ---------------------------------------------------------------------------------------

def test_describe_has_every_field(engine: EngineClient, hello_job: dict[str, Any]) -> None:
    job = engine.call(f"/{hello_job['id']}/describe", {})
    assert [f for f in DESCRIBE_FIELDS if f not in job] == []
    applet = build_sample(engine, "hello_bash")
    assert job["class"] == "job" and job["try"] == 0 and job["function"] == "main"
    assert job["applet"] == applet and job["executableName"] == "hello_bash"
    assert job["project"] == engine.project and job["folder"] == "/"
    assert job["rootExecution"] == job["id"] == job["originJob"]
    assert job["parentJob"] is None and job["detachedFrom"] is None
    assert job["workspace"].startswith("container-") and job["launchedBy"].startswith("user-")
    assert job["created"] <= job["startedRunning"] <= job["stoppedRunning"] <= job["modified"]
    assert [t["newState"] for t in job["stateTransitions"]][-2:] == ["running", "done"]
    assert job["dependsOn"] == [] and job["failureCounts"] == {}
    assert "failureReason" not in job
    assert job["runInput"] == {}
    assert job["originalInput"] == {"who": "World"} == job["input"]
    assert job["output"] == {"greeting": "Hello, World!"}
    assert job["timeout"] == 10 * 60 * 1000  # runSpec.timeoutPolicy {"*": {"minutes": 10}}, in ms
    assert job["instanceType"] == "mem1_ssd1_v2_x2"  # runSpec.systemRequirements
    assert job["runSystemRequirements"] is None


def test_describe_field_selection(engine: EngineClient, hello_job: dict[str, Any]) -> None:
    route = f"/{hello_job['id']}/describe"
    assert engine.call(route, {"fields": {"state": True}}) == {"id": hello_job["id"], "state": "done"}
    without_output = engine.call(route, {"defaultFields": True, "fields": {"output": False}})
    assert "output" not in without_output
    assert without_output["state"] == "done" and without_output["input"] == {"who": "World"}


def test_run_time_instance_type(engine: EngineClient) -> None:
    requirements = {"*": {"instanceType": "mem1_ssd1_v2_x4"}}
    job = done(engine, run_sample(engine, "hello_bash", {"who": "x4"}, systemRequirements=requirements))
    assert job["instanceType"] == "mem1_ssd1_v2_x4"
    assert job["runSystemRequirements"] == requirements
    assert job["originalInput"] == {"who": "x4"} and job["output"] == {"greeting": "Hello, x4!"}


# -- tags and properties ------------------------------------------------------------------------------

def test_tags_and_properties(engine: EngineClient, hello_job: dict[str, Any]) -> None:
    job_id = hello_job["id"]
    tag_a, tag_b = f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"

    def tags() -> list[str]:
        return [t for t in engine.call(f"/{job_id}/describe", {"fields": {"tags": True}})["tags"]
                if t in (tag_a, tag_b)]

    def properties() -> dict[str, str]:
        found = engine.call(f"/{job_id}/describe", {"fields": {"properties": True}})["properties"]
        return {k: v for k, v in found.items() if k.startswith(("p1", "p2"))}

    assert engine.call(f"/{job_id}/addTags", {"tags": [tag_a, tag_b, tag_a]}) == {"id": job_id}
    assert tags() == [tag_a, tag_b]
    engine.call(f"/{job_id}/addTags", {"tags": [tag_a]})  # already there: nothing changes
    assert tags() == [tag_a, tag_b]
    assert engine.call(f"/{job_id}/removeTags", {"tags": [tag_a, "never-added"]}) == {"id": job_id}
    assert tags() == [tag_b]

    assert engine.call(f"/{job_id}/setProperties", {"properties": {"p1": "one", "p2": "two"}}) == {"id": job_id}
    assert properties() == {"p1": "one", "p2": "two"}
    engine.call(f"/{job_id}/setProperties", {"properties": {"p1": None, "p2": "deux"}})
    assert properties() == {"p2": "deux"}


@pytest.mark.parametrize(("method", "body"), [
    ("addTags", {"tags": "x"}), ("addTags", {}), ("addTags", {"tags": [""]}), ("addTags", {"tags": [1]}),
    ("removeTags", {"tags": "x"}), ("setProperties", {}), ("setProperties", {"properties": {"k": 1}}),
    ("setProperties", {"properties": ["k"]}),
])
def test_tags_and_properties_bad_input(engine: EngineClient, hello_job: dict[str, Any], method: str,
                                       body: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        engine.call(f"/{hello_job['id']}/{method}", body)


@pytest.mark.parametrize(("method", "body"), [
    ("describe", {}), ("addTags", {"tags": ["t"]}), ("removeTags", {"tags": ["t"]}),
    ("setProperties", {"properties": {"k": "v"}}), ("terminate", {}),
])
def test_missing_job_is_not_found(engine: EngineClient, method: str, body: dict[str, Any]) -> None:
    with pytest.raises(ResourceNotFound):
        engine.call(f"/{MISSING_JOB}/{method}", body)
    raw = requests.post(f"{engine.url}/{MISSING_JOB}/{method}", json=body, timeout=30,
                        headers={"Authorization": f"Bearer {engine.token}"})
    assert raw.status_code == 404
    assert raw.json()["error"]["type"] == "ResourceNotFound"


# -- /job/new, nonces and run input ------------------------------------------------------------------

def test_job_new_needs_a_job_token(engine: EngineClient) -> None:
    with pytest.raises(InvalidAuthentication):
        engine.call("/job/new", {"function": "main", "input": {}})


def test_run_nonce(engine: EngineClient) -> None:
    applet, nonce = build_sample(engine, "hello_bash"), f"nonce-{uuid.uuid4().hex}"
    body = {"project": engine.project, "input": {"who": "nonce"}, "nonce": nonce}
    first = engine.call(f"/{applet}/run", body)["id"]
    assert engine.call(f"/{applet}/run", body)["id"] == first
    with pytest.raises(InvalidInput):
        engine.call(f"/{applet}/run", {**body, "input": {"who": "someone else"}})
    with pytest.raises(InvalidInput):
        engine.call(f"/{applet}/run", {**body, "nonce": "n" * 129})
    assert done(engine, first)["output"] == {"greeting": "Hello, nonce!"}


@pytest.mark.parametrize(("given", "field", "reason", "expected"), [
    ({"n": 1, "label": "a", "bogus": 2}, "bogus", "unrecognized", None),
    ({"n": 1}, "label", "missing", "string"),
    ({"label": "a"}, "n", "missing", "int"),
    ({"n": "three", "label": "a"}, "n", "class", "int"),
    ({"n": 1.5, "label": "a"}, "n", "class", "int"),
    ({"n": True, "label": "a"}, "n", "class", "int"),
    ({"n": 1, "label": 7}, "label", "class", "string"),
    ({"n": 1, "label": "a", "color": "blue"}, "color", "choices", ["red", "green"]),
])
def test_run_input_errors(engine: EngineClient, given: dict[str, Any], field: str, reason: str,
                          expected: Any) -> None:
    applet = build_test_applet(engine, "typed_inputs")
    with pytest.raises(InvalidInput) as caught:
        engine.call(f"/{applet}/run", {"project": engine.project, "input": given})
    assert caught.value.details == {"field": field, "reason": reason, "expected": expected}


def test_user_run_needs_a_project(engine: EngineClient) -> None:
    with pytest.raises(InvalidInput):
        engine.call(f"/{build_test_applet(engine, 'typed_inputs')}/run", {"input": {"n": 1, "label": "a"}})


def test_build_twice_gives_the_same_applet(engine: EngineClient) -> None:
    folder = str(Path(__file__).parent / "applets" / "typed_inputs")
    first = engine.call("/runner/build", {"folder": folder})
    second = engine.call("/runner/build", {"folder": folder})
    assert second["id"] == first["id"] and second["id"].startswith("applet-")
    assert second["imageBuilt"] is False


# -- the tokens a job holds ---------------------------------------------------------------------------

def test_identity_token_verifies(engine: EngineClient, engine_home: Path, tokens_job: dict[str, Any]) -> None:
    token = tokens_job["output"]["identity"]
    assert token.count(".") == 2
    keys = IdentityKeys.load_or_create(engine_home)
    claims = keys.verify(token)
    assert claims["aud"] == "test.audience"
    assert claims["job_id"] == tokens_job["id"]
    assert claims["root_execution_id"] == tokens_job["id"]
    assert claims["project_id"] == engine.project
    assert claims["executable_id"] == build_test_applet(engine, "job_tokens")
    assert claims["sub"].startswith("launched_by;user-")
    assert claims["iat"] <= claims["exp"]
    published = requests.get(f"{engine.url}/runner/jwks", timeout=30)
    published.raise_for_status()
    assert published.json() == keys.jwks()


def test_job_token_is_revoked_when_the_job_ends(engine: EngineClient, tokens_job: dict[str, Any]) -> None:
    token = tokens_job["output"]["auth"]
    assert token and token != engine.token
    with EngineClient(engine.url, token) as as_job:
        with pytest.raises(InvalidAuthentication):
            as_job.call(f"/{tokens_job['id']}/describe", {})
        with pytest.raises(InvalidAuthentication):
            as_job.call(f"/{engine.project}/describe", {})


def test_job_cannot_read_another_project(engine: EngineClient) -> None:
    other = engine.call("/project/new", {"name": f"other-{uuid.uuid4().hex[:8]}"})["id"]
    theirs = upload_text(engine, "secret.txt", "not for that job\n", project=other)["$dnanexus_link"]
    ours = upload_text(engine, "ours.txt", "for the job\n")["$dnanexus_link"]
    job = done(engine, run_test_applet(engine, "read_other_project", {"own": ours, "other": theirs}))
    assert job["output"] == {"own_state": "closed", "other_error": "PermissionDenied"}


@pytest.mark.parametrize("detach", [False, True])
def test_a_job_runs_another_applet(engine: EngineClient, detach: bool) -> None:
    hello = build_sample(engine, "hello_bash")
    root = wait_terminal(engine, run_test_applet(engine, "run_other", {"applet": hello, "detach": detach}))
    assert root["state"] == "done", (root.get("failureReason"), root.get("failureMessage"))
    child = wait_terminal(engine, root["output"]["child"])
    assert child["state"] == "done" and child["output"] == {"greeting": "Hello, child!"}
    assert child["project"] == root["project"]  # inherited from the invoking job
    if detach:
        assert child["rootExecution"] == child["id"] and child["parentJob"] is None
        assert child["detachedFrom"] == root["id"]
    else:
        assert child["rootExecution"] == root["id"] and child["parentJob"] == root["id"]
        assert child["workspace"] != root["workspace"]
        assert root["output"]["greeting"] == "Hello, child!"


def test_describe_names_the_image_and_whether_it_is_a_stand_in(engine: EngineClient) -> None:
    import docker

    job = wait_terminal(engine, run_sample(engine, "hello_bash", {"who": "image"}))
    image = job["runnerImage"]
    client = docker.from_env()
    try:
        labels = client.images.get(image["image"]).labels or {}
    finally:
        client.close()
    assert image["standIn"] is (labels.get("runner.standin") == "true")
    if image["standIn"]:
        assert f"Debian {labels['runner.standin.suite']} stand-in" in image["note"]
