"""The local backend's job environment: a venv with the pinned dxpy (and its dx-* helpers) for host processes.

    $RUNNER_HOME/local-env/py<version>-dxpy<version>/   made once, from the wheel cache, offline after that

Jobs of the local backend run on the host with this venv's bin/ first on PATH, so `python3`, `dx`, and
`dx-jobutil-add-output` are the ones the runtime image has. The wheels come from `$RUNNER_HOME/wheels`
(filled by pip the first time, as for the runtime image), or from the default state folder's cache when
that one holds the host interpreter's wheels already.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from runner.build import wheels
from runner.build.images import DXPY_VERSION
from runner.config import APP_DIR_NAME
from runner.errors import ImageBuildError

Progress = Callable[[str], None]
ENV_DIR = "local-env"
READY = "ready.json"
INSTALL_TIMEOUT_S = 600


def host_target() -> wheels.WheelTarget:
    """The wheel target of the interpreter the engine runs on (the local backend's jobs use the same)."""
    result = subprocess.run([sys.executable, "-c", wheels._DETECT], check=False, capture_output=True, text=True)
    try:
        facts = json.loads(result.stdout.strip().splitlines()[-1])
        glibc = str(facts.pop("glibc") or "2.17")
        markers = tuple(sorted((str(key), str(value)) for key, value in facts.items()))
        return wheels.WheelTarget(str(facts["python_version"]), str(facts["platform_machine"]), glibc, markers)
    except (ValueError, KeyError, IndexError) as exc:
        raise ImageBuildError(f"could not read this machine's python3 facts: {result.stderr.strip()}") from exc


def env_folder(home: Path, target: wheels.WheelTarget | None = None) -> Path:
    """Where the venv for `target` (default: this interpreter) lives under `home`."""
    version = target.python_version if target is not None else f"{sys.version_info[0]}.{sys.version_info[1]}"
    return home / ENV_DIR / f"py{version}-dxpy{DXPY_VERSION}"


def ensure_local_env(home: Path, progress: Progress) -> Path:
    """The venv folder for the local backend's jobs, made (from the wheel cache) when it is not there yet."""
    folder = env_folder(home)
    if (folder / READY).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    # One maker at a time (a build and a job's start, or two engines' tools): the others wait and reuse it.
    with open(folder.parent / ".lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / READY).is_file():
            _make_env(home, folder, progress)
    return folder


def _make_env(home: Path, folder: Path, progress: Progress) -> None:
    target = host_target()
    found = _cached_wheels(home, target) or wheels.ensure_wheels(home, target, DXPY_VERSION, progress)
    progress(f"making the local backend's job environment {folder} (dxpy {DXPY_VERSION})")
    scratch = Path(tempfile.mkdtemp(prefix=".env-", dir=folder.parent))
    try:
        _run([sys.executable, "-m", "venv", "--without-pip", str(scratch)], "making the venv")
        pip_wheel = next(w for w in found if w.name.startswith("pip-"))
        # pip runs from its own wheel, as in the runtime image: the venv gets exactly the cached versions.
        _run([str(scratch / "bin" / "python3"), f"{pip_wheel}/pip", "install", "--no-cache-dir", "--no-index",
              "--find-links", str(found[0].parent), "pip", f"dxpy=={DXPY_VERSION}",
              "--disable-pip-version-check", "--no-input"], f"installing dxpy {DXPY_VERSION} into the venv")
        # The venv is moved into place, so its scripts must not name the scratch folder: they run python3
        # from PATH (bin/ is first on PATH in every job).
        _relocate_scripts(scratch / "bin", str(scratch))
        (scratch / READY).write_text(json.dumps({"dxpy": DXPY_VERSION, "python": target.python_version}))
        shutil.rmtree(folder, ignore_errors=True)  # an unfinished one (no ready.json)
        scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _cached_wheels(home: Path, target: wheels.WheelTarget) -> list[Path] | None:
    """The wheels of the default state folder's cache, when it has a complete set for `target`."""
    xdg = os.environ.get("XDG_DATA_HOME")
    shared = (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / APP_DIR_NAME
    for root in (home, shared):
        folder = root / "wheels" / target.python_tag
        manifest = folder / f"manifest-dxpy-{DXPY_VERSION}-{target.machine}.json"
        cached = wheels._read_manifest(manifest, folder)
        if cached is not None:
            return cached
    return None


def _relocate_scripts(bin_dir: Path, scratch: str) -> None:
    for script in bin_dir.iterdir():
        if not script.is_file() or script.is_symlink():
            continue
        data = script.read_bytes()
        first, newline, rest = data.partition(b"\n")
        if first.startswith(b"#!") and scratch.encode() in first:
            script.write_bytes(b"#!/usr/bin/env python3" + newline + rest)


def _run(argv: list[str], what: str) -> None:
    try:
        result = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ImageBuildError(f"{what} took over {INSTALL_TIMEOUT_S} s") from exc
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise ImageBuildError(f"{what} failed (exit {result.returncode}):\n" + "\n".join(lines))
