"""The runtime layer: the base plus the tools jobs expect and a pinned dxpy installed from the wheel cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import docker

from runner.build import wheels
from runner.build._base import (
    LABEL_KIND,
    LABEL_RELEASE,
    LABEL_STANDIN,
    LABEL_SUITE,
    BaseImage,
    runtime_packages,
)
from runner.build._docker import build_image, run_in_image
from runner.errors import ImageBuildError

Progress = Callable[[str], None]
RECIPE = "runtime.Dockerfile"
# Files of the recipe folder copied into the image beside the Dockerfile (it says where each goes).
RECIPE_FILES = ("dx-dstat",)
LABEL_RECIPE = "runner.recipe"
LABEL_DXPY = "runner.dxpy"
LABEL_PYTHON = "runner.python"
LABEL_BASE = "runner.base"
# `name=version` of each apt package the layer was asked for, space-separated: what doctor and describe list.
LABEL_PACKAGES = "runner.packages"
_QUERY = "${Package}=${Version}\\n"


def installed_versions(client: docker.DockerClient, image: str, packages: tuple[str, ...]) -> str:
    """`name=version` of `packages` as dpkg has them in `image`, space-separated; a missing one is an error."""
    output = run_in_image(client, image, ["dpkg-query", "-W", f"-f={_QUERY}", *packages],
                          "listing the image's system packages")
    found = dict(line.split("=", 1) for line in output.split() if "=" in line)
    missing = [package for package in packages if not found.get(package)]
    if missing:
        raise ImageBuildError(f"the runtime layer lacks the system packages {', '.join(missing)}")
    return " ".join(f"{package}={found[package]}" for package in packages)


def recipe_text() -> str:
    """The Dockerfile of the runtime layer, as packaged."""
    return (resources.files("runner.build") / "recipes" / RECIPE).read_text(encoding="utf-8")


def recipe_file(name: str) -> bytes:
    """One of the files the runtime layer's Dockerfile copies into the image, as packaged."""
    return (resources.files("runner.build") / "recipes" / name).read_bytes()


def recipe_hash(base_id: str, dxpy_version: str, packages: tuple[str, ...]) -> str:
    """What the runtime layer is made of: Dockerfile and its files, apt packages, dxpy version, base ID."""
    files = [recipe_file(name).decode("utf-8") for name in RECIPE_FILES]
    parts = [recipe_text(), *files, " ".join(packages), dxpy_version, base_id]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def build_runtime(
    client: docker.DockerClient,
    base: BaseImage,
    release: str,
    tag: str,
    home: Path,
    dxpy_version: str,
    progress: Progress,
) -> tuple[str, str]:
    """Build the runtime layer on `base` as `tag`; its image ID and the python3 version inside."""
    packages = runtime_packages(release)
    apt_args = {"BASE": base.ref, "APT_PACKAGES": " ".join(packages)}
    with tempfile.TemporaryDirectory(prefix="runtime-", dir=_scratch_root(home)) as scratch:
        context = Path(scratch)
        (context / "Dockerfile").write_text(recipe_text(), encoding="utf-8")
        for name in RECIPE_FILES:
            (context / name).write_bytes(recipe_file(name))
        (context / "wheels").mkdir()
        progress(f"system packages on {base.ref}: {' '.join(packages)}")
        os_image = build_image(
            client,
            context,
            what=f"installing system packages on {base.ref}",
            buildargs=apt_args,
            target="os",
            progress=progress,
        )
        target = wheels.detect_target(client, os_image)
        versions = installed_versions(client, os_image, packages)
        progress(f"the image's python3 is {target.python_version} ({target.machine}, glibc {target.glibc})")
        for wheel in wheels.ensure_wheels(home, target, dxpy_version, progress):
            _link_or_copy(wheel, context / "wheels" / wheel.name)
        labels = {
            LABEL_KIND: "runtime",
            LABEL_RELEASE: release,
            LABEL_STANDIN: "true" if base.stand_in else "false",
            LABEL_SUITE: base.suite or "",
            LABEL_BASE: base.ref,
            LABEL_DXPY: dxpy_version,
            LABEL_PYTHON: target.python_version,
            LABEL_RECIPE: recipe_hash(base.image_id, dxpy_version, packages),
            LABEL_PACKAGES: versions,
        }
        progress(f"installing dxpy {dxpy_version} from the wheel cache into {tag}")
        image_id = build_image(
            client,
            context,
            what=f"building {tag}",
            tag=tag,
            labels=labels,
            buildargs={**apt_args, "DXPY_VERSION": dxpy_version},
            progress=progress,
        )
    return image_id, target.python_version


def _scratch_root(home: Path) -> Path:
    folder = home / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
