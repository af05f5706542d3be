"""The wheel cache `$RUNNER_HOME/wheels/`: dxpy and its dependencies for an image's python3, from the host.

Containers cannot pip-install from the network (HTTPS inside them may fail the certificate check, and later
builds must work offline), so the host downloads wheels matching the image's interpreter once and every
image build installs from this folder with `--no-index`.
"""

from __future__ import annotations

import email.parser
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from runner.build._docker import run_in_image, tail
from runner.errors import EnvironmentProblem, ImageBuildError, RunnerError

Progress = Callable[[str], None]
PIP_TIMEOUT_S = 900
# Wheels of one python tag are shared by every image with that interpreter; capping the manylinux
# level at glibc 2.28 keeps them valid for the oldest supported release (Ubuntu 20.04 has glibc 2.31).
MANYLINUX_CAP = 28
NETWORK_FIX = (
    "connect this machine to a Python package index once, or copy $RUNNER_HOME/wheels from another machine"
)
# The marker environment of the image's interpreter (as packaging.markers.default_environment() computes
# it), so that dxpy's requirements are chosen for that interpreter and not for the host's.
_DETECT = """
import json, os, platform, sys
v = sys.implementation.version
level = "" if v.releaselevel == "final" else v.releaselevel[0] + str(v.serial)
print(json.dumps({
    "implementation_name": sys.implementation.name,
    "implementation_version": "%d.%d.%d%s" % (v.major, v.minor, v.micro, level),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
    "glibc": platform.libc_ver()[1],
}))
"""
_NOT_FOUND = re.compile(
    r"(?:No matching distribution found for|Could not find a version that satisfies the requirement)\s+(\S+)"
)
_VERSIONS = re.compile(r"\(from versions: ([^)]*)\)")
_OFFLINE = re.compile(r"NewConnectionError|Temporary failure in name resolution|Network is unreachable|"
                      r"Max retries exceeded|ProxyError")
_SAVED = re.compile(r"^\s*(?:Saved|File was already downloaded)\s+(\S+\.whl)\s*$")


class WheelNotFound(ImageBuildError):
    """pip found no wheel of `requirement` for the image's interpreter: the user's pin, not the machine."""

    def __init__(self, requirement: str, message: str) -> None:
        self.requirement = requirement
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class WheelTarget:
    """The interpreter and machine that wheels are chosen for, with its environment-marker values."""

    python_version: str
    machine: str
    glibc: str
    markers: tuple[tuple[str, str], ...] = ()

    @property
    def python_tag(self) -> str:
        """The CPython tag, e.g. `cp312`."""
        return "cp" + self.python_version.replace(".", "")


def detect_target(client: docker.DockerClient, image: str) -> WheelTarget:
    """Ask the image's `python3` for its version, machine, glibc and environment-marker values."""
    what = "asking the image's python3 about itself"
    output = run_in_image(client, image, ["python3", "-c", _DETECT], what)
    try:
        facts = json.loads(output.strip().splitlines()[-1])
        glibc = str(facts.pop("glibc") or "2.17")
        markers = tuple(sorted((str(key), str(value)) for key, value in facts.items()))
        return WheelTarget(str(facts["python_version"]), str(facts["platform_machine"]), glibc, markers)
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise ImageBuildError(f"could not read the image's python3 facts from: {output!r}") from exc


def requirements_for(wheel: Path, target: WheelTarget) -> list[str]:
    """The requirements of `wheel` that apply on `target`, markers evaluated there, one per project."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        metadata = email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))
    environment = {**dict(target.markers), "extra": ""}
    merged: dict[str, Requirement] = {}
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        requirement.marker = None
        key = canonicalize_name(requirement.name)
        if key in merged:
            merged[key].specifier &= requirement.specifier
            merged[key].extras |= requirement.extras
        else:
            merged[key] = requirement
    return [str(requirement) for _, requirement in sorted(merged.items())]


def platform_tags(target: WheelTarget, cap: int | None = MANYLINUX_CAP) -> list[str]:
    """The manylinux platform tags `pip download --platform` may pick for `target` (glibc level up to `cap`)."""
    major, _, minor = target.glibc.partition(".")
    level = min(int(minor), cap if cap is not None else int(minor)) if major == "2" and minor.isdigit() else 17
    tags = [f"manylinux_2_{n}_{target.machine}" for n in range(level, 4, -1)]
    tags.append(f"manylinux2014_{target.machine}")
    if target.machine in ("x86_64", "i686"):
        tags += [f"manylinux2010_{target.machine}", f"manylinux1_{target.machine}"]
    return tags


def ensure_wheels(home: Path, target: WheelTarget, dxpy_version: str, progress: Progress) -> list[Path]:
    """The wheels that install `dxpy==dxpy_version` and pip for `target`; downloaded only when not cached."""
    folder = home / "wheels" / target.python_tag
    manifest = folder / f"manifest-dxpy-{dxpy_version}-{target.machine}.json"
    cached = _read_manifest(manifest, folder)
    if cached is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    dxpy_wheel = _dxpy_wheel(home, dxpy_version, progress)
    progress(
        f"downloading wheels for dxpy {dxpy_version} on Python {target.python_version} ({target.machine})"
    )
    download = _pip() + ["download", "--only-binary=:all:", "--dest", str(folder)] + _target_options(target)
    # pip evaluates requirement markers for the interpreter it runs on, not for --python-version; so
    # dxpy itself comes without dependencies, and its requirements come evaluated for the image.
    saved = _run_pip(
        download + ["--no-deps", "--find-links", str(dxpy_wheel.parent), f"dxpy=={dxpy_version}", "pip"],
        "pip download of dxpy and pip",
    )
    saved += _run_pip(download + requirements_for(dxpy_wheel, target), "pip download of dxpy's dependencies")
    names = sorted({Path(m.group(1)).name for line in saved.splitlines() if (m := _SAVED.match(line))})
    if not all(any(name.startswith(f"{project}-") for name in names) for project in ("dxpy", "pip")):
        raise ImageBuildError(f"pip did not report saving dxpy and pip wheels:\n{tail(saved.splitlines())}")
    manifest.write_text(json.dumps({"target": target.python_tag, "machine": target.machine, "wheels": names}))
    return [folder / name for name in names]


def download_packages(home: Path, target: WheelTarget, requirements: list[str], progress: Progress) -> list[Path]:
    """Wheels of `requirements` and their dependencies for `target`, into the cache; the files to install.

    Only wheels: pip cannot build a source distribution for another interpreter. The image's own glibc
    level applies (these wheels serve one image, not every release). A package pip cannot find is named.
    """
    folder = home / "wheels" / target.python_tag
    folder.mkdir(parents=True, exist_ok=True)
    progress(f"downloading wheels of {' '.join(requirements)} for Python {target.python_version}")
    argv = _pip() + ["download", "--only-binary=:all:", "--dest", str(folder)] + _target_options(target, cap=None)
    try:
        result = subprocess.run(
            [*argv, *requirements, "--disable-pip-version-check", "--no-input"],
            check=False, capture_output=True, text=True, timeout=PIP_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise EnvironmentProblem(f"pip download of {' '.join(requirements)} took over {PIP_TIMEOUT_S} s",
                                 NETWORK_FIX) from exc
    if result.returncode != 0:
        raise _download_error((result.stdout + result.stderr).splitlines(), requirements, target)
    names = sorted({Path(m.group(1)).name for line in result.stdout.splitlines() if (m := _SAVED.match(line))})
    return [folder / name for name in names]


def _download_error(output: list[str], requirements: list[str], target: WheelTarget) -> RunnerError:
    """What pip's failure means for the user: the requirement, the versions that would work, or the network."""
    python = f"Python {target.python_version} ({target.machine})"
    if any(_OFFLINE.search(line) for line in output):
        return EnvironmentProblem(f"pip could not reach the package index for {' '.join(requirements)}:\n"
                                  f"{tail(output)}", NETWORK_FIX)
    for line in output:
        match = _NOT_FOUND.search(line)
        if match is None:
            continue
        requirement = match.group(1)
        versions = _VERSIONS.search(line)
        offered = versions.group(1).strip() if versions else "none"
        if offered == "none":
            return WheelNotFound(requirement, (
                f"pip package {requirement}: no version has a wheel for {python} (the package may not exist, or "
                "it publishes only source distributions, which the runner does not build); fix its name, or ship "
                "it in resources/"))
        newest = ", ".join(offered.split(", ")[-5:])
        return WheelNotFound(
            requirement, f"pip package {requirement} has no wheel for {python}, the image's interpreter (or no such "
            f"version exists); versions that do: "
            f"{newest}; pin one of them, or choose a runSpec.release with an older Python"
        )
    return ImageBuildError(f"pip packages {', '.join(requirements)} could not be downloaded as wheels for "
                           f"{python}; pip's last lines:\n{tail(output)}")


def _target_options(target: WheelTarget, cap: int | None = MANYLINUX_CAP) -> list[str]:
    options = ["--python-version", target.python_version, "--implementation", "cp"]
    options += ["--abi", target.python_tag, "--abi", "abi3", "--abi", "none"]
    for tag in platform_tags(target, cap):
        options += ["--platform", tag]
    return options


def _read_manifest(manifest: Path, folder: Path) -> list[Path] | None:
    try:
        names = json.loads(manifest.read_text())["wheels"]
    except (OSError, ValueError, KeyError):
        return None
    paths = [folder / str(name) for name in names]
    return paths if paths and all(path.exists() for path in paths) else None


def _dxpy_wheel(home: Path, version: str, progress: Progress) -> Path:
    # dxpy is published as a source distribution only; it is pure Python, so one wheel built here serves all.
    folder = home / "wheels" / "any"
    built = sorted(folder.glob(f"dxpy-{version}-*-none-any.whl"))
    if built:
        return built[0]
    folder.mkdir(parents=True, exist_ok=True)
    progress(f"building a wheel of dxpy {version} from its source distribution")
    argv = _pip() + [
        "wheel",
        "--no-deps",
        "--no-binary",
        "dxpy",
        "--wheel-dir",
        str(folder),
        f"dxpy=={version}",
    ]
    _run_pip(argv, f"building the dxpy {version} wheel")
    built = sorted(folder.glob(f"dxpy-{version}-*-none-any.whl"))
    if not built:
        found = sorted(path.name for path in folder.iterdir())
        raise ImageBuildError(
            f"building the dxpy {version} wheel left {found or 'nothing'}, no pure-Python wheel"
        )
    return built[0]


def _pip() -> list[str]:
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], check=False, capture_output=True, text=True
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "pip"]
    pip3 = shutil.which("pip3")
    if pip3:
        return [pip3]
    raise EnvironmentProblem(
        "the host needs pip to fill the wheel cache, and neither `python -m pip` nor pip3 is available",
        f"install pip for {sys.executable} (python -m ensurepip) or put pip3 on PATH",
    )


def _run_pip(argv: list[str], what: str) -> str:
    try:
        result = subprocess.run(
            argv + ["--disable-pip-version-check", "--no-input"],
            check=False,
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise EnvironmentProblem(f"{what} took over {PIP_TIMEOUT_S} s", NETWORK_FIX) from exc
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).splitlines()
        raise EnvironmentProblem(
            f"{what} failed (exit {result.returncode}); last lines:\n{tail(lines)}", NETWORK_FIX
        )
    return result.stdout
