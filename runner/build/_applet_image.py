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
from runner.build._docker import build_image, get_image
from runner.build._locks import exclusive
from runner.build.images import PreparedImages
from runner.errors import EnvironmentProblem, ImageBuildError, Problem, RunnerError, SpecError
from runner.spec.run_spec import ExecDepend

Progress = Callable[[str], None]
REPOSITORY = "applet-runner/applet"
# Part of the tag: changing the Dockerfile below must not reuse images made by the old one.
RECIPE_VERSION = "1"
LABEL_RUNTIME = "runner.runtime"
LABEL_DEPENDS = "runner.exec-depends"
SUPPORTED = ("apt", "pip", "pip3")
_APT_ERROR_LINE = re.compile(r"(?<![A-Za-z])E: [^\r\n]+")
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
    unsupported = [Problem(f"runSpec.execDepends[{i}]", f"{d.name} ({d.package_manager}): packages of "
                           f"{d.package_manager} are not installed by this runner (only apt and pip are); install it "
                           "from the job's code (with access.network), or ship it built in resources/")
                   for i, d in enumerate(depends) if d.package_manager not in SUPPORTED]
    if unsupported:
        raise SpecError("dxapp.json's execDepends", unsupported)
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
            try:
                downloaded = wheels.download_packages(home, target, pip, progress)
            except wheels.WheelNotFound as exc:
                raise _entry_error(depends, exc.requirement, str(exc)) from exc
            for wheel in downloaded:
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
            raise _name_the_package(exc, depends, prepared) from exc


def _entry_error(depends: Sequence[ExecDepend], wanted: str, message: str) -> SpecError:
    """A build error on the execDepends entry `wanted` names (a package, maybe with its version)."""
    name = re.split(r"[=<>!~\[ ;]", wanted, maxsplit=1)[0].lower().replace("_", "-")
    index = next((i for i, d in enumerate(depends) if d.name.lower().replace("_", "-") == name), None)
    path = "runSpec.execDepends" + (f"[{index}]" if index is not None else "")
    return SpecError("dxapp.json's execDepends", [Problem(path, message)])


def _name_the_package(exc: ImageBuildError, depends: Sequence[ExecDepend], prepared: PreparedImages) -> RunnerError:
    text = str(exc)
    where = f"Ubuntu {prepared.release}" + (f" (here its stand-in, Debian {prepared.base.suite})"
                                            if prepared.base.stand_in else "")
    # apt's own error lines, wherever the build's output put them (a step prefix, a carriage return).
    said = list(dict.fromkeys(m.group(0).strip() for m in _APT_ERROR_LINE.finditer(text)))
    apt_said = f" (apt: {'; '.join(said)})" if said else ""
    # Without its mirror apt knows no package at all: that is the machine's problem, not the names'.
    apt = [_requirement(d) for d in depends if d.package_manager == "apt"]
    if _APT_OFFLINE.search(text):
        return EnvironmentProblem(f"installing the apt execDepends {' '.join(apt)} needs the package mirror of "
                                  f"{where}, which could not be reached:\n{text}",
                                  "connect this machine to the mirror once: the applet's image is kept afterwards")
    version = _APT_VERSION.search(text)
    if version:
        return _entry_error(depends, version.group(2), f"apt package {version.group(2)} has no version "
                            f"{version.group(1)} in {where}; drop the version or pick one that `apt-cache policy "
                            f"{version.group(2)}` lists there{apt_said}")
    for pattern in _APT_MISSING:
        match = pattern.search(text)
        if match:
            return _entry_error(depends, match.group(1), f"apt package {match.group(1)} does not exist in {where}; "
                                f"check its name (`apt-cache search` in that release lists packages){apt_said}")
    return ImageBuildError(f"installing execDepends {', '.join(_requirement(d) for d in depends)} failed: {text}")
