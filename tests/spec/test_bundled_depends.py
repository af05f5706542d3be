"""runSpec.assetDepends and runSpec.bundledDepends as dxapp.json gives them: each bad entry named by its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.spec.test_dxapp import minimal, problems_of, write_applet

FILE = {"$dnanexus_link": "file-" + "F" * 24}


@pytest.mark.parametrize(("run_spec", "path", "says"), [
    ({"assetDepends": {"id": "record-x"}}, "runSpec.assetDepends", "an array"),
    ({"assetDepends": ["samtools"]}, "runSpec.assetDepends[0]", '{"id": "record-..."}'),
    ({"assetDepends": [{"id": "file-" + "F" * 24}]}, "runSpec.assetDepends[0].id", 'a record ID "record-..."'),
    ({"assetDepends": [{"name": "samtools"}]}, "runSpec.assetDepends[0]", '"name" and "version"'),
    ({"assetDepends": [{"name": "s", "version": "1", "project": 7}]}, "runSpec.assetDepends[0].project",
     "string"),
    ({"assetDepends": [{"id": "record-" + "R" * 24, "stages": "main"}]}, "runSpec.assetDepends[0].stages",
     "array"),
    ({"bundledDepends": [{"name": "t.tar.gz", "id": {"$dnanexus_link": "record-" + "R" * 24}}]},
     "runSpec.bundledDepends[0].id", "file link"),
    ({"bundledDepends": [{"name": "t.tar.gz", "id": FILE, "stages": [1]}]}, "runSpec.bundledDepends[0].stages[0]",
     "expected a string"),
])
def test_a_bad_entry_is_named_by_its_path(tmp_path: Path, run_spec: dict[str, Any], path: str, says: str) -> None:
    problems = problems_of(write_applet(tmp_path, minimal(runSpec=run_spec)))
    assert path in problems, problems
    assert says in problems[path]


def test_good_entries_pass(tmp_path: Path) -> None:
    from runner.spec.dxapp import load_dxapp

    run_spec = {"assetDepends": [{"id": "record-" + "R" * 24, "stages": ["main"]},
                                 {"name": "samtools", "version": "1.9", "project": "project-x", "folder": "/a"}],
                "bundledDepends": [{"name": "t.tar.gz", "id": FILE, "stages": ["main", "other"]}]}
    dxapp = load_dxapp(write_applet(tmp_path, minimal(runSpec=run_spec)))
    assert len(dxapp.run_spec.asset_depends) == 2 and len(dxapp.run_spec.bundled_depends) == 1
