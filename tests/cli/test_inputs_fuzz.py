"""Any `-i` pairs and `-j` text, with or without an inputSpec: a run input, or one UsageError naming the flag."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from runner.cli._inputs import SCALAR_CLASSES, SHOWN_CHARS, parse_inputs
from runner.errors import UsageError

NAMES = st.sampled_from(["a", "b", "n", "reads", "_x"])
CLASSES = sorted(SCALAR_CLASSES) + [f"array:{c}" for c in sorted(SCALAR_CLASSES)]
ID_TAIL = st.text("0123456789ABCDEFGHJKQVXYZabcdefghjkmnpqrstuvwxyz", min_size=24, max_size=24)
# Values at the edges of what each class's reader takes: huge numbers, deep JSON, paths too long for the OS.
HOSTILE = st.sampled_from(["1" * 5000, "-" + "9" * 4400, "[" * 3000, '{"a":' * 2000, "x" * 5000, "/" + "a/" * 3000,
                           "a\x00b", "~" + "u" * 300, "1e400", "nan", "-inf"])
VALUES = st.one_of(
    st.text(max_size=12), HOSTILE,
    st.sampled_from(["1", "-7", "+3", "1.5", "true", "No", "0", "{}", "[1, 2]", '{"k": 1}', "~", "~nobody/x", "/",
                     "/etc/hostname", "", "null", '"quoted"', "[[[["]),
    st.tuples(st.sampled_from(["file", "record", "applet", "job", "project", "gtable"]), ID_TAIL)
    .map(lambda p: f"{p[0]}-{p[1]}"),
    st.tuples(ID_TAIL, ID_TAIL, st.sampled_from(["file", "record"])).map(lambda p: f"project-{p[0]}:{p[2]}-{p[1]}"),
    st.tuples(ID_TAIL, NAMES).map(lambda p: f"job-{p[0]}:{p[1]}"),
    st.integers().map(str), st.floats().map(str), st.text(min_size=200, max_size=5000),
)
TYPED_KEYS = st.tuples(NAMES, st.sampled_from(CLASSES)).map(lambda p: f"{p[0]}:{p[1]}")
KEYS = st.one_of(NAMES, TYPED_KEYS, st.tuples(NAMES, st.sampled_from(["nope", "array:", ""]))
                 .map(lambda p: f"{p[0]}:{p[1]}"), st.text(max_size=6))
PAIRS = st.one_of(st.tuples(TYPED_KEYS | NAMES, HOSTILE).map(lambda p: f"{p[0]}={p[1]}"),
                  st.tuples(TYPED_KEYS | NAMES, VALUES).map(lambda p: f"{p[0]}={p[1]}"),
                  st.tuples(KEYS, VALUES).map(lambda p: f"{p[0]}={p[1]}"), st.text(max_size=20))
SPEC_ENTRIES = st.one_of(
    st.fixed_dictionaries({"name": NAMES, "class": st.sampled_from(CLASSES)}),
    st.dictionaries(st.sampled_from(["name", "class", "optional"]), st.none() | st.integers() | NAMES, max_size=3),
)
SPECS = st.none() | st.lists(SPEC_ENTRIES, max_size=4)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
                           max_leaves=6)
J_TEXT = st.none() | JSON_VALUES.map(json.dumps) | st.text(max_size=30) | \
    st.sampled_from(["[" * 3000, "{\"a\": " * 2000, "1" * 5000, "NaN", "{"])


def _named(message: str, pairs: list[str], json_input: str | None) -> bool:
    """Whether an error message names the flag and, for `-i`, the input or the pair it is about."""
    if message.startswith("-j"):
        return json_input is not None
    return message.startswith("-i ") and any(pair.partition("=")[0].partition(":")[0] in message or
                                             repr(pair[:SHOWN_CHARS])[:-1] in message for pair in pairs)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PAIRS, max_size=4), SPECS, J_TEXT)
# Each of these once raised something else than a UsageError (ValueError, OSError, RecursionError).
@example(["n:int=" + "1" * 5000], None, None)
@example(["f:file=" + "x" * 5000], None, None)
@example(["f:file=~" + "u" * 40], None, None)
@example(["a=" + "[" * 3000], None, None)
@example(["a:hash=" + "[" * 3000], None, None)
@example([], None, "[" * 3000)
def test_any_pairs_and_json(pairs: list[str], spec: list[dict[str, Any]] | None, json_input: str | None) -> None:
    try:
        run_input = parse_inputs(pairs, spec, json_input)
    except UsageError as exc:
        event("refused")
        message = str(exc)
        assert "\n" not in message and _named(message, pairs, json_input), message
        assert len(message) < 400, "a message shows a long value cut short"
    else:
        event("accepted")
        assert isinstance(run_input, dict)
        json.dumps(run_input)
