"""An asset's source folder, read as `dx build_asset` reads it: `dxasset.json`, optional resources/ and Makefile.

    {"name": "samtools_asset", "title": "...", "description": "...", "version": "1.0.0",
     "distribution": "Ubuntu", "release": "24.04",
     "execDepends": [{"name": "samtools"}, {"name": "pysam", "package_manager": "pip"}],
     "instanceType": "mem1_ssd1_v2_x4"}

name, title, description, version and release are required (as the platform's builder requires them);
distribution defaults to Ubuntu. Every problem is reported with its JSON path, not just the first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import Problem, SpecError
from runner.spec import instance_types
from runner.spec._checks import Checker, join
from runner.spec.dxapp import MAX_DXAPP_BYTES, parse_json_document
from runner.spec.run_spec import DISTRIBUTIONS, PACKAGE_MANAGERS, RELEASES, ExecDepend, read_exec_depends
from runner.spec.source_folder import FolderRefusal, read_regular_file

DXASSET = "dxasset.json"
MAKEFILES = ("Makefile", "makefile")
# Managers this runner installs in the build container; the platform's others (gem, cpan, ...) are refused.
LOCAL_MANAGERS = ("apt", "pip", "pip3")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9._+-]+$")
_FIELDS = frozenset({"name", "title", "description", "version", "distribution", "release", "execDepends",
                     "instanceType", "runSpecVersion"})


@dataclass(frozen=True, slots=True)
class Dxasset:
    """A validated dxasset.json, with what the folder holds beside it."""

    name: str
    title: str
    description: str
    version: str
    distribution: str
    release: str
    exec_depends: tuple[ExecDepend, ...]
    instance_type: str | None
    makefile: str | None
    has_resources: bool
    warnings: tuple[Problem, ...] = ()


def load_dxasset(folder: str | Path) -> Dxasset:
    """Read and validate `folder/dxasset.json`; SpecError lists every problem with its JSON path."""
    folder = Path(folder)
    source = str(folder / DXASSET)
    if not folder.is_dir():
        raise SpecError(source, [Problem("", f"{folder} is not a folder (expected an asset folder with a "
                                             f"{DXASSET})")])
    try:
        data = read_regular_file(folder, DXASSET, MAX_DXAPP_BYTES)
    except FolderRefusal as exc:
        raise SpecError(source, [Problem(DXASSET, str(exc))]) from None
    if data is None:
        raise SpecError(source, [Problem("", f"no {DXASSET} in {folder}: an asset folder needs one")])
    checker = Checker()
    raw = parse_json_document(data, checker)
    if checker.problems:
        raise SpecError(source, checker.problems)
    asset = read_dxasset(raw, checker, folder)
    if asset is None or checker.problems:
        raise SpecError(source, checker.problems)
    return asset


def read_dxasset(raw: Any, checker: Checker, folder: Path) -> Dxasset | None:
    """Check a parsed dxasset.json document; None (with problems in `checker`) when it is invalid."""
    if not isinstance(raw, Mapping):
        checker.wrong_type("", "a JSON object", raw)
        return None
    checker.unknown_keys(raw, "", _FIELDS, strict=False)
    name = checker.string(raw, "name", "", required=True)
    if name is not None and not NAME_PATTERN.match(name):
        checker.problem("name", f"{name!r} may hold only letters, digits and . _ + - (it names the record "
                        "and its archive)")
    texts = {key: checker.string(raw, key, "", required=True) for key in ("title", "description", "version")}
    distribution = checker.one_of(raw, "distribution", "", DISTRIBUTIONS) or "Ubuntu"
    release = checker.one_of(raw, "release", "", RELEASES, required=True)
    depends = read_exec_depends(raw.get("execDepends"), "execDepends", checker, network=True)
    _check_managers(raw.get("execDepends"), checker)
    instance_type = checker.string(raw, "instanceType", "")
    if instance_type is not None and instance_types.lookup(instance_type) is None:
        checker.problem("instanceType", instance_types.unknown_type_message(instance_type))
    makefile = next((m for m in MAKEFILES if (folder / m).is_file()), None)
    if name is None or release is None or None in texts.values():
        return None
    return Dxasset(name=name, title=str(texts["title"]), description=str(texts["description"]),
                   version=str(texts["version"]), distribution=distribution, release=release,
                   exec_depends=depends, instance_type=instance_type, makefile=makefile,
                   has_resources=(folder / "resources").is_dir(), warnings=tuple(checker.warnings))


def _check_managers(raw: Any, checker: Checker) -> None:
    """Package managers the platform knows but this runner cannot install from are problems, by path."""
    if not isinstance(raw, list):
        return
    for index, item in enumerate(raw):
        manager = item.get("package_manager", "apt") if isinstance(item, Mapping) else "apt"
        if manager in PACKAGE_MANAGERS and manager not in LOCAL_MANAGERS:
            checker.problem(join(join("execDepends", index), "package_manager"),
                            f"{manager!r} packages cannot be installed into an asset here: use apt or pip, or "
                            "install it from the Makefile")
