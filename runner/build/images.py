"""The Docker images jobs run in, per Ubuntu release: a base, and a runtime layer with dxpy on top.

    base     ubuntu:<release> when the engine has it or can pull it; otherwise the runner's stand-in
             applet-runner/base:ubuntu-<release>, a Debian root filesystem of the same era made with
             debootstrap (labels runner.standin=true, runner.standin.suite=<suite>)
    runtime  applet-runner/runtime:ubuntu-<release>: bash, python3, coreutils, curl, jq, ca-certificates,
             procps, the worker's standard tools (file, bc, gawk, zip, make, gcc... see _base.WORKER_PACKAGES and
             docs/execution-environment.md), and dxpy==DXPY_VERSION with its dx-* helpers, installed from
             $RUNNER_HOME/wheels; label runner.packages lists each apt package as name=version

`RUNNER_IMAGE_PREFIX` replaces `applet-runner` in the base and runtime tags (tests build their own beside
the shared ones).

Each runtime image is labelled with a recipe hash (its Dockerfile, apt packages, dxpy version and base
image ID), so `prepare_images` knows when there is nothing to do.

A pull is tried only when the engine has neither `ubuntu:<release>` nor a stand-in; a stand-in stays in
use until someone puts a real image there (`docker pull` or `docker load`), which the next prepare then
notices (the base image ID is in the recipe hash) and builds on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.models.images import Image

from runner.build._base import (
    LABEL_STANDIN,
    LABEL_SUITE,
    STANDIN_SUITES,
    BaseImage,
    find_base,
    image_prefix,
    obtain_base,
    runtime_packages,
    standin_tag,
    ubuntu_ref,
)
from runner.build._docker import get_image, labels_of, remove_quietly
from runner.build._locks import exclusive
from runner.build._runtime import LABEL_PACKAGES, LABEL_PYTHON, LABEL_RECIPE, build_runtime, recipe_hash
from runner.errors import UsageError
from runner.spec import releases

RELEASES: tuple[str, ...] = releases.RELEASES
DEFAULT_RELEASE = "24.04"
DXPY_VERSION = "0.417.1"

__all__ = [
    "DEFAULT_RELEASE",
    "DXPY_VERSION",
    "RELEASES",
    "STANDIN_SUITES",
    "BaseImage",
    "ImageStatus",
    "PreparedImages",
    "describe_images",
    "prepare_images",
    "runtime_image_tag",
    "stand_in_suite",
    "standin_tag",
]


@dataclass(frozen=True, slots=True)
class PreparedImages:
    """The images of one release, ready for jobs; `built` says whether this call had to build anything."""

    release: str
    base: BaseImage
    runtime_tag: str
    runtime_id: str
    python_version: str
    built: bool


@dataclass(frozen=True, slots=True)
class ImageStatus:
    """One of the runner's images as `runner doctor` shows it; `size` in bytes, `created` ISO 8601."""

    tag: str
    kind: str
    release: str
    present: bool
    stand_in: bool
    suite: str | None
    size: int | None
    created: str | None
    up_to_date: bool | None
    # A runtime image's apt packages as `name=version`, recorded at its build (none for older images).
    packages: tuple[str, ...] = ()


def stand_in_suite(client: docker.DockerClient | None, image_ref: str) -> str | None:
    """The Debian suite an image was built from when it descends from a stand-in base, else None.

    Without a Docker `client` (the local backend) there is no image, and no stand-in.
    """
    if client is None:
        return None
    image = get_image(client, image_ref)
    labels = labels_of(image) if image is not None else {}
    return (labels.get(LABEL_SUITE) or "debian") if labels.get(LABEL_STANDIN) == "true" else None


def runtime_image_tag(release: str) -> str:
    """The tag of a release's runtime image, e.g. `applet-runner/runtime:ubuntu-24.04`."""
    return f"{image_prefix()}/runtime:ubuntu-{release}"


def prepare_images(
    client: docker.DockerClient, release: str, home: Path, progress: Callable[[str], None]
) -> PreparedImages:
    """Make sure the base and runtime images of `release` exist and are current; quick when they are."""
    if release not in RELEASES:
        raise UsageError(f"unknown Ubuntu release {release!r}; choose one of {', '.join(RELEASES)}")
    ready = _current(client, release)
    if ready is not None:
        return ready
    with exclusive(home / "images.lock"):
        # Another prepare may have finished while we waited for the lock.
        ready = _current(client, release)
        if ready is not None:
            return ready
        base = obtain_base(client, release, home, progress)
        tag = runtime_image_tag(release)
        progress(
            f"building {tag} on {base.ref}"
            + (f" (stand-in from Debian {base.suite})" if base.stand_in else "")
        )
        replaced = get_image(client, tag)
        image_id, python_version = build_runtime(client, base, release, tag, home, DXPY_VERSION, progress)
        if replaced is not None and replaced.id != image_id:
            remove_quietly(client, str(replaced.id))
        progress(f"{tag} is ready")
        return PreparedImages(release, base, tag, image_id, python_version, built=True)


def _current(client: docker.DockerClient, release: str) -> PreparedImages | None:
    base = find_base(client, release)
    if base is None:
        return None
    tag = runtime_image_tag(release)
    runtime = get_image(client, tag)
    if runtime is None:
        return None
    labels = labels_of(runtime)
    if labels.get(LABEL_RECIPE) != recipe_hash(base.image_id, DXPY_VERSION, runtime_packages(release)):
        return None
    return PreparedImages(release, base, tag, str(runtime.id), labels.get(LABEL_PYTHON, ""), built=False)


def describe_images(client: docker.DockerClient) -> list[ImageStatus]:
    """Every release's base and runtime image: present, stand-in or not, whether the runtime is current."""
    statuses: list[ImageStatus] = []
    for release in RELEASES:
        base = find_base(client, release)
        base_tag = base.ref if base is not None else standin_tag(release)
        base_image = get_image(client, base.image_id) if base is not None else None
        statuses.append(_status(base_tag, "base", release, base_image, None))
        runtime = get_image(client, runtime_image_tag(release))
        current = None
        if runtime is not None:
            expected = (
                recipe_hash(base.image_id, DXPY_VERSION, runtime_packages(release))
                if base is not None
                else None
            )
            current = labels_of(runtime).get(LABEL_RECIPE) == expected
        statuses.append(_status(runtime_image_tag(release), "runtime", release, runtime, current))
    return statuses


def _status(tag: str, kind: str, release: str, image: Image | None, up_to_date: bool | None) -> ImageStatus:
    if image is None:
        return ImageStatus(tag, kind, release, False, False, None, None, None, None)
    labels = labels_of(image)
    stand_in = labels.get(LABEL_STANDIN) == "true" and tag != ubuntu_ref(release)
    return ImageStatus(
        tag=tag,
        kind=kind,
        release=release,
        present=True,
        stand_in=stand_in,
        suite=(labels.get(LABEL_SUITE) or None) if stand_in else None,
        size=int(image.attrs.get("Size") or 0),
        created=str(image.attrs.get("Created") or "") or None,
        up_to_date=up_to_date,
        packages=tuple(labels.get(LABEL_PACKAGES, "").split()),
    )
