"""The applet ID a source folder would build to now, worked out without building anything.

It reads the folder exactly as `build_applet` does (`load_dxapp`, with runner.spec's checks of what a build may
read: links out of the folder, FIFOs, sizes) and hashes the same three things (`applet_id_of`): the dxapp.json
document, the code and the resources bundle. No image is made and nothing is stored; the bundle is written to a
scratch file only to be hashed, and removed. Its digest is remembered for the exact listing it was made from
(every path's type, size, mtime and inode, as git's index does), so asking again about a folder whose large
resources/ did not change does not write it again; dxapp.json and the code are hashed every time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from runner.build._bundle import file_digest, has_resources, write_resources_tar
from runner.build.applet import RESOURCES_TAR, applet_id_of
from runner.build.bundles import AssetCatalog, asset_archives, resolve_bundles
from runner.spec.dxapp import Dxapp, load_dxapp

DIGESTS_KEPT = 64
RACY_NS = 2_000_000_000
"""A file written this recently may change again within its mtime's granularity: its digest is not remembered."""
_digests: OrderedDict[tuple[str, tuple[tuple[str, int, int, int, int], ...]], str] = OrderedDict()
_digests_lock = threading.Lock()  # the route asks from worker threads


@dataclass(frozen=True, slots=True)
class SourceId:
    """A source folder's applet: the ID a build would give it now, its specification and the build's warnings."""

    applet_id: str
    dxapp: Dxapp
    warnings: tuple[str, ...]


def source_applet_id(folder: Path, scratch_root: Path, catalog: AssetCatalog | None = None) -> SourceId:
    """The ID `build_applet(folder, ...)` would give (its assets resolved in `catalog`, when given); SpecError
    with every problem when a build would refuse."""
    dxapp = load_dxapp(folder)
    run_spec = dxapp.raw.get("runSpec") or {}
    assets = asset_archives(resolve_bundles(run_spec, dxapp.run_spec.release, catalog)) if catalog else None
    digest = _resources_digest(folder / "resources", scratch_root) if has_resources(folder / "resources") else None
    code = dxapp.run_spec.code.encode("utf-8")
    return SourceId(applet_id_of(dict(dxapp.raw), code, digest, assets), dxapp, tuple(str(w) for w in dxapp.warnings))


def _listing(resources: Path) -> tuple[tuple[str, int, int, int, int], ...]:
    entries = []
    for top, dirs, files in os.walk(resources):
        dirs.sort()
        for name in sorted([*dirs, *files]):
            st = os.lstat(os.path.join(top, name))
            entries.append((os.path.relpath(os.path.join(top, name), resources), st.st_mode, st.st_size,
                            st.st_mtime_ns, st.st_ino))
    return tuple(entries)


def _resources_digest(resources: Path, scratch_root: Path) -> str:
    listed_at = time.time_ns()
    key = (os.path.realpath(resources), _listing(resources))
    with _digests_lock:
        if key in _digests:
            _digests.move_to_end(key)
            return _digests[key]
    scratch_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="source-id-", dir=scratch_root))
    try:
        write_resources_tar(resources, scratch / RESOURCES_TAR)
        digest = file_digest(scratch / RESOURCES_TAR)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if all(entry[3] < listed_at - RACY_NS for entry in key[1]):
        with _digests_lock:
            _digests[key] = digest
            while len(_digests) > DIGESTS_KEPT:
                _digests.popitem(last=False)
    return digest
