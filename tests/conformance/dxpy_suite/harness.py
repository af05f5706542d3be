"""dxpy's own tests against an engine: fetch them from the pinned sdist, run them in a venv, read the results."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from runner.build.images import DXPY_VERSION

HERE = Path(__file__).resolve().parent
CONFORMANCE = HERE.parent
PASSING_LIST = CONFORMANCE / "dxpy_passing.txt"
SCOPE_DOC = CONFORMANCE / "DXPY.md"
TEST_FILES = ("test_dxpy.py", "test_dxfile_functions.py", "test_dxfile_download.py", "test_describe.py",
              "test_dxclient.py")
# What dxpy's tests import beyond dxpy itself (pinned as dx-toolkit's requirements_test.txt pins them).
TEST_REQUIREMENTS = ("mock==5.2.0", "pytest==7.4.2", "parameterized==0.8.1", "pexpect==4.9.0", "requests==2.31.0")
PYTEST_INI = "[pytest]\nmarkers =\n    TRACEABILITY_MATRIX: the platform's requirement IDs\n"
_OUT_OF_SCOPE_ROW = re.compile(r"^\|\s*`(test_[\w.]+::[\w:]+)`\s*\|\s*(.+?)\s*\|\s*$")


@dataclass(frozen=True)
class SuiteResult:
    """The outcome of every in-scope dxpy test, by node ID ("test_dxpy.py::TestDXFile::test_x")."""

    outcomes: dict[str, str]
    reasons: dict[str, str]

    @property
    def passed(self) -> set[str]:
        """The node IDs that passed."""
        return {node for node, outcome in self.outcomes.items() if outcome == "passed"}

    def summary(self) -> str:
        """The figure: "N of M in-scope dxpy tests pass"."""
        return f"{len(self.passed)} of {len(self.outcomes)} in-scope dxpy tests pass (dxpy {DXPY_VERSION})"


def cache_folder() -> Path:
    """Where the sdist, its tests and the venv are kept between runs (never inside the repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "applet-runner" / f"dxpy-tests-{DXPY_VERSION}"


class FetchError(RuntimeError):
    """dxpy's sdist or the venv's packages could not be had (the package registry is needed the first time)."""


def _pip(python: str | Path, *args: str) -> None:
    done = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise FetchError(f"pip {' '.join(args)} failed (exit {done.returncode}); the first run needs the package "
                         f"registry, later ones use {cache_folder()}:\n{done.stderr[-2000:]}")


def fetch_tests(cache: Path) -> Path:
    """The folder holding dxpy's in-scope test files, our dxpy_testutil and a pytest.ini (fetched once)."""
    tests = cache / "tests"
    if not all((tests / name).is_file() for name in TEST_FILES):
        sdist_folder = cache / "sdist"
        sdist = sdist_folder / f"dxpy-{DXPY_VERSION}.tar.gz"
        if not sdist.is_file():
            _pip(sys.executable, "download", "--no-binary", ":all:", "--no-deps",
                 f"dxpy=={DXPY_VERSION}", "-d", str(sdist_folder))
        staging = cache / "tests.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with tarfile.open(sdist) as archive:
            for name in TEST_FILES:
                member = archive.extractfile(f"dxpy-{DXPY_VERSION}/test/{name}")
                assert member is not None, f"{name} is not in the dxpy {DXPY_VERSION} sdist"
                (staging / name).write_bytes(member.read())
        shutil.rmtree(tests, ignore_errors=True)
        staging.rename(tests)
    # Ours, so always the current copy.
    for ours in ("dxpy_testutil.py", "dxpy_scope_plugin.py"):
        shutil.copy(HERE / ours, tests / ours)
    (tests / "pytest.ini").write_text(PYTEST_INI)
    return tests


def ensure_venv(cache: Path) -> Path:
    """The python3 of a venv holding dxpy (the pinned version) and what its tests import (built once)."""
    venv = cache / "venv"
    python = venv / "bin" / "python"
    ready = venv / "ready"
    wanted = "\n".join((f"dxpy=={DXPY_VERSION}", *TEST_REQUIREMENTS)) + "\n"
    if not ready.is_file() or ready.read_text() != wanted:
        # A venv of an older harness only lacks what was added since: pip installs just that.
        if not python.is_file():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        _pip(python, "install", f"dxpy=={DXPY_VERSION}", *TEST_REQUIREMENTS)
        ready.write_text(wanted)
    return python


def engine_environment(engine_home: Path) -> dict[str, str]:
    """The DX_* variables of `runner env` for the engine on `engine_home`."""
    env = {**os.environ, "RUNNER_HOME": str(engine_home)}
    printed = subprocess.run([sys.executable, "-m", "runner", "env", "--json"], env=env, check=True,
                             capture_output=True, text=True).stdout
    variables: dict[str, str] = json.loads(printed)
    return variables


def out_of_scope() -> dict[str, str]:
    """The dxpy tests left out, each with its reason, as DXPY.md's table lists them."""
    rows = (_OUT_OF_SCOPE_ROW.match(line) for line in SCOPE_DOC.read_text().splitlines())
    return {row.group(1): row.group(2) for row in rows if row is not None}


def recorded_passing() -> set[str]:
    """The node IDs recorded as passing: none of them may stop passing."""
    lines = (line.strip() for line in PASSING_LIST.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def run_suite(engine_home: Path, scratch: Path, timeout_s: float = 2400,
              files: tuple[str, ...] = TEST_FILES) -> SuiteResult:
    """Run the in-scope dxpy tests of `files` against the engine on `engine_home`; `scratch` takes the report."""
    cache = cache_folder()
    tests, python = fetch_tests(cache), ensure_venv(cache)
    junit = scratch / "dxpy-junit.xml"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DX_", "DXTEST_", "PYTEST"))}
    env.update(engine_environment(engine_home))
    # test_dxclient.py's applets still ask for Ubuntu 14.04 and 16.04: the runner's documented setting runs
    # them on the nearest supported release (20.04) instead of refusing them.
    subprocess.run([sys.executable, "-m", "runner", "config", "set", "legacy-release", "nearest"], check=True,
                   env={**os.environ, "RUNNER_HOME": str(engine_home)}, capture_output=True)
    # A config folder of its own, so that nothing the tests select leaks into ~/.dnanexus_config.
    env.update(DX_USER_CONF_DIR=str(scratch / "dnanexus_config"), DXTEST_RUN_JOBS="1", PYTHONPATH=str(tests),
               PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    left_out = scratch / "dxpy-out-of-scope.txt"
    left_out.write_text("".join(f"{node}\n" for node in out_of_scope()))
    env["DXPY_OUT_OF_SCOPE"] = str(left_out)
    # The slowest tests are listed in the log (test_dxclient.py drives the dx CLI: it is where the time goes).
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=40", "--junitxml", str(junit),
               "-o", "junit_family=xunit2", "-p", "dxpy_scope_plugin", *files]
    completed = subprocess.run(command, cwd=tests, env=env, capture_output=True, text=True, timeout=timeout_s,
                               check=False)
    (scratch / "dxpy-pytest.log").write_text(completed.stdout + completed.stderr)
    assert junit.is_file(), f"dxpy's tests left no report (exit {completed.returncode}):\n{completed.stdout[-3000:]}"
    return SuiteResult(*parse_junit(junit))


def parse_junit(report: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Each test case of a junit XML report by node ID: passed, failed, error or skipped; and why, if not passed."""
    outcomes: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        module, _, cls = case.get("classname", "").partition(".")
        node = "::".join(part for part in (f"{module}.py", cls, case.get("name", "")) if part)
        verdicts = [child for child in case if child.tag in ("failure", "error", "skipped")]
        outcome = {"failure": "failed"}.get(verdicts[0].tag, verdicts[0].tag) if verdicts else "passed"
        # A test whose teardown fails has a second test case, the error: it is not a pass.
        if outcomes.get(node, "passed") == "passed":
            outcomes[node] = outcome
            message = verdicts[0].get("message", "") if verdicts else ""
            if message:
                reasons[node] = message.splitlines()[0][:300]
    return outcomes, reasons
