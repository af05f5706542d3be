"""Building an asset from its source folder, as `dx build_asset` does, in a container of its release.

    builder image   applet-runner/applet:<hash>: the release's runtime image with make (a platform worker
                    has it), made once like any applet image
    container       the folder copied to /tmp/runner-asset/src; apt execDepends installed, pip ones from
                    wheels the host downloaded; resources/ copied into /; `make` run in a copy of the folder
    archive         what the container changed in the file system (`docker diff`: added and changed paths),
                    outside the places a worker's own state lives (EXCLUDED), as one tar.gz

Nothing from the host is read through a link: the folder travels as a tar whose links stay links.
"""

from __future__ import annotations

import collections
import io
import shlex
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.models.containers import Container

from runner.build import wheels
from runner.build._applet_image import _APT_MISSING, applet_image
from runner.build._base import LABEL_KIND, LABEL_RELEASE
from runner.build._bundle import write_resources_tar
from runner.build._docker import DockerFailure, tail
from runner.build.images import prepare_images
from runner.errors import ImageBuildError
from runner.spec.dxasset import Dxasset, load_dxasset
from runner.spec.run_spec import ExecDepend

Progress = Callable[[str], None]
WORK = "/tmp/runner-asset"
LABEL_HOME = "runner.home"
BUILDER_DEPENDS = (ExecDepend("make"),)
# Not part of an asset: the kernel's and Docker's file systems, scratch space, the homes, and the package
# managers' own state and caches (an asset unpacked over a job image must not replace its dpkg database,
# its apt lists or its linker cache, which describe what that image holds).
EXCLUDED = (
    "/tmp", "/var/tmp", "/proc", "/sys", "/dev", "/run", "/var/run", "/home", "/root", "/var/cache", "/var/log",
    "/var/lib/apt", "/var/lib/dpkg", "/etc/ld.so.cache", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf",
    "/.dockerenv",
)
ADDED_OR_CHANGED = (0, 1)  # docker diff kinds: 0 changed, 1 added, 2 deleted


@dataclass(frozen=True, slots=True)
class BuiltAsset:
    """A built asset: its specification and its archive (a tar.gz under $RUNNER_HOME/tmp the caller removes)."""

    spec: Dxasset
    archive: Path
    members: tuple[str, ...]
    notes: tuple[str, ...] = ()


def asset_script(spec: Dxasset, pip: list[str]) -> str:
    """The shell script run in the build container (the folder is at WORK/src)."""
    apt = [f"{d.name}={d.version}" if d.version else d.name for d in spec.exec_depends if d.package_manager == "apt"]
    lines = ["set -eu", "export DEBIAN_FRONTEND=noninteractive", f"cd {WORK}", "mkdir src",
             "tar -xf source.tar -C src"]
    if apt:
        lines += ["echo '>>> apt-get install " + " ".join(apt) + "'", "apt-get update -q",
                  f"apt-get install --yes --no-install-recommends {shlex.join(apt)}"]
    if pip:
        lines += ["echo '>>> pip install " + " ".join(pip) + "'",
                  f"python3 -m pip install --no-cache-dir --no-index --find-links wheels {shlex.join(pip)}"]
    if spec.has_resources:
        lines += ["echo '>>> copying resources/ into /'", "cp -a src/resources/. /"]
    if spec.makefile:
        lines += ["echo '>>> make'", "cp -a src build", f"make -C build -f {shlex.quote(spec.makefile)}"]
    return "\n".join(lines) + "\n"


def packed_paths(changes: Iterable[dict[str, Any]]) -> list[str]:
    """The paths of `docker diff` entries that go into the archive, relative to / and sorted."""
    kept = set()
    for change in changes:
        path = str(change.get("Path", ""))
        if change.get("Kind") not in ADDED_OR_CHANGED or not path.startswith("/") or path == "/":
            continue
        if any(path == top or path.startswith(top + "/") for top in EXCLUDED):
            continue
        kept.add(path.lstrip("/"))
    return sorted(kept)


def build_asset(folder: Path, home: Path, client: docker.DockerClient | None, progress: Progress) -> BuiltAsset:
    """Build the asset in `folder` into a tar.gz under `home`/tmp; ImageBuildError names the step that failed."""
    folder = Path(folder)
    spec = load_dxasset(folder)
    if client is None:
        raise ImageBuildError("building an asset runs its Makefile in an image: the local backend builds no "
                              "images; build the asset with the docker backend (import it with `runner asset "
                              "import` here), or use the docker backend")
    notes = [str(w) for w in spec.warnings]
    if spec.instance_type:
        notes.append(f"instanceType {spec.instance_type} is recorded; the build uses this machine's resources")
    prepared = prepare_images(client, spec.release, home, progress)
    builder = applet_image(client, prepared, BUILDER_DEPENDS, home, progress)
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="asset-", dir=home / "tmp"))
    try:
        pip = [d.name + (f"=={d.version}" if d.version else "") for d in spec.exec_depends
               if d.package_manager != "apt"]
        found = wheels.download_packages(home, wheels.detect_target(client, builder.tag), pip, progress) if pip else []
        skipped = write_resources_tar(folder, scratch / "source.tar")
        notes += [f"{name} is not a file, folder or link; left out" for name in skipped]
        context = _context(scratch, asset_script(spec, pip), found)
        archive = home / "tmp" / f"{scratch.name}.tar.gz"
        members = _in_container(client, builder.tag, spec, home, context, archive, progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return BuiltAsset(spec, archive, tuple(members), tuple(notes))


def _context(scratch: Path, script: str, found: list[Path]) -> Path:
    """A tar of what the container gets under WORK: the folder's tar, the script and the wheels."""
    context = scratch / "context.tar"
    with tarfile.open(context, "w") as tar:
        tar.add(scratch / "source.tar", arcname="runner-asset/source.tar")
        _add_bytes(tar, "runner-asset/build.sh", script.encode())
        _add_bytes(tar, "runner-asset/wheels/", b"", directory=True)
        for wheel in found:
            tar.add(wheel, arcname=f"runner-asset/wheels/{wheel.name}")
    return context


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, *, directory: bool = False) -> None:
    info = tarfile.TarInfo(name.rstrip("/"))
    info.mode = 0o755 if directory else 0o644
    if directory:
        info.type = tarfile.DIRTYPE
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data else None)


def _in_container(client: docker.DockerClient, image: str, spec: Dxasset, home: Path, context: Path,
                  archive: Path, progress: Progress) -> list[str]:
    """Run the build in a container of `image`, pack its changes into `archive`; the member names."""
    labels = {LABEL_HOME: str(home), LABEL_KIND: "asset-build", LABEL_RELEASE: spec.release}
    try:
        container = client.containers.create(image, ["sleep", "infinity"], entrypoint=[], labels=labels,
                                             working_dir="/tmp", detach=True)
    except DockerFailure as exc:
        raise ImageBuildError(f"creating the build container of asset {spec.name} failed: {exc}") from exc
    try:
        with context.open("rb") as data:
            _docker(lambda: container.put_archive("/tmp", data), f"copying {spec.name}'s folder in")
        _docker(container.start, "starting the build container")
        progress(f"building asset {spec.name} {spec.version} in {image}")
        _exec(client, container, ["bash", f"{WORK}/build.sh"], f"building asset {spec.name}", progress)
        members = packed_paths(_docker(container.diff, "listing what the build changed") or [])
        if not members:
            raise ImageBuildError(f"building asset {spec.name} changed nothing outside {', '.join(EXCLUDED[:6])}"
                                  " ...: there is nothing to pack (add execDepends, resources/ or a Makefile)")
        _pack(client, container, members, archive, spec.name, progress)
        return members
    finally:
        try:
            container.remove(force=True)
        except DockerFailure:
            pass  # labelled with runner.home: found and removed with the home's other leftovers


def _docker(action: Callable[[], Any], what: str) -> Any:
    try:
        return action()
    except DockerFailure as exc:
        raise ImageBuildError(f"{what} failed: {exc}") from exc


def _exec(client: docker.DockerClient, container: Container, argv: list[str], what: str,
          progress: Progress) -> None:
    """Run `argv` in the container; its `>>>` step lines go to `progress`, its last lines into a failure."""
    last: collections.deque[str] = collections.deque(maxlen=15)
    step = ""
    api = client.api
    try:
        exec_id = api.exec_create(container.id, argv, stdout=True, stderr=True)["Id"]
        pending = ""
        for chunk in api.exec_start(exec_id, stream=True):
            pending += chunk.decode(errors="replace")
            *lines, pending = pending.split("\n")
            for line in lines:
                last.append(line)
                if line.startswith(">>> "):
                    step = line[4:][:160]
                    progress(f"  {step}")
        last.append(pending)
        code = api.exec_inspect(exec_id)["ExitCode"]
    except DockerFailure as exc:
        raise ImageBuildError(f"{what} failed: {exc}\n{tail(last)}") from exc
    if code != 0:
        where = f" at step '{step}'" if step else ""
        missing = next((m.group(1) for line in last for pattern in _APT_MISSING if (m := pattern.search(line))), None)
        why = f": apt package {missing} is not available" if missing else ""
        raise ImageBuildError(f"{what} failed{where} (exit {code}){why}:\n{tail(last)}")


def _pack(client: docker.DockerClient, container: Container, members: list[str], archive: Path, name: str,
          progress: Progress) -> None:
    """Pack `members` (relative to /) with the container's own tar, and copy the tar.gz out to `archive`."""
    listing = io.BytesIO()
    with tarfile.open(fileobj=listing, mode="w") as tar:
        _add_bytes(tar, "runner-asset/members", b"\0".join(m.encode() for m in members))
    _docker(lambda: container.put_archive("/tmp", listing.getvalue()), "copying the member list in")
    progress(f"packing {len(members)} paths into {name}.tar.gz")
    _exec(client, container, ["tar", "--create", "--gzip", "--file", f"{WORK}/asset.tar.gz", "--directory", "/",
                              "--no-recursion", "--null", "--files-from", f"{WORK}/members"],
          f"packing asset {name}", progress)
    outer = archive.with_suffix(".outer")
    try:
        stream, _ = _docker(lambda: container.get_archive(f"{WORK}/asset.tar.gz"), "copying the archive out")
        with outer.open("wb") as sink:
            for chunk in stream:
                sink.write(chunk)
        with tarfile.open(outer) as tar, archive.open("wb") as sink:
            source = tar.extractfile("asset.tar.gz")
            if source is None:
                raise ImageBuildError(f"the archive of asset {name} did not come out of its container")
            shutil.copyfileobj(source, sink)
    finally:
        outer.unlink(missing_ok=True)
