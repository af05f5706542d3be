"""`runner run --batch-tsv FILE`: one run per row of a `dx generate_batch_inputs`-style TSV file.

The header's first column is `batch ID`, the others are input names. For a file input dx writes two
columns, `reads` (the file's name) and `reads ID` (its ID): both are accepted and the ID column wins.
Array cells are written `[a, b]`; an empty cell is `null` (the input's default applies). The rows are
checked by /applet-xxxx/validateBatch before any job starts.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.cli._inputs import Uploader, parse_value
from runner.client.api import EngineClient
from runner.errors import ApiError, UsageError
from runner.spec.ids import id_class
from runner.spec.links import data_link_id

ID_SUFFIX = " ID"
BATCH_ID_HEADER = "batch id"


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The rows of a batch file: their batch IDs and the `batchInput` of /applet-xxxx/validateBatch."""

    batch_ids: tuple[str, ...]
    batch_input: Mapping[str, list[Any]]


def read_batch_tsv(path: Path, input_spec: Sequence[Mapping[str, Any]] | None,
                   upload: Uploader | None = None) -> BatchPlan:
    """The batch plan of a TSV file; raises UsageError naming `--batch-tsv` and the row for a bad cell."""
    rows = _rows(path)
    if not rows or not rows[0] or rows[0][0].strip().lower() != BATCH_ID_HEADER:
        raise UsageError(f"--batch-tsv: {path}: the first column of the header row must be 'batch ID'")
    classes = {str(p.get("name")): str(p.get("class", "")) for p in input_spec or []}
    columns = _columns(rows[0][1:], classes if input_spec is not None else None)
    batch_ids: list[str] = []
    batch_input: dict[str, list[Any]] = {name: [] for name in columns}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(rows[0]):
            raise UsageError(f"--batch-tsv: line {number} has {len(row)} columns, the header {len(rows[0])}")
        batch_ids.append(row[0].strip())
        for name, index in columns.items():
            try:
                batch_input[name].append(_cell(name, classes.get(name) or None, row[index + 1].strip(), upload))
            except UsageError as exc:
                raise UsageError(f"--batch-tsv: line {number} ({row[0].strip()}): {exc}") from None
    if not batch_ids:
        raise UsageError(f"--batch-tsv: {path} has no rows after its header")
    return BatchPlan(tuple(batch_ids), batch_input)


def _rows(path: Path) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            return [row for row in csv.reader(stream, delimiter="\t")]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"--batch-tsv: cannot read {path}: {exc}") from None


def _columns(header: Sequence[str], classes: Mapping[str, str] | None) -> dict[str, int]:
    """Input name → the column to read it from (the `NAME ID` column over the `NAME` one)."""
    columns: dict[str, int] = {}
    for index, title in enumerate(h.strip() for h in header):
        is_id_column = title.endswith(ID_SUFFIX)
        name = title.removesuffix(ID_SUFFIX) if is_id_column else title
        if classes is not None and name not in classes:
            raise UsageError(f"--batch-tsv: the column {title!r} names no input of the applet "
                             f"(inputs: {', '.join(classes) or 'none'})")
        if is_id_column or name not in columns:
            columns[name] = index
    return columns


def _cell(name: str, klass: str | None, cell: str, upload: Uploader | None) -> Any:
    if not cell:
        return None
    if klass and klass.startswith("array:"):
        inner = cell[1:-1] if cell.startswith("[") and cell.endswith("]") else cell
        items = [item.strip() for item in inner.split(",") if item.strip()]
        return [parse_value(name, klass.removeprefix("array:"), item, upload) for item in items]
    return parse_value(name, klass, cell, upload)


def file_links(*inputs: Mapping[str, Any]) -> list[dict[str, str]]:
    """A link to every file the inputs name, each once: the `files` of validateBatch."""
    found: dict[str, None] = {}

    def visit(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                visit(item)
            return
        object_id = data_link_id(value)
        if object_id is not None and id_class(object_id) == "file":
            found[object_id] = None

    for given in inputs:
        for value in given.values():
            visit(value)
    return [{"$dnanexus_link": object_id} for object_id in found]


def run_batch(client: EngineClient, applet: str, plan: BatchPlan, common: Mapping[str, Any],
              body: Mapping[str, Any], job_name: str) -> list[str]:
    """Check the batch with /applet-xxxx/validateBatch, then start one job per row; their IDs."""
    answer = client.call(f"/{applet}/validateBatch", {
        "batchInput": dict(plan.batch_input), "commonInput": dict(common),
        "files": file_links(plan.batch_input, common),
    })
    expanded = answer.get("expandedBatch") if isinstance(answer, dict) else None
    if not isinstance(expanded, list) or len(expanded) != len(plan.batch_ids):
        raise ApiError(f"/{applet}/validateBatch answered without one input per row: {answer!r}")
    jobs = []
    for batch_id, run_input in zip(plan.batch_ids, expanded, strict=True):
        properties = {**dict(body.get("properties") or {}), "batch-id": batch_id}
        request = {**body, "input": {k: v for k, v in run_input.items() if v is not None},
                   "name": f"{job_name}-{batch_id}", "properties": properties}
        started = client.call(f"/{applet}/run", request)
        if not isinstance(started, dict) or not isinstance(started.get("id"), str):
            raise ApiError(f"/{applet}/run answered without a job ID: {started!r}")
        jobs.append(started["id"])
    return jobs
