"""Building an applet from its source folder: a content-derived ID, the stored files, the image it runs in.

    $RUNNER_HOME/applets/<applet-id>/
        dxapp.json       as read from the source folder
        code.sh|code.py  the entry-point script (runSpec.file, or runSpec.code)
        resources.tar    the resources/ folder, unpacked at / in the job (only when there is one)

The ID hashes the canonical dxapp.json document, the code and the resources bundle, so the same source
always gives the same applet and the stored folder is never rewritten: a new one is written beside it
and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from runner.build._applet_image import AppletImage, applet_image
from runner.build._bundle import file_digest, has_resources, write_resources_tar
from runner.build._local_build import local_applet, refuse_unsupported
from runner.build.bundles import AssetCatalog, asset_archives, bundle_image, resolve_bundles
from runner.build.images import prepare_images
from runner.config import current_settings
from runner.spec.dxapp import Dxapp, load_dxapp
from runner.spec.ids import content_id

Progress = Callable[[str], None]
DXAPP = "dxapp.json"
RESOURCES_TAR = "resources.tar"
# Part of every applet ID: a change to what is hashed or stored must give new IDs.
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class BuiltApplet:
    """A built applet: its ID, specification, stored files and the image its jobs run in."""

    applet_id: str
    dxapp: Dxapp
    folder: Path
    code_path: Path
    resources_tar: Path | None
    image_tag: str
    image_id: str
    image_built: bool
    notes: tuple[str, ...] = ()
    bundled_depends: tuple[dict[str, Any], ...] = ()


def code_file_name(interpreter: str) -> str:
    """`code.py` for python3 applets, `code.sh` for bash ones."""
    return "code.py" if interpreter.startswith("python") else "code.sh"


def applet_id_of(document: Any, code: bytes, resources_digest: str | None,
                 assets: list[list[str]] | None = None) -> str:
    """The applet ID of this dxapp.json document, code, resources bundle (its SHA-256, or None) and the
    (record, archive) pairs its assetDepends resolved to (a re-imported asset gives a new applet)."""
    hashed: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "dxapp": document,
        "code": hashlib.sha256(code).hexdigest(),
        "resources": resources_digest,
    }
    if assets:
        hashed["assets"] = assets
    canonical = json.dumps(
        hashed,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return content_id("applet", canonical.encode("utf-8"))


def build_applet(folder: Path, home: Path, client: docker.DockerClient | None, progress: Progress,
                 catalog: AssetCatalog | None = None) -> BuiltApplet:
    """Build the applet in `folder`: validate, resolve its bundles in `catalog`, store under `home`/applets,
    and make its image (with no Docker `client`, the local backend's: no image, see `_local_build`)."""
    folder = Path(folder)
    dxapp = load_dxapp(folder, legacy_release=current_settings(home).legacy_release)
    bundles = resolve_bundles(dxapp.raw.get("runSpec") or {}, dxapp.run_spec.release, catalog)
    if client is None:
        refuse_unsupported(dxapp, bool(bundles))
    code = dxapp.run_spec.code.encode("utf-8")
    scratch_root = home / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="applet-", dir=scratch_root))
    try:
        # The folder's warnings (sizes of resources/, unknown fields) go with the build's own notes.
        notes = [str(warning) for warning in dxapp.warnings]
        digest = None
        if has_resources(folder / "resources"):
            skipped = write_resources_tar(folder / "resources", staging / RESOURCES_TAR)
            notes += [f"resources/{name} is not a file, folder or link; left out" for name in skipped]
            digest = file_digest(staging / RESOURCES_TAR)
        applet_id = applet_id_of(dict(dxapp.raw), code, digest, asset_archives(bundles))
        (staging / DXAPP).write_bytes(dxapp.source)
        (staging / code_file_name(dxapp.run_spec.interpreter)).write_bytes(code)
        stored = _store(staging, home / "applets" / applet_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    image: AppletImage
    if client is None:
        image = local_applet(dxapp, home, applet_id, progress)
    else:
        prepared = prepare_images(client, dxapp.run_spec.release, home, progress)
        image = applet_image(client, prepared, dxapp.run_spec.exec_depends, home, progress)
        if bundles:
            image = bundle_image(client, image, bundles, home, progress)
    resources = stored / RESOURCES_TAR
    return BuiltApplet(
        applet_id=applet_id,
        dxapp=dxapp,
        folder=stored,
        code_path=stored / code_file_name(dxapp.run_spec.interpreter),
        resources_tar=resources if resources.exists() else None,
        image_tag=image.tag,
        image_id=image.image_id,
        image_built=image.built,
        notes=(*notes, *image.notes),
        bundled_depends=tuple(b.entry() for b in bundles),
    )


def _store(staging: Path, destination: Path) -> Path:
    """Move `staging` to `destination` in one rename, unless the same applet is already stored there."""
    if destination.is_dir():
        # The ID is the content, so what is there is what we would write.
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    for path in staging.iterdir():
        path.chmod(0o644)
    staging.chmod(0o755)
    try:
        os.rename(staging, destination)
    except OSError:
        if not destination.is_dir():
            raise
    return destination
