"""`runner images prepare` and `runner images list` against the local Docker engine."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from runner.build.images import DEFAULT_RELEASE, runtime_image_tag
from runner.cli.images import images

pytestmark = pytest.mark.docker


def test_prepare_then_list() -> None:
    prepared = CliRunner().invoke(images, ["prepare"])
    assert prepared.exit_code == 0, prepared.output
    tag = runtime_image_tag(DEFAULT_RELEASE)
    assert prepared.stdout.startswith(f"{tag}: ")
    assert "dxpy 0.417.1" in prepared.stdout

    again = CliRunner().invoke(images, ["prepare", "--release", DEFAULT_RELEASE])
    assert again.exit_code == 0
    assert again.stdout.startswith(f"{tag}: up to date")
    assert "building" not in again.output and "pull" not in again.output

    listed = CliRunner().invoke(images, ["list"])
    assert listed.exit_code == 0
    [row] = [line for line in listed.stdout.splitlines() if line.startswith(tag)]
    assert "present" in row


def test_prepare_rejects_an_unknown_release() -> None:
    result = CliRunner().invoke(images, ["prepare", "--release", "18.04"])
    assert result.exit_code == 2
    assert "18.04" in result.output
