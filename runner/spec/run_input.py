"""Checking a run's input against an input specification, as /applet-xxxx/run documents it.

Each problem is an InvalidInput whose `details` are `{field, reason, expected}` with the documented
reasons: class, type, missing, unrecognized, malformedLink (expected: `key field`, `only two keys`,
`key $dnanexus_link`) and choices. With no inputSpec, only links are checked. Job-based references
pass the class checks: they are resolved, and checked again, when the job is dispatched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runner.errors import InvalidInput
from runner.spec.io_spec import DATA_CLASSES, IOParam, in_choices, value_matches_class
from runner.spec.links import LINK_KEY, data_link_id, job_ref

TypesOf = Callable[[str], "list[str] | None"]


def _invalid(field: str, reason: str, expected: Any, message: str) -> InvalidInput:
    return InvalidInput(message, {"field": field, "reason": reason, "expected": expected})


def link_problem(value: Any) -> str | None:
    """The malformedLink `expected` text for a malformed link or reference inside `value`, else None."""
    if isinstance(value, list):
        return next((p for p in map(link_problem, value) if p), None)
    if not isinstance(value, Mapping):
        return None
    if LINK_KEY in value:
        target = value[LINK_KEY]
        if len(value) != 1:
            return "key $dnanexus_link"
        if isinstance(target, Mapping) and ("job" in target or "field" in target):
            return _job_ref_problem(target)
        return None if data_link_id(value) is not None or isinstance(target, str) else "key $dnanexus_link"
    if "job" in value and ("field" in value or len(value) <= 2) and isinstance(value.get("job"), str) \
            and value["job"].startswith("job-"):
        return _job_ref_problem(value)
    return next((p for p in map(link_problem, value.values()) if p), None)


def _job_ref_problem(body: Mapping[str, Any]) -> str | None:
    if "field" not in body:
        return "key field"
    if set(body) - {"job", "field", "index"}:
        return "only two keys"
    return None if job_ref({LINK_KEY: dict(body)}) is not None else "key field"


def _is_reference(value: Any) -> bool:
    return job_ref(value) is not None


def _check_link_key(param: IOParam, value: Any) -> None:
    """A hash given for a data object (not a job-based reference) must be a `$dnanexus_link`."""
    if param.item_class in DATA_CLASSES and isinstance(value, Mapping) and LINK_KEY not in value \
            and not _is_reference(value):
        raise _invalid(param.name, "malformedLink", "key $dnanexus_link",
                       f"i/o value for {param.name} has a malformed link: expected key $dnanexus_link")


def _check_class(param: IOParam, value: Any) -> None:
    if _is_reference(value):
        return
    if param.is_array:
        if not isinstance(value, list):
            raise _invalid(param.name, "class", "array",
                           f"i/o value for {param.name} is not an array (class {param.klass})")
        for item in value:
            _check_link_key(param, item)
            if not _is_reference(item) and not value_matches_class(item, param.item_class):
                raise _invalid(param.name, "class", param.item_class,
                               f"i/o value for {param.name} has an element that is not {param.item_class}")
        return
    _check_link_key(param, value)
    if not value_matches_class(value, param.klass):
        raise _invalid(param.name, "class", param.klass, f"i/o value for {param.name} is not {param.klass}")


def _check_type(param: IOParam, value: Any, types_of: TypesOf | None) -> None:
    wanted = param.raw.get("type")
    if wanted is None or types_of is None or param.item_class not in DATA_CLASSES:
        return
    for item in value if isinstance(value, list) else [value]:
        object_id = data_link_id(item)
        if object_id is None:
            continue
        types = types_of(object_id)
        if types is not None and not _satisfies(wanted, types):
            raise _invalid(param.name, "type", wanted,
                           f"i/o value for {param.name}: {object_id} does not have the type {wanted}")


def _satisfies(wanted: Any, types: list[str]) -> bool:
    if isinstance(wanted, str):
        return wanted in types
    if isinstance(wanted, Mapping) and "$and" in wanted:
        return all(_satisfies(w, types) for w in wanted["$and"])
    if isinstance(wanted, Mapping) and "$or" in wanted:
        return any(_satisfies(w, types) for w in wanted["$or"])
    return True


def check_run_input(
    spec: tuple[IOParam, ...] | None, given: Mapping[str, Any], types_of: TypesOf | None = None
) -> dict[str, Any]:
    """The run's originalInput (the given input with defaults filled in); raises InvalidInput."""
    for name, value in given.items():
        problem = link_problem(value)
        if problem is not None:
            raise _invalid(name, "malformedLink", problem, f"i/o value for {name} has a malformed link: "
                           f"expected {problem}")
    if spec is None:
        return dict(given)
    known = {param.name: param for param in spec}
    for name in given:
        if name not in known:
            raise _invalid(name, "unrecognized", None, f"input {name!r} is not in the input specification "
                           f"(inputs: {', '.join(known) or 'none'})")
    original: dict[str, Any] = {}
    for param in spec:
        if param.name in given and given[param.name] is not None:
            value = given[param.name]
        elif param.has_default:
            value = param.default
        elif param.optional:
            continue
        else:
            raise _invalid(param.name, "missing", param.klass, f"input {param.name!r} is required but missing")
        _check_class(param, value)
        _check_type(param, value, types_of)
        if param.choices is not None and not _is_reference(value) and not in_choices(value, param.choices, param.klass):
            raise _invalid(param.name, "choices", list(param.choices),
                           f"i/o value for {param.name} is not one of the choices")
        original[param.name] = value
    return original
