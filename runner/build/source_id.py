"""The applet ID a source folder would build to now, worked out without building anything.

It reads the folder exactly as `build_applet` does (`load_dxapp`, with runner.spec's checks of what a build may
read: links out of the folder, FIFOs, sizes) and hashes the same three things (`applet_id_of`): the dxapp.json
document, the code and the resources bundle. No image is made and nothing is stored; the bundle is written to a
scratch file only to be hashed, and removed.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runner.build._bundle import file_digest, has_resources, write_resources_tar
from runner.build.applet import RESOURCES_TAR, applet_id_of
from runner.spec.dxapp import Dxapp, load_dxapp


@dataclass(frozen=True, slots=True)
class SourceId:
    """A source folder's applet: the ID a build would give it now, its specification and the build's warnings."""

    applet_id: str
    dxapp: Dxapp
    warnings: tuple[str, ...]


def source_applet_id(folder: Path, scratch_root: Path) -> SourceId:
    """The ID `build_applet(folder, ...)` would give; SpecError with every problem when a build would refuse."""
    dxapp = load_dxapp(folder)
    digest = None
    if has_resources(folder / "resources"):
        scratch_root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="source-id-", dir=scratch_root))
        try:
            write_resources_tar(folder / "resources", scratch / RESOURCES_TAR)
            digest = file_digest(scratch / RESOURCES_TAR)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    code = dxapp.run_spec.code.encode("utf-8")
    return SourceId(applet_id_of(dict(dxapp.raw), code, digest), dxapp, tuple(str(w) for w in dxapp.warnings))
