"""/applet-xxxx/validateBatch: batch inputs expanded into one input per run, with the documented checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.errors import InvalidInput
from runner.spec.io_spec import IOParam
from runner.spec.links import data_link_id
from runner.spec.run_input import check_run_input


def _file_ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [i for item in value for i in _file_ids(item)]
    object_id = data_link_id(value)
    return [object_id] if object_id is not None else []


def _files(body: Mapping[str, Any]) -> set[str] | None:
    if "files" not in body:
        return None
    files = body["files"]
    if not isinstance(files, list) or any(data_link_id(f) is None for f in files):
        raise InvalidInput("Expected `files` to be an array of `$dnanexus_link` references to files")
    return {i for f in files for i in _file_ids(f)}


def expand_batch(spec: tuple[IOParam, ...], body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One input mapping per batch run; raises InvalidInput naming the first problem."""
    batch = body.get("batchInput")
    if not isinstance(batch, Mapping):
        raise InvalidInput("Expected `batchInput` to be a JSON object")
    common = body.get("commonInput", {})
    if not isinstance(common, Mapping):
        raise InvalidInput("Expected `commonInput` to be a JSON object")
    files = _files(body)
    known = {p.name: p for p in spec}
    for name, values in batch.items():
        if name not in known:
            raise InvalidInput(f"The applet input field {name!r} is not defined in the input specification of the applet")
        if not isinstance(values, list):
            raise InvalidInput(f"Expected the value of `batchInput` for the applet input field {name!r} to be an array")
        if not values:
            raise InvalidInput(f"The `batchInput` field {name!r} is required but empty array was provided")
    for name in common:
        if name not in known:
            raise InvalidInput(f"The applet input field {name!r} is not defined in the input specification of the applet")
    lengths = {len(v) for v in batch.values()}
    if len(lengths) > 1:
        raise InvalidInput("Expected the length of all arrays in `batchInput` to be equal")
    for param in spec:
        if param.required and param.name not in batch and param.name not in common:
            raise InvalidInput(f"The applet input field {param.name!r} value must be specified in `batchInput`")
        if param.required and param.name in batch and any(v is None for v in batch[param.name]):
            raise InvalidInput(f"All the values of the `batchInput` field {param.name!r} must be provided (cannot be "
                               "`null`) since the field is required and has no default value")
    runs = []
    for index in range(lengths.pop() if lengths else 0):
        run = {**common, **{name: values[index] for name, values in batch.items()}}
        if files is not None and not set(_file_ids(list(run.values()))) <= files:
            raise InvalidInput("Expected all the files in `batchInput` and `commonInput` to be referenced in the "
                               "`files` input array")
        check_run_input(spec, {k: v for k, v in run.items() if v is not None})
        runs.append(run)
    return runs
