"""The base and runtime images, built (or found) for real on the local Docker engine.

These share the default $RUNNER_HOME and the engine's images on purpose: the images are built once per
machine (CI runs `runner images prepare` first), and every later test finds them current.
"""

from __future__ import annotations

import json
import subprocess

import docker
import pytest

from runner.build import images as images_module
from runner.build._base import image_prefix
from runner.build.images import (
    DEFAULT_RELEASE,
    DXPY_VERSION,
    STANDIN_SUITES,
    PreparedImages,
    describe_images,
    prepare_images,
    runtime_image_tag,
)
from runner.config import ensure_runner_home

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def prepared(client: docker.DockerClient) -> PreparedImages:
    return prepare_images(client, DEFAULT_RELEASE, ensure_runner_home(), progress=lambda message: None)


def run_in(client: docker.DockerClient, image: str, script: str) -> str:
    output = client.containers.run(image, ["bash", "-c", script], remove=True, stdout=True, stderr=True)
    assert isinstance(output, bytes)
    return output.decode()


def test_prepare_gives_the_runtime_image_of_the_default_release(prepared: PreparedImages) -> None:
    assert prepared.release == DEFAULT_RELEASE
    prefix = image_prefix()  # applet-runner, unless RUNNER_IMAGE_PREFIX says otherwise
    assert prepared.runtime_tag == runtime_image_tag(DEFAULT_RELEASE) == f"{prefix}/runtime:ubuntu-24.04"
    assert prepared.runtime_id.startswith("sha256:")
    assert prepared.base.image_id.startswith("sha256:")
    if prepared.base.stand_in:
        assert prepared.base.ref == f"{prefix}/base:ubuntu-24.04"
        assert prepared.base.suite == STANDIN_SUITES[DEFAULT_RELEASE] == "trixie"
    else:
        assert prepared.base.ref == "ubuntu:24.04"


def test_system_python3_imports_the_pinned_dxpy(
    client: docker.DockerClient, prepared: PreparedImages
) -> None:
    script = "/usr/bin/python3 -c 'import dxpy; print(dxpy.TOOLKIT_VERSION)'"
    assert run_in(client, prepared.runtime_tag, script).strip() == DXPY_VERSION
    version = run_in(
        client, prepared.runtime_tag, "python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'"
    )
    assert version.strip() == prepared.python_version


def test_helpers_and_tools_are_on_path(client: docker.DockerClient, prepared: PreparedImages) -> None:
    script = (
        "set -e; for tool in dx-jobutil-add-output dx-download-all-inputs dx-upload-all-outputs "
        "dx-jobutil-new-job jq curl ps pip3; do command -v $tool; done; "
        "dx-jobutil-add-output --help >/dev/null; dx-download-all-inputs --help >/dev/null; "
        "jq --version; curl --version >/dev/null; echo ok"
    )
    output = run_in(client, prepared.runtime_tag, script)
    assert output.strip().endswith("ok")
    assert "/dx-jobutil-add-output" in output


def test_add_output_helper_writes_job_output(client: docker.DockerClient, prepared: PreparedImages) -> None:
    script = (
        "set -e; export HOME=/tmp/job; mkdir -p $HOME; cd $HOME; "
        "dx-jobutil-add-output answer 42 --class int; dx-jobutil-add-output greeting hello; "
        "cat job_output.json"
    )
    assert json.loads(run_in(client, prepared.runtime_tag, script)) == {"answer": 42, "greeting": "hello"}


def test_second_prepare_builds_nothing(
    client: docker.DockerClient, prepared: PreparedImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"prepare did work when everything was current: {args!r}")

    monkeypatch.setattr(images_module, "obtain_base", must_not_run)
    monkeypatch.setattr(images_module, "build_runtime", must_not_run)
    monkeypatch.setattr(subprocess, "run", must_not_run)
    messages: list[str] = []
    again = prepare_images(client, DEFAULT_RELEASE, ensure_runner_home(), progress=messages.append)
    assert messages == []
    assert again.built is False
    assert (again.runtime_id, again.base) == (prepared.runtime_id, prepared.base)


def test_describe_images_reports_base_and_runtime(
    client: docker.DockerClient, prepared: PreparedImages
) -> None:
    statuses = {(status.release, status.kind): status for status in describe_images(client)}
    assert len(statuses) == 6
    base = statuses[(DEFAULT_RELEASE, "base")]
    runtime = statuses[(DEFAULT_RELEASE, "runtime")]
    assert base.tag == prepared.base.ref and base.present
    assert runtime.tag == prepared.runtime_tag and runtime.present and runtime.up_to_date is True
    assert base.stand_in is runtime.stand_in is prepared.base.stand_in
    assert base.suite == runtime.suite == prepared.base.suite
    assert runtime.size and runtime.size > 0 and runtime.created


def test_runtime_image_carries_its_labels(client: docker.DockerClient, prepared: PreparedImages) -> None:
    labels = client.images.get(prepared.runtime_tag).labels
    assert labels["runner.kind"] == "runtime"
    assert labels["runner.dxpy"] == DXPY_VERSION
    assert labels["runner.standin"] == ("true" if prepared.base.stand_in else "false")
    if prepared.base.stand_in:
        assert labels["runner.standin.suite"] == prepared.base.suite
        assert client.images.get(prepared.base.ref).labels["runner.standin"] == "true"
