"""No dxapp.json, however broken, makes validation crash: it is either valid or a SpecError with problems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.errors import SpecError
from runner.spec.dxapp import Dxapp, load_dxapp

SCALARS = st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20) | \
    st.sampled_from(["main", "*", "bash", "python3", "Ubuntu", "24.04", "int", "array:file", "mem1_ssd1_v2_x4",
                     "file-" + "a" * 24, "$dnanexus_link", "days", "hours", "VIEW"])
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) |
                    st.dictionaries(st.text(max_size=10) | st.sampled_from(["name", "class", "default", "*", "main"]),
                                    inner, max_size=4), max_leaves=20)
KEYS = ["name", "title", "dxapi", "version", "inputSpec", "outputSpec", "access", "httpsApp", "regionalOptions",
        "ignoreReuse", "treeTurnaroundTimeThreshold", "details"]
RUN_KEYS = ["interpreter", "file", "distribution", "release", "systemRequirements", "timeoutPolicy",
            "executionPolicy", "execDepends", "bundledDepends", "restartableEntryPoints"]


def _base() -> dict[str, Any]:
    return {"name": "f", "inputSpec": [{"name": "a", "class": "int", "default": 1}],
            "runSpec": {"interpreter": "bash", "file": "src/x.sh", "distribution": "Ubuntu", "release": "24.04",
                        "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x4"}}}}


def _check(document: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "src").mkdir()
        (root / "src" / "x.sh").write_text("main() { :; }\n")
        (root / "dxapp.json").write_bytes(document)
        try:
            result = load_dxapp(root)
        except SpecError as exc:
            assert exc.problems, "a SpecError must list at least one problem"
            assert all(isinstance(p.message, str) and p.message for p in exc.problems)
        else:
            assert isinstance(result, Dxapp)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_any_json_document(document: Any) -> None:
    _check(json.dumps(document).encode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=4), st.dictionaries(st.sampled_from(RUN_KEYS), JSON, max_size=4))
def test_valid_document_with_fields_replaced(top: dict[str, Any], run: dict[str, Any]) -> None:
    document = _base()
    document.update(top)
    document["runSpec"].update(run)
    _check(json.dumps(document).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    _check(data)


def test_huge_values() -> None:
    document = _base()
    document["treeTurnaroundTimeThreshold"] = 10**400
    document["runSpec"]["timeoutPolicy"] = {"*": {"days": 1e308, "hours": 1e308}}
    document["inputSpec"] = [{"name": "n" * 100000, "class": "int", "default": 10**400}]
    _check(json.dumps(document).encode())
