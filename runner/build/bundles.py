"""bundledDepends and assetDepends at build: resolved to files the engine holds, and baked into the applet image.

Each `runSpec.assetDepends` entry resolves as `dx build` resolves it (by `id`, or by `name` + `version` in
`project`:`folder` when that folder exists here, else among every local AssetBundle record) to its archive, which
is appended to `runSpec.bundledDepends` (with the entry's `stages`) unless dx already put it there. Every
bundledDepends file must be a closed file of this engine.

Bundles are unpacked once, into the image, not at each job start: `applet-runner/applet:b-<hash>` is the applet's
execDepends image plus one layer made by running `runner.launcher.bundles` in a container of it (the bundles
mounted read-only) and committing it. The tag hashes that image, each bundle's name, content and stages, and the
unpacker, so a second build and every job start reuse it. Entries with `stages` are kept in the image under
/opt/applet-runner/bundles and unpacked by the launcher only when its entry point is listed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import docker
import docker.errors

from runner import launcher
from runner.build._applet_image import REPOSITORY, AppletImage
from runner.build._base import LABEL_KIND
from runner.build._docker import get_image
from runner.build._locks import exclusive
from runner.errors import EnvironmentProblem, ImageBuildError, Problem, SpecError
from runner.launcher import bundles as unpacker
from runner.spec.links import data_link_id

Progress = Callable[[str], None]
ASSET_TYPE = "AssetBundle"
# Part of the tag: a change to how bundles are unpacked must not reuse images made the old way.
RECIPE_VERSION = "1"
LABEL_BUNDLES = "runner.bundles"
INPUT_DIR = launcher.ROOT + "/bundle-input"
BUILD_HINT = "make it with `runner asset build DIR`"
IMPORT_HINT = "import it with `runner asset import ARCHIVE --name {name} --version {version}{as_id}`"


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """A record that may be an asset: its ID, name, where it is, types, state, properties and details."""

    record_id: str
    name: str
    project: str
    folder: str
    types: tuple[str, ...]
    state: str
    properties: Mapping[str, str]
    details: Any


@dataclass(frozen=True, slots=True)
class HeldFile:
    """A closed file of the engine: its name, the blob holding its content and that blob's SHA-256."""

    file_id: str
    name: str
    path: Path
    digest: str


class AssetCatalog(Protocol):
    """What resolution asks of the store (the API provides it; build does not import the store)."""

    def record(self, record_id: str) -> AssetRecord | None:
        """The record with this ID, or None."""

    def folder_exists(self, project: str, folder: str) -> bool:
        """Whether `project` exists here and has `folder`."""

    def assets(self, name: str, project: str | None, folder: str | None) -> list[AssetRecord]:
        """Closed records named `name`, in `project`:`folder` when given, else anywhere (one entry per record)."""

    def file(self, file_id: str) -> HeldFile | None:
        """The closed file with this ID, or None."""


@dataclass(frozen=True, slots=True)
class Bundle:
    """One bundledDepends entry resolved to its content; `asset` is the record it came from, if any."""

    label: str
    name: str
    file: HeldFile
    stages: tuple[str, ...] | None
    asset: str | None = None

    def entry(self) -> dict[str, Any]:
        """The bundledDepends entry as describe shows it."""
        entry: dict[str, Any] = {"name": self.name, "id": {"$dnanexus_link": self.file.file_id}}
        if self.stages is not None:
            entry["stages"] = list(self.stages)
        return entry


def _stages(item: Mapping[str, Any]) -> tuple[str, ...] | None:
    stages = item.get("stages")
    return tuple(str(s) for s in stages) if isinstance(stages, list) else None


def _declared(items: Sequence[Any], catalog: AssetCatalog, problems: list[Problem]) -> list[Bundle]:
    found = []
    for index, item in enumerate(items):
        label = f"runSpec.bundledDepends[{index}]"
        file_id = data_link_id(item.get("id")) if isinstance(item, Mapping) else None
        if file_id is None:
            continue  # the spec's checks reported it
        held = catalog.file(file_id)
        if held is None:
            problems.append(Problem(label, f"{file_id} is not a closed file of this engine: upload it first "
                                    "(`dx upload`, or `runner asset import` for an asset's archive)"))
            continue
        found.append(Bundle(label, str(item.get("name") or held.name), held, _stages(item)))
    return found


def _hint(name: str, version: str, record_id: str | None = None) -> str:
    as_id = f" --as {record_id}" if record_id else ""
    return f"{BUILD_HINT}, or {IMPORT_HINT.format(name=name, version=version, as_id=as_id)}"


def _by_name(item: Mapping[str, Any], label: str, catalog: AssetCatalog) -> AssetRecord | Problem:
    name, version = item.get("name"), item.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        return Problem(label, 'must give "id" (record-...), or "name" and "version" (strings)')
    project, folder = item.get("project"), item.get("folder") or "/"
    if isinstance(project, str) and isinstance(folder, str) and catalog.folder_exists(project, folder):
        candidates, where = catalog.assets(name, project, folder), f"in {project}:{folder}"
    else:
        candidates, where = catalog.assets(name, None, None), "among the assets of this engine"
    matches = [r for r in candidates if ASSET_TYPE in r.types and r.properties.get("version") == version]
    if not matches:
        return Problem(label, f"no asset {name!r} version {version!r} {where}: {_hint(name, version)}")
    if len(matches) > 1:
        listed = ", ".join(f"{r.record_id} ({r.project}:{r.folder})" for r in matches)
        return Problem(label, f"asset {name!r} version {version!r} matches {len(matches)} records {where}: "
                       f"{listed}; name one by \"id\", or give \"project\" and \"folder\"")
    return matches[0]


def _asset(item: Any, label: str, catalog: AssetCatalog, release: str) -> Bundle | Problem:
    if not isinstance(item, Mapping):
        return Problem(label, 'must be a mapping such as {"id": "record-..."} or {"name": ..., "version": ...}')
    if "id" in item:
        record_id = item["id"]
        found = catalog.record(record_id) if isinstance(record_id, str) else None
        if found is None:
            return Problem(label, f"no asset record {record_id!r} here: {_hint('N', 'V', str(record_id))}")
    else:
        by_name = _by_name(item, label, catalog)
        if isinstance(by_name, Problem):
            return by_name
        found = by_name
    return _archive_of(found, label, catalog, release, _stages(item))


def _archive_of(record: AssetRecord, label: str, catalog: AssetCatalog, release: str,
                stages: tuple[str, ...] | None) -> Bundle | Problem:
    what = f"{record.record_id} ({record.name})"
    if ASSET_TYPE not in record.types or record.state != "closed":
        return Problem(label, f"{what} is not a closed record of type {ASSET_TYPE}")
    archive = data_link_id(record.details.get("archiveFileId")) if isinstance(record.details, Mapping) else None
    if archive is None:
        return Problem(label, f"{what} has no details.archiveFileId file link")
    asset_release = record.properties.get("release")
    if asset_release != release:
        return Problem(label, f"{what} was built for Ubuntu {asset_release}, the applet runs on Ubuntu {release}: "
                       "use an asset of the applet's release")
    held = catalog.file(archive)
    if held is None:
        return Problem(label, f"the archive {archive} of {what} is not a closed file of this engine")
    return Bundle(f"{label} ({record.record_id})", held.name, held, stages, asset=record.record_id)


def resolve_bundles(run_spec: Mapping[str, Any], release: str, catalog: AssetCatalog | None) -> tuple[Bundle, ...]:
    """bundledDepends, then the archives of assetDepends (each once), as files the engine holds; SpecError."""
    declared, assets = run_spec.get("bundledDepends") or [], run_spec.get("assetDepends") or []
    if not declared and not assets:
        return ()
    if catalog is None:
        raise SpecError("dxapp.json", [Problem("runSpec.bundledDepends", "needs the engine's files: build "
                                               "through the engine (`runner build`)")])
    problems: list[Problem] = []
    bundles = _declared(declared if isinstance(declared, list) else [], catalog, problems)
    for index, item in enumerate(assets if isinstance(assets, list) else []):
        resolved = _asset(item, f"runSpec.assetDepends[{index}]", catalog, release)
        if isinstance(resolved, Problem):
            problems.append(resolved)
        elif all(b.file.file_id != resolved.file.file_id for b in bundles):
            bundles.append(resolved)
    if problems:
        raise SpecError("dxapp.json", problems)
    return tuple(bundles)


def asset_archives(bundles: Sequence[Bundle]) -> list[list[str]]:
    """The (record, archive file) pairs the assets resolved to: part of the applet's ID."""
    return [[b.asset, b.file.file_id] for b in bundles if b.asset is not None]


def check_bundles(bundles: Sequence[Bundle]) -> None:
    """Refuse, before any container, an archive whose members would escape / or go through a planted link."""
    planted: set[str] = set()
    problems = []
    for bundle in bundles:
        archive = unpacker.open_archive(str(bundle.file.path))
        try:
            if archive is None:
                unpacker.member_path(bundle.name, bundle.label)
            else:
                with archive:
                    unpacker.check_archive(archive, bundle.label, planted)
        except unpacker.BundleError as exc:
            problems.append(Problem(bundle.label, str(exc).removeprefix(f"{bundle.label}: ")))
    if problems:
        raise SpecError("dxapp.json", problems)


def bundle_tag(base_id: str, bundles: Sequence[Bundle]) -> str:
    """The tag of the image with `bundles` unpacked on the image `base_id`."""
    script = hashlib.sha256(Path(unpacker.__file__).read_bytes()).hexdigest()
    contents = [[b.name, b.file.digest, list(b.stages) if b.stages is not None else None] for b in bundles]
    key = json.dumps([RECIPE_VERSION, base_id, script, contents], separators=(",", ":"))
    return f"{REPOSITORY}:b-{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def bundle_image(client: docker.DockerClient, base: AppletImage, bundles: Sequence[Bundle], home: Path,
                 progress: Progress) -> AppletImage:
    """The applet image with `bundles` unpacked; made (checked, unpacked, committed) only when its tag is missing."""
    tag = bundle_tag(base.image_id, bundles)
    found = get_image(client, tag)
    if found is None:
        with exclusive(home / "applet-images.lock"):
            found = get_image(client, tag)
            if found is None:
                check_bundles(bundles)
                return AppletImage(tag, _make(client, base, bundles, tag, home, progress), built=True,
                                   notes=base.notes)
    return AppletImage(tag, str(found.id), built=False, notes=base.notes)


def _stage_input(bundles: Sequence[Bundle], folder: Path) -> None:
    entries = []
    for index, bundle in enumerate(bundles):
        name = f"{index}-{bundle.file.digest[:16]}"
        try:
            os.link(bundle.file.path, folder / name)
        except OSError:
            shutil.copyfile(bundle.file.path, folder / name)
        entry: dict[str, Any] = {"path": f"{INPUT_DIR}/{name}", "name": bundle.name, "label": bundle.label}
        if bundle.stages is not None:
            entry["stages"] = list(bundle.stages)
        entries.append(entry)
    (folder / unpacker.MANIFEST).write_text(json.dumps(entries), encoding="utf-8")
    folder.chmod(0o755)


def _make(client: docker.DockerClient, base: AppletImage, bundles: Sequence[Bundle], tag: str, home: Path,
          progress: Progress) -> str:
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    names = ", ".join(b.name for b in bundles)
    progress(f"unpacking bundledDepends {names} into {tag}")
    with tempfile.TemporaryDirectory(prefix="bundles-", dir=home / "tmp") as scratch:
        _stage_input(bundles, Path(scratch))
        volumes = {scratch: {"bind": INPUT_DIR, "mode": "ro"},
                   launcher.host_path(): {"bind": launcher.LAUNCHER_DIR, "mode": "ro"}}
        argv = ["python3", "-I", f"{launcher.LAUNCHER_DIR}/bundles.py", f"{INPUT_DIR}/{unpacker.MANIFEST}"]
        try:
            container = client.containers.create(base.tag, argv, user="0", network_mode="none", volumes=volumes,
                                                 labels={LABEL_KIND: "bundles"})
        except docker.errors.DockerException as exc:
            raise EnvironmentProblem(f"Docker could not create the container unpacking {names}: {exc}") from None
        try:
            return _run_and_commit(container, base, bundles, tag, progress)
        finally:
            container.remove(force=True)


def _run_and_commit(container: Any, base: AppletImage, bundles: Sequence[Bundle], tag: str,
                    progress: Progress) -> str:
    try:
        container.start()
        status = container.wait().get("StatusCode", 1)
        output = container.logs(stdout=True, stderr=True).decode("utf-8", errors="replace").strip()
        if status != 0:
            raise ImageBuildError(f"unpacking bundledDepends failed (exit {status}): {output}")
        for line in output.splitlines():
            progress(line)
        original = container.client.images.get(base.tag).attrs.get("Config") or {}
        labels = {LABEL_KIND: "applet", LABEL_BUNDLES: json.dumps([b.entry() for b in bundles])}
        conf = {"Cmd": original.get("Cmd"), "Entrypoint": original.get("Entrypoint"), "Labels": labels}
        repository, _, name = tag.partition(":")
        image = container.commit(repository=repository, tag=name, conf=conf)
    except docker.errors.DockerException as exc:
        raise ImageBuildError(f"unpacking bundledDepends into {tag} failed: {exc}") from None
    return str(image.id)
