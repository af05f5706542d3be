"""Stand-in base images: a Debian root filesystem made by debootstrap, kept as a tarball, imported.

Used only when no `ubuntu:<release>` image is present and none can be pulled. The tarball stays under
`$RUNNER_HOME/rootfs/`, so a lost image is re-imported without any network.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import docker

from runner.build._docker import DockerFailure, tail
from runner.errors import EnvironmentProblem, ImageBuildError

Progress = Callable[[str], None]
APT_SOURCES = Path("/etc/apt/sources.list")
APT_SOURCES_DIR = Path("/etc/apt/sources.list.d")
DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")
MIRROR_ENV = "RUNNER_DEBIAN_MIRROR"
DEBOOTSTRAP_TIMEOUT_S = 1800


def packages_key(packages: Sequence[str]) -> str:
    """A short hash naming a package selection, so a changed selection makes a new tarball."""
    return hashlib.sha256(" ".join(sorted(packages)).encode()).hexdigest()[:10]


def tarball_path(home: Path, suite: str, packages: Sequence[str]) -> Path:
    """Where the root filesystem of `suite` with `packages` is kept."""
    return home / "rootfs" / f"debian-{suite}-minbase-{packages_key(packages)}.tar"


def debian_mirror(sources: Sequence[Path] | None = None) -> str | None:
    """The Debian mirror: `$RUNNER_DEBIAN_MIRROR`, else the host's apt sources; None: debootstrap's own."""
    explicit = os.environ.get(MIRROR_ENV)
    if explicit:
        return explicit.rstrip("/")
    files = list(sources) if sources is not None else _apt_source_files()
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        uris = deb822_uris(text) if path.suffix == ".sources" else one_line_uris(text)
        for uri in uris:
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    return None


def _apt_source_files() -> list[Path]:
    found = sorted(APT_SOURCES_DIR.glob("*.sources")) + sorted(APT_SOURCES_DIR.glob("*.list"))
    return ([APT_SOURCES] if APT_SOURCES.exists() else []) + found


def deb822_uris(text: str) -> list[str]:
    """The URIs of the `Types: deb` stanzas of a deb822 `.sources` file."""
    uris: list[str] = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes").lower() != "no":
            uris.extend(fields.get("uris", "").split())
    return uris


def one_line_uris(text: str) -> list[str]:
    """The URIs of the `deb` lines of a one-line-style `sources.list`."""
    uris: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        rest = words[1:]
        if rest and rest[0].startswith("["):
            while rest and not rest[0].endswith("]"):
                rest = rest[1:]
            rest = rest[1:]
        if rest:
            uris.append(rest[0])
    return uris


def ensure_debootstrap(suite: str, progress: Progress) -> str:
    """The debootstrap program (apt-get installs it when missing, as root); checks it knows `suite`."""
    program = shutil.which("debootstrap")
    if program is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise EnvironmentProblem(
                "no ubuntu image is available and debootstrap, needed to build a stand-in, is not installed",
                "install debootstrap (sudo apt-get install debootstrap), or `docker load` an ubuntu image",
            )
        progress("installing debootstrap with apt-get")
        _apt_get_install("debootstrap")
        program = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not (DEBOOTSTRAP_SCRIPTS / suite).exists():
        raise EnvironmentProblem(
            f"this host's debootstrap does not know the Debian suite '{suite}'",
            "install a newer debootstrap (for instance from your distribution's backports)",
        )
    return program


def _apt_get_install(package: str) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    if subprocess.run(install, env=env, check=False, capture_output=True, text=True).returncode == 0:
        return
    # A fresh machine often has empty package lists; one update, then the real attempt.
    subprocess.run(["apt-get", "update", "-q"], env=env, check=False, capture_output=True, text=True)
    result = subprocess.run(install, env=env, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise EnvironmentProblem(
            f"apt-get could not install {package}:\n{tail((result.stdout + result.stderr).splitlines())}",
            f"install {package} by hand",
        )


def build_tarball(home: Path, suite: str, packages: Sequence[str], progress: Progress) -> Path:
    """The root filesystem tarball of `suite` with `packages`, made with debootstrap unless already kept."""
    target = tarball_path(home, suite, packages)
    if target.exists():
        progress(f"reusing the {suite} root filesystem kept at {target}")
        return target
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            f"building a stand-in base from Debian {suite} needs root (debootstrap makes devices)",
            "run `sudo runner images prepare` once, or `docker load` an ubuntu image",
        )
    program = ensure_debootstrap(suite, progress)
    mirror = debian_mirror()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Under $RUNNER_HOME, not /tmp: /tmp may be a tmpfs mounted nodev, where debootstrap cannot make /dev.
    with tempfile.TemporaryDirectory(prefix=f".{suite}-", dir=target.parent) as scratch:
        root = Path(scratch) / "root"
        progress(f"debootstrap {suite} (minbase) from {mirror or 'the default mirror'}; a few minutes")
        argv = [program, "--variant=minbase", f"--include={','.join(packages)}", suite, str(root)]
        try:
            _run_logged(
                argv + ([mirror] if mirror else []), f"debootstrap {suite}", Path(scratch) / "debootstrap.log"
            )
        finally:
            _unmount_under(root)
        _slim(root)
        partial = Path(scratch) / "rootfs.tar"
        _run_logged(
            ["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."],
            f"packing the {suite} root filesystem",
            Path(scratch) / "tar.log",
        )
        partial.replace(target)
    return target


def _run_logged(argv: list[str], what: str, log: Path) -> None:
    try:
        with log.open("w") as out:
            result = subprocess.run(
                argv, stdout=out, stderr=subprocess.STDOUT, check=False, timeout=DEBOOTSTRAP_TIMEOUT_S
            )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ImageBuildError(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        lines = log.read_text(errors="replace").splitlines()
        raise ImageBuildError(f"{what} failed (exit {result.returncode}); last lines:\n{tail(lines)}")


def _unmount_under(root: Path) -> None:
    # A debootstrap killed on timeout leaves /proc, /sys or bound /dev entries mounted in the target;
    # deleting the scratch folder must never reach through them into the host's.
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = str(root) + "/"
    points = [_unescape(line.split()[1]) for line in mounts if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _slim(root: Path) -> None:
    # Package lists and downloaded .debs are stale on arrival; jobs that install run apt-get update anyway.
    for folder in (root / "var/lib/apt/lists", root / "var/cache/apt"):
        for entry in folder.glob("**/*"):
            if entry.is_file() and entry.name != "lock":
                entry.unlink()


def import_tarball(client: docker.DockerClient, tarball: Path, tag: str, labels: dict[str, str]) -> str:
    """Import the root filesystem as image `tag` with `labels`; the new image's ID."""
    repository, _, version = tag.rpartition(":")
    changes = [f'LABEL {key}="{value}"' for key, value in sorted(labels.items())]
    changes += ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["/bin/bash"]']
    try:
        client.api.import_image(src=str(tarball), repository=repository, tag=version, changes=changes)
        return str(client.images.get(tag).id)
    except DockerFailure as exc:
        raise ImageBuildError(f"docker import of {tarball} as {tag} failed: {exc}") from exc
