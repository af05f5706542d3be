"""Image-build pieces that need no Docker: apt mirrors, wheel platform tags and markers, release checks."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path
from typing import cast

import docker
import pytest

from runner.build import _rootfs
from runner.build._rootfs import deb822_uris, debian_mirror, one_line_uris, packages_key, tarball_path
from runner.build.images import RELEASES, STANDIN_SUITES, prepare_images, runtime_image_tag, standin_tag
from runner.build.wheels import WheelTarget, platform_tags, requirements_for
from runner.errors import EnvironmentProblem, UsageError

DEB822 = """\
Types: deb
# a comment line
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://source.example/debian
Suites: bookworm
"""

ONE_LINE = """\
# deb http://commented.example/debian bookworm main
deb-src http://source.example/debian bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian/ bookworm main
deb http://one.example/debian-security bookworm-security main
"""


def test_deb822_sources_give_deb_uris_only() -> None:
    assert deb822_uris(DEB822) == ["http://mirror.example/debian", "http://mirror.example/debian-security"]


def test_one_line_sources_skip_comments_sources_and_options() -> None:
    assert one_line_uris(ONE_LINE) == ["http://one.example/debian/", "http://one.example/debian-security"]


def test_mirror_is_read_from_the_host_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNNER_DEBIAN_MIRROR", raising=False)
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(DEB822)
    legacy = tmp_path / "sources.list"
    legacy.write_text(ONE_LINE)
    assert debian_mirror([deb822]) == "http://mirror.example/debian"
    assert debian_mirror([legacy, deb822]) == "http://one.example/debian"
    assert debian_mirror([tmp_path / "missing.sources"]) is None


def test_mirror_environment_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_DEBIAN_MIRROR", "http://override.example/debian/")
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(DEB822)
    assert debian_mirror([deb822]) == "http://override.example/debian"


def test_tarball_name_follows_suite_and_package_selection(tmp_path: Path) -> None:
    assert packages_key(["jq", "curl"]) == packages_key(["curl", "jq"]) != packages_key(["curl"])
    path = tarball_path(tmp_path, "trixie", ["curl", "jq"])
    assert path.parent == tmp_path / "rootfs" and path.name.startswith("debian-trixie-minbase-")


def test_every_release_has_a_stand_in_suite_and_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNNER_IMAGE_PREFIX", raising=False)
    assert set(STANDIN_SUITES) == set(RELEASES)
    assert STANDIN_SUITES == {"20.04": "bullseye", "22.04": "bookworm", "24.04": "trixie"}
    assert standin_tag("22.04") == "applet-runner/base:ubuntu-22.04"
    assert runtime_image_tag("20.04") == "applet-runner/runtime:ubuntu-20.04"
    # Tests build their own images beside the shared ones under a prefix of their own.
    monkeypatch.setenv("RUNNER_IMAGE_PREFIX", "mine/")
    assert (standin_tag("24.04"), runtime_image_tag("24.04")) == ("mine/base:ubuntu-24.04", "mine/runtime:ubuntu-24.04")


def test_platform_tags_stay_within_the_oldest_release_glibc() -> None:
    target = WheelTarget(python_version="3.13", machine="x86_64", glibc="2.41")
    tags = platform_tags(target)
    assert target.python_tag == "cp313"
    assert tags[0] == "manylinux_2_28_x86_64"
    assert "manylinux2014_x86_64" in tags and "manylinux1_x86_64" in tags
    assert platform_tags(WheelTarget("3.12", "aarch64", "2.27"))[0] == "manylinux_2_27_aarch64"
    assert "manylinux1_aarch64" not in platform_tags(WheelTarget("3.12", "aarch64", "2.39"))


def test_unknown_release_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="18.04"):
        prepare_images(cast(docker.DockerClient, None), "18.04", tmp_path, progress=lambda message: None)


def test_a_kept_tarball_is_reused_without_debootstrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = tarball_path(tmp_path, "trixie", ["curl"])
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"")
    monkeypatch.setattr(_rootfs, "ensure_debootstrap", _must_not_run)
    messages: list[str] = []
    assert _rootfs.build_tarball(tmp_path, "trixie", ["curl"], messages.append) == kept
    assert messages == [f"reusing the trixie root filesystem kept at {kept}"]


def test_a_stand_in_needs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(EnvironmentProblem, match="needs root") as caught:
        _rootfs.build_tarball(tmp_path, "trixie", ["curl"], lambda message: None)
    assert "docker load" in caught.value.fix


def test_an_unknown_suite_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/sbin/{name}")
    monkeypatch.setattr(_rootfs, "DEBOOTSTRAP_SCRIPTS", tmp_path)
    with pytest.raises(EnvironmentProblem, match="does not know the Debian suite 'forky'"):
        _rootfs.ensure_debootstrap("forky", lambda message: None)


def _must_not_run(*args: object) -> None:
    raise AssertionError(f"unexpected call {args!r}")


def _wheel(tmp_path: Path, requires: list[str]) -> Path:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    metadata = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    metadata += "".join(f"Requires-Dist: {line}\n" for line in requires)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo/__init__.py", "")
        archive.writestr("demo-1.0.dist-info/METADATA", metadata)
    return path


def test_requirements_are_evaluated_for_the_image_interpreter(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path,
        [
            'argcomplete>=3.5.2; python_version >= "3.12"',
            'argcomplete>=2.0.0; python_version >= "3.10"',
            'argcomplete<2.0.0,>=1.9.4; python_version < "3.10"',
            'pyreadline3==3.5.6; sys_platform == "win32"',
            "psutil<7.3.0,>=5.9.3",
            'pandas==2.2.3; extra == "pandas"',
        ],
    )

    def target(version: str) -> WheelTarget:
        markers = (
            ("python_version", version),
            ("python_full_version", f"{version}.1"),
            ("sys_platform", "linux"),
        )
        return WheelTarget(version, "x86_64", "2.31", markers)

    assert requirements_for(wheel, target("3.9")) == ["argcomplete<2.0.0,>=1.9.4", "psutil<7.3.0,>=5.9.3"]
    [argcomplete, psutil] = requirements_for(wheel, target("3.13"))
    assert argcomplete.startswith("argcomplete") and ">=3.5.2" in argcomplete and ">=2.0.0" in argcomplete
    assert psutil == "psutil<7.3.0,>=5.9.3"
