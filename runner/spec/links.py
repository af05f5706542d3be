"""DNAnexus links (`{"$dnanexus_link": ...}`) and job-based object references, in both documented forms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.spec._checks import Checker, is_int, join
from runner.spec.ids import id_class, is_id

LINK_KEY = "$dnanexus_link"


@dataclass(frozen=True, slots=True)
class JobRef:
    """A reference to a field of another job's output: `{"$dnanexus_link": {"job", "field", "index"?}}`."""

    job: str
    field: str
    index: int | None = None


def data_link_id(value: object) -> str | None:
    """The object ID of a data link (`{"$dnanexus_link": "file-x"}` or `{... {"project", "id"}}`), else None."""
    if not isinstance(value, Mapping) or set(value) != {LINK_KEY}:
        return None
    target = value[LINK_KEY]
    if isinstance(target, str) and is_id(target):
        return target
    if isinstance(target, Mapping) and set(target) == {"project", "id"}:
        object_id = target["id"]
        return object_id if isinstance(object_id, str) and is_id(object_id) else None
    return None


def job_ref(value: object) -> JobRef | None:
    """The job-based reference `value` stands for, in the `$dnanexus_link` form or the older bare form."""
    if not isinstance(value, Mapping):
        return None
    body = value.get(LINK_KEY) if set(value) == {LINK_KEY} else value
    if not isinstance(body, Mapping) or not {"job", "field"} <= set(body) or set(body) - {"job", "field", "index"}:
        return None
    job, field, index = body.get("job"), body.get("field"), body.get("index")
    if not is_id(job, "job") or not isinstance(field, str):
        return None
    if index is not None and not (is_int(index) and index >= 0):
        return None
    assert isinstance(job, str)
    return JobRef(job, field, index)


def link_class(value: object) -> str | None:
    """The class (`file`, `record`, `applet`...) of the object a data link points at, else None."""
    object_id = data_link_id(value)
    return id_class(object_id) if object_id else None


def check_details_links(value: Any, path: str, checker: Checker) -> None:
    """Apply /applet/new's rules for `$dnanexus_link` inside `details`, recursively."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_details_links(item, join(path, index), checker)
        return
    if not isinstance(value, Mapping):
        return
    if LINK_KEY in value:
        if len(value) != 1:
            checker.problem(path, f"a mapping with {LINK_KEY!r} must have no other key")
        elif not isinstance(value[LINK_KEY], str):
            checker.problem(join(path, LINK_KEY), f"the value of {LINK_KEY!r} must be a string (an object ID)")
        return
    for key, item in value.items():
        check_details_links(item, join(path, key), checker)
