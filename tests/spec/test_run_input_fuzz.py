"""Any input object against any valid inputSpec: the originalInput, or one InvalidInput naming the field.

Never another exception; and what is accepted has every required input and only values of their class.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from runner.errors import InvalidInput
from runner.spec._checks import Checker
from runner.spec.io_spec import (
    CLASSES,
    DATA_CLASSES,
    SCALAR_CLASSES,
    IOParam,
    in_choices,
    read_io_spec,
    value_matches_class,
)
from runner.spec.links import job_ref
from runner.spec.run_input import check_run_input

REASONS = {"class", "type", "missing", "unrecognized", "malformedLink", "choices"}
NAMES = st.sampled_from(["a", "b", "reads", "n", "_x", "flag", "Z9"])
ID_CHARS = "0123456789ABCDEFGHJKQVXYZabcdefghjkmnpqrstuvwxyz"


def object_id(klass: str) -> st.SearchStrategy[str]:
    return st.text(ID_CHARS, min_size=24, max_size=24).map(lambda tail: f"{klass}-{tail}")


def link(klass: str) -> st.SearchStrategy[Any]:
    ids = object_id(klass)
    return ids.map(lambda i: {"$dnanexus_link": i}) | \
        st.tuples(object_id("project"), ids).map(lambda p: {"$dnanexus_link": {"project": p[0], "id": p[1]}})


JOB_REFS = st.tuples(object_id("job"), NAMES).map(lambda r: {"$dnanexus_link": {"job": r[0], "field": r[1]}}) | \
    st.tuples(object_id("job"), NAMES).map(lambda r: {"job": r[0], "field": r[1]})


def value_of(klass: str) -> st.SearchStrategy[Any]:
    item = klass.removeprefix("array:")
    literals: dict[str, st.SearchStrategy[Any]] = {
        "int": st.integers(-(10**20), 10**20), "float": st.floats(allow_nan=False, allow_infinity=False),
        "string": st.text(max_size=8), "boolean": st.booleans(),
        "hash": st.dictionaries(st.text(max_size=4), st.integers() | st.text(max_size=4), max_size=3),
    }
    scalar = literals[item] if item in literals else link(item)
    return st.lists(scalar, max_size=3) if klass.startswith("array:") else scalar


SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
MALFORMED = st.sampled_from([
    {"$dnanexus_link": "file-x", "extra": 1}, {"$dnanexus_link": {"job": "job-" + "a" * 24}},
    {"$dnanexus_link": {"job": "job-" + "a" * 24, "field": "f", "more": 1}}, {"$dnanexus_link": 5},
    {"job": "job-" + "b" * 24}, {"$dnanexus_link": {"project": "project-" + "p" * 24}}, {"$dnanexus_link": None},
])
ANY_VALUE = st.recursive(SCALARS | MALFORMED | JOB_REFS | link("file") | link("record"),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=8)


@st.composite
def params(draw: st.DrawFn, name: str) -> dict[str, Any]:
    klass = draw(st.sampled_from(SCALAR_CLASSES) | st.sampled_from(SCALAR_CLASSES).map(lambda c: f"array:{c}"))
    param: dict[str, Any] = {"name": name, "class": klass}
    if draw(st.booleans()):
        param["optional"] = True
    if klass.removeprefix("array:") not in ("hash", "boolean") and draw(st.booleans()):
        param["choices"] = draw(st.lists(value_of(klass.removeprefix("array:")), min_size=1, max_size=3))
    if draw(st.booleans()):
        default = draw(value_of(klass))
        if "choices" in param:
            items = default if isinstance(default, list) else [default]
            choices = param["choices"]
            default = [choices[0]] * len(items) if isinstance(default, list) else choices[0]
        param["default"] = default
    if klass.removeprefix("array:") in DATA_CLASSES and draw(st.booleans()):
        param["type"] = draw(st.sampled_from(["A", {"$and": ["A", "B"]}, {"$or": ["B", "C"]}]))
    return param


@st.composite
def input_specs(draw: st.DrawFn) -> tuple[IOParam, ...]:
    names = draw(st.lists(NAMES, unique=True, max_size=5))
    raw = [draw(params(name)) for name in names]
    checker = Checker()
    spec = read_io_spec(raw, "inputSpec", checker, is_input=True)
    # Only valid specifications: the generator can still draw a choice list the reader refuses.
    assume(spec is not None and not checker.problems)
    assert spec is not None
    return spec


def input_for(spec: tuple[IOParam, ...]) -> st.SearchStrategy[dict[str, Any]]:
    fitting = st.fixed_dictionaries({}, optional={p.name: value_of(p.klass) | JOB_REFS for p in spec})
    any_class = st.sampled_from(CLASSES).flatmap(value_of)
    crossed = st.fixed_dictionaries({}, optional={p.name: any_class | ANY_VALUE for p in spec})
    wild = st.dictionaries(NAMES | st.text(max_size=6), ANY_VALUE, max_size=4)
    return st.one_of(fitting, crossed, wild, st.tuples(fitting, wild).map(lambda pair: {**pair[1], **pair[0]}))


def types_of(object_id: str) -> list[str] | None:
    """Types of the objects, varied by ID (none known for records), so that the type checks both pass and fail."""
    if object_id.startswith("record"):
        return None
    return ["A", "B"] if object_id[-1] in "0123456789ABCDEF" else ["C"]


def _accepted(spec: tuple[IOParam, ...], given: dict[str, Any], original: dict[str, Any]) -> None:
    for param in spec:
        if param.required:
            assert param.name in original, f"{param.name} is required but was accepted missing"
        if param.name not in original:
            continue
        value = original[param.name]
        if job_ref(value) is not None:
            continue
        items = value if param.is_array else [value]
        assert isinstance(items, list), (param, value)
        for item in items:
            assert job_ref(item) is not None or value_matches_class(item, param.item_class), (param, item)
        if param.choices is not None:
            assert in_choices(value, param.choices, param.klass), (param, value)
    assert set(original) <= {p.name for p in spec}
    assert all(original[name] == value for name, value in given.items() if value is not None)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_any_input_against_a_valid_spec(data: st.DataObject) -> None:
    spec = data.draw(input_specs() | st.none())
    given_input = data.draw(input_for(spec or ()))
    try:
        original = check_run_input(spec, given_input, types_of)
    except InvalidInput as exc:
        event(f"refused: {exc.details['reason']}")
        assert exc.message and exc.details["reason"] in REASONS
        assert exc.details["field"] in set(given_input) | {p.name for p in spec or ()}
    else:
        event("accepted")
        if spec is not None:
            _accepted(spec, given_input, original)
        else:
            assert original == given_input
