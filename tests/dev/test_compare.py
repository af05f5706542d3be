"""Outputs compared with the previous run's against a real engine's files: by content, whatever the parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.client.files import upload_file
from runner.dev.compare import CHANGED, MISSING, NEW, SAME, OutputChange, compare_outputs

pytestmark = pytest.mark.docker


def uploaded(engine: EngineClient, tmp_path: Path, name: str, data: bytes, part_size: int) -> dict[str, str]:
    """A closed file holding `data`, uploaded in parts of `part_size` bytes, as a link."""
    local = tmp_path / name
    local.write_bytes(data)
    assert engine.project is not None
    return {"$dnanexus_link": upload_file(engine, local, project=engine.project, part_size=part_size)}


def test_files_are_compared_by_content_scalars_by_value_and_missing_and_new_named(engine: EngineClient,
                                                                                 tmp_path: Path) -> None:
    data = b"0123456789" * 10
    one_part = uploaded(engine, tmp_path, "a", data, part_size=1000)
    three_parts = uploaded(engine, tmp_path, "b", data, part_size=40)
    same_size = uploaded(engine, tmp_path, "c", data[:-1] + b"!", part_size=40)
    longer = uploaded(engine, tmp_path, "d", data + b"more", part_size=1000)
    before = {"file": one_part, "files": [one_part, one_part], "n": 1, "gone": "x", "same_bytes": one_part,
              "size": one_part}
    after = {"file": three_parts, "files": [three_parts, same_size], "n": 2, "fresh": True,
             "same_bytes": same_size, "size": longer}
    verdicts = {c.name: c.verdict for c in compare_outputs(engine, before, after)}
    assert verdicts == {"file": SAME, "files": CHANGED, "n": CHANGED, "gone": MISSING, "fresh": NEW,
                        "same_bytes": CHANGED, "size": CHANGED}
    assert compare_outputs(engine, None, {"n": 1}) == [OutputChange("n", NEW, 1)]
