"""The base image of a release: a local `ubuntu:<release>`, a pulled one, or the runner's Debian stand-in."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker

from runner.build import _rootfs
from runner.build._docker import get_image, labels_of, pull_with_limit, remove_quietly

Progress = Callable[[str], None]
PULL_TIMEOUT_S = 20
# Stand-ins track Ubuntu's era: a Debian release of about the same age (glibc, python3, toolchains).
STANDIN_SUITES = {"20.04": "bullseye", "22.04": "bookworm", "24.04": "trixie"}
# What the runtime layer needs from apt. Stand-ins are built with these already inside, so that
# building the runtime layer on them needs no network.
RUNTIME_PACKAGES = ("bash", "python3", "coreutils", "curl", "jq", "ca-certificates", "procps")
# What a platform worker has that job scripts call without declaring it (docs/execution-environment.md
# says which, and what is left out and why).
WORKER_PACKAGES = (
    "file", "bc", "gawk", "zip", "unzip", "wget", "pigz", "xz-utils", "bzip2", "gzip", "tar", "less",
    "make", "gcc", "libc6-dev", "python3-pip", "python3-venv", "time",
)
# pip needs distutils on Pythons before 3.10 (20.04 has 3.8, its stand-in 3.9); Debian ships it apart.
EXTRA_PACKAGES = {"20.04": ("python3-distutils",)}

LABEL_KIND = "runner.kind"
LABEL_STANDIN = "runner.standin"
LABEL_SUITE = "runner.standin.suite"
LABEL_PACKAGES = "runner.standin.packages"
LABEL_RELEASE = "runner.release"
# The images' repositories start with this (default `applet-runner`): a test can build its own images
# beside the shared ones without replacing them.
PREFIX_ENV = "RUNNER_IMAGE_PREFIX"
DEFAULT_PREFIX = "applet-runner"


@dataclass(frozen=True, slots=True)
class BaseImage:
    """What a release's runtime layer is built on: a real ubuntu image, or the runner's Debian stand-in."""

    ref: str
    image_id: str
    stand_in: bool
    suite: str | None


def runtime_packages(release: str) -> tuple[str, ...]:
    """The apt packages the runtime layer of `release` has: what it needs, then the worker's tools."""
    return RUNTIME_PACKAGES + EXTRA_PACKAGES.get(release, ()) + WORKER_PACKAGES


def image_prefix() -> str:
    """The first part of the runner's image repositories: `$RUNNER_IMAGE_PREFIX`, else `applet-runner`."""
    return os.environ.get(PREFIX_ENV, "").strip().strip("/") or DEFAULT_PREFIX


def ubuntu_ref(release: str) -> str:
    """The official image of an Ubuntu release, e.g. `ubuntu:24.04`."""
    return f"ubuntu:{release}"


def standin_tag(release: str) -> str:
    """The tag of the runner's stand-in for an Ubuntu release, e.g. `applet-runner/base:ubuntu-24.04`."""
    return f"{image_prefix()}/base:ubuntu-{release}"


def find_base(client: docker.DockerClient, release: str) -> BaseImage | None:
    """The base already on this engine: `ubuntu:<release>` first, else a current stand-in; None if neither."""
    ubuntu = get_image(client, ubuntu_ref(release))
    if ubuntu is not None:
        return BaseImage(ubuntu_ref(release), str(ubuntu.id), stand_in=False, suite=None)
    standin = get_image(client, standin_tag(release))
    if standin is not None:
        labels = labels_of(standin)
        if labels.get(LABEL_PACKAGES) == _rootfs.packages_key(runtime_packages(release)):
            return BaseImage(
                standin_tag(release), str(standin.id), stand_in=True, suite=labels.get(LABEL_SUITE)
            )
    return None


def obtain_base(client: docker.DockerClient, release: str, home: Path, progress: Progress) -> BaseImage:
    """The base for `release`, pulling `ubuntu:<release>` or building a stand-in when the engine has none."""
    found = find_base(client, release)
    if found is not None:
        return found
    progress(
        f"no local {ubuntu_ref(release)} image; trying to pull it (at most {PULL_TIMEOUT_S} s of silence)"
    )
    why_not = pull_with_limit(client, "ubuntu", release, PULL_TIMEOUT_S)
    if not why_not:
        pulled = find_base(client, release)
        if pulled is not None and not pulled.stand_in:
            progress(f"pulled {pulled.ref}")
            return pulled
        why_not = "the pull finished but the image is not there"
    suite = STANDIN_SUITES[release]
    progress(f"cannot pull {ubuntu_ref(release)} ({why_not.splitlines()[0][:200]})")
    progress(f"building a stand-in for Ubuntu {release} from Debian {suite} instead")
    tarball = _rootfs.build_tarball(home, suite, runtime_packages(release), progress)
    tag = standin_tag(release)
    replaced = get_image(client, tag)
    progress(f"importing {tarball.name} as {tag}")
    labels = {
        LABEL_KIND: "base",
        LABEL_STANDIN: "true",
        LABEL_SUITE: suite,
        LABEL_PACKAGES: _rootfs.packages_key(runtime_packages(release)),
        LABEL_RELEASE: release,
    }
    image_id = _rootfs.import_tarball(client, tarball, tag, labels)
    if replaced is not None and replaced.id != image_id:
        remove_quietly(client, str(replaced.id))
    return BaseImage(tag, image_id, stand_in=True, suite=suite)
