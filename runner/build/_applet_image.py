"""The image an applet's jobs run in: its release's runtime image, plus its execDepends when it has any.

    applet-runner/applet:<hash>   FROM applet-runner/runtime:ubuntu-<release>
                                  + apt execDepends (apt-get install --yes --no-install-recommends name[=version])
                                  + pip/pip3 execDepends, from wheels the host downloaded into $RUNNER_HOME/wheels

The tag hashes the release, the runtime image ID and the execDepends, so applets that differ only in code
share an image, a rebuild with the tag present makes no Docker build, and a new runtime image means new
applet images. execDepends are installed whatever their `stages`, so every entry point has them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import docker

from runner.build import wheels
from runner.build._base import LABEL_KIND, LABEL_RELEASE
from runner.build._docker import build_image, get_image, tail
from runner.build._locks import exclusive
from runner.build.images import PreparedImages
from runner.errors import EnvironmentProblem, ImageBuildError, RunnerError
from runner.spec.run_spec import ExecDepend

Progress = Callable[[str], None]
REPOSITORY = "applet-runner/applet"
# Part of the tag: changing the Dockerfile below must not reuse images made by the old one.
RECIPE_VERSION = "1"
LABEL_RUNTIME = "runner.runtime"
LABEL_DEPENDS = "runner.exec-depends"
SUPPORTED = ("apt", "pip", "pip3")
_APT_MISSING = (
    re.compile(r"Unable to locate package (\S+)"),
    re.compile(r"Package '?([^' ]+)'? has no installation candidate"),
)
_APT_VERSION = re.compile(r"Version '([^']*)' for '([^']+)' was not found")
_APT_OFFLINE = re.compile(r"Temporary failure resolving|Could not resolve|Failed to fetch|Network is unreachable")


@dataclass(frozen=True, slots=True)
class AppletImage:
    """The image an applet runs in; `built` says whether this call ran a Docker build."""

    tag: str
    image_id: str
    built: bool
    notes: tuple[str, ...] = ()


def _requirement(depend: ExecDepend) -> str:
    if depend.package_manager == "apt":
        return f"{depend.name}={depend.version}" if depend.version else depend.name
    return f"{depend.name}=={depend.version}" if depend.version else depend.name


def image_tag(release: str, runtime_id: str, depends: Sequence[ExecDepend]) -> str:
    """The tag of the applet image for these execDepends on this runtime image (stages do not matter)."""
    packages = sorted({(d.package_manager.replace("pip3", "pip"), _requirement(d)) for d in depends})
    key = json.dumps([RECIPE_VERSION, release, runtime_id, packages], separators=(",", ":"))
    return f"{REPOSITORY}:{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def dockerfile(base: str, apt: Sequence[str], pip: Sequence[str]) -> str:
    """The Dockerfile installing `apt` packages and `pip` requirements (from ./wheels) on `base`."""
    lines = [f"FROM {base}"]
    if apt:
        lines.append(
            "RUN export DEBIAN_FRONTEND=noninteractive && apt-get update -q && "
            f"apt-get install --yes --no-install-recommends {shlex.join(apt)} && rm -rf /var/lib/apt/lists/*"
        )
    if pip:
        lines.append("COPY wheels/ /tmp/runner-wheels/")
        lines.append(
            "RUN python3 -m pip install --no-cache-dir --no-index --find-links /tmp/runner-wheels "
            f"{shlex.join(pip)} && rm -rf /tmp/runner-wheels"
        )
    return "\n".join(lines) + "\n"


def _notes(depends: Sequence[ExecDepend]) -> tuple[str, ...]:
    staged = sorted(d.name for d in depends if d.stages is not None)
    if not staged:
        return ()
    return (f"execDepends with stages are installed for every entry point: {', '.join(staged)}",)


def applet_image(
    client: docker.DockerClient, prepared: PreparedImages, depends: Sequence[ExecDepend], home: Path,
    progress: Progress,
) -> AppletImage:
    """The image for an applet with `depends` on `prepared` runtime; built only when its tag is missing."""
    if not depends:
        return AppletImage(prepared.runtime_tag, prepared.runtime_id, built=False)
    unsupported = [f"{d.name} ({d.package_manager})" for d in depends if d.package_manager not in SUPPORTED]
    if unsupported:
        raise ImageBuildError(
            f"execDepends of package managers other than apt and pip are not installed by this runner: "
            f"{', '.join(unsupported)}; install them from the job's code (with access.network), or ship them "
            "built in resources/"
        )
    tag = image_tag(prepared.release, prepared.runtime_id, depends)
    notes = _notes(depends)
    found = get_image(client, tag)
    if found is not None:
        return AppletImage(tag, str(found.id), built=False, notes=notes)
    with exclusive(home / "applet-images.lock"):
        found = get_image(client, tag)
        if found is not None:
            return AppletImage(tag, str(found.id), built=False, notes=notes)
        return AppletImage(tag, _build(client, prepared, depends, tag, home, progress), built=True, notes=notes)


def _build(
    client: docker.DockerClient, prepared: PreparedImages, depends: Sequence[ExecDepend], tag: str, home: Path,
    progress: Progress,
) -> str:
    apt = [_requirement(d) for d in depends if d.package_manager == "apt"]
    pip = [_requirement(d) for d in depends if d.package_manager != "apt"]
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="applet-image-", dir=home / "tmp") as scratch:
        context = Path(scratch)
        (context / "wheels").mkdir()
        if pip:
            target = wheels.detect_target(client, prepared.runtime_tag)
            for wheel in wheels.download_packages(home, target, pip, progress):
                shutil.copyfile(wheel, context / "wheels" / wheel.name)
        (context / "Dockerfile").write_text(dockerfile(prepared.runtime_tag, apt, pip), encoding="utf-8")
        progress(f"building {tag} with execDepends {' '.join(apt + pip)}")
        labels = {
            LABEL_KIND: "applet",
            LABEL_RELEASE: prepared.release,
            LABEL_RUNTIME: prepared.runtime_id,
            LABEL_DEPENDS: json.dumps({"apt": apt, "pip": pip}),
        }
        try:
            return build_image(client, context, what=f"installing execDepends into {tag}", tag=tag,
                               labels=labels, buildargs={}, progress=progress)
        except ImageBuildError as exc:
            raise _name_the_package(exc, apt, pip, prepared) from exc


def _name_the_package(exc: ImageBuildError, apt: Sequence[str], pip: Sequence[str],
                      prepared: PreparedImages) -> RunnerError:
    text = str(exc)
    where = f"Ubuntu {prepared.release}" + (f" (here its stand-in, Debian {prepared.base.suite})"
                                            if prepared.base.stand_in else "")
    shown = [line for line in text.splitlines() if line.startswith("    | ")]
    lines = "apt's last lines:\n" + ("\n".join(shown) if shown else tail(text.splitlines()))
    version = _APT_VERSION.search(text)
    if version:
        return ImageBuildError(f"execDepends: apt package {version.group(2)} has no version {version.group(1)} in "
                               f"{where}; drop the version or pick one `apt-cache policy {version.group(2)}` lists; "
                               f"{lines}")
    for pattern in _APT_MISSING:
        match = pattern.search(text)
        if match:
            return ImageBuildError(f"execDepends: apt package {match.group(1)} does not exist in {where}; check its "
                                   f"name (`apt-cache search` on {where} finds packages); {lines}")
    if _APT_OFFLINE.search(text):
        return EnvironmentProblem(f"installing the apt execDepends {' '.join(apt)} needs the release's package "
                                  f"mirror, which could not be reached; {lines}",
                                  "connect this machine to the mirror once: the applet image is kept afterwards")
    if "pip install" in text:
        return ImageBuildError(f"installing pip packages {', '.join(pip)} failed: {text}")
    return ImageBuildError(f"installing execDepends {', '.join([*apt, *pip])} failed: {text}")
