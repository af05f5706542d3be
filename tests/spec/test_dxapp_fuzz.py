"""No dxapp.json or folder, however broken, makes validation crash: valid, or a SpecError with every problem.

Through load_dxapp, and through `runner build --dry-run` on random folder shapes (links in and out, FIFOs,
sparse files, folders where files belong): exit 0 or 3 with one message per problem, never a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from runner.cli.main import cli
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


# -- the build path: random documents in random folder shapes through `runner build --dry-run` -----------------

SHAPE_PATHS = ["Readme.md", "Readme.developer.md", "src/x.sh", "src", "src/lib/y.sh", "resources", "resources/a",
               "resources/a/b.txt", "resources/usr/bin/tool", "dxapp.json", "docs/readme.md"]
LINK_TARGETS = ["/etc/hostname", "../outside/secret.txt", "../outside", "/", ".", "..", "src/x.sh", "x.sh",
                "missing", "resources", "../../../../../etc", "loop"]
ENTRIES = st.tuples(st.sampled_from(SHAPE_PATHS),
                    st.sampled_from(["file", "folder", "link", "fifo", "sparse", "binary"]),
                    st.sampled_from(LINK_TARGETS), st.binary(max_size=20))


def _make(root: Path, relative: str, kind: str, target: str, data: bytes) -> None:
    """Create one entry of a shape, never through a link out of `root` and never opening what is there."""
    path = root / relative
    if not os.path.realpath(path.parent).startswith(os.path.realpath(root) + os.sep) and path.parent != root:
        return  # a link in the shape leads out: creating there would write to the host
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "folder":
            path.mkdir()
        elif kind == "link":
            path.symlink_to(relative if target == "loop" else target)
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as stream:
                if kind == "sparse":
                    stream.truncate(600 * 2**20)
                else:
                    stream.write(data if kind == "binary" else b"main() { :; }\n")
    except OSError:
        pass  # the shape already holds something there: that is a shape too


def _dry_run(folder: Path, as_json: bool) -> tuple[int, str]:
    args = ["build", str(folder), "--dry-run", *(["--json"] if as_json else [])]
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ENTRIES, max_size=6), st.none() | JSON, st.booleans())
def test_any_folder_shape_through_the_dry_run(entries: list[tuple[str, str, str, bytes]], document: Any,
                                              as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "outside").mkdir()
        (Path(scratch) / "outside" / "secret.txt").write_text("host secret\n")
        folder = Path(scratch) / "app"
        folder.mkdir()
        (folder / "dxapp.json").write_text(json.dumps(_base() if document is None else document))
        (folder / "src").mkdir()
        (folder / "src" / "x.sh").write_text("main() { :; }\n")
        for entry in entries:
            _make(folder, *entry)
        code, output = _dry_run(folder, as_json)
    event(f"exit {code}")
    assert code in (0, 3), output
    assert "Traceback" not in output and "host secret" not in output
    if not as_json:
        return
    report = json.loads(output)
    assert report["valid"] is (code == 0)
    listed = [(p["path"], p["message"]) for p in report["problems"]]
    assert (len(listed) > 0) is (code == 3) and len(set(listed)) == len(listed)
    assert all(isinstance(message, str) and message for _, message in listed)
