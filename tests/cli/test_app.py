"""`runner app` as a subprocess: refusals before any engine starts, and the whole lifecycle against a real
engine daemon (build, rebuild in place, publish, is-compatible, tags, list, describe, delete)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from tests.integration.conftest import docker_engine, docker_engine_home, engine, engine_home
from tests.integration.helpers import TEST_APPLETS, runner_cli

__all__ = ["docker_engine", "docker_engine_home", "engine", "engine_home"]


def applet_folder(tmp_path: Path, name: str, inputs: list[Any] | None, outputs: list[Any] | None) -> Path:
    """A copy of the app_cache test applet named `name`, with the given specs (None: the key is left out)."""
    folder = tmp_path / name
    shutil.copytree(TEST_APPLETS / "app_cache", folder)
    spec = json.loads((folder / "dxapp.json").read_text())
    spec = {k: v for k, v in spec.items() if k not in ("inputSpec", "outputSpec")}
    spec.update({"name": name, **({"inputSpec": inputs} if inputs is not None else {}),
                 **({"outputSpec": outputs} if outputs is not None else {})})
    (folder / "dxapp.json").write_text(json.dumps(spec))
    return folder


OUT = [{"name": "runs_before", "class": "int"}]


@pytest.mark.parametrize("missing", ["inputSpec", "outputSpec"])
def test_build_refuses_an_applet_without_both_specs_before_any_engine(tmp_path: Path, missing: str) -> None:
    folder = applet_folder(tmp_path, "nospec", None if missing == "inputSpec" else [],
                           None if missing == "outputSpec" else OUT)
    home = tmp_path / "home"
    result = runner_cli(home, "app", "build", str(folder), "--version", "1")
    assert result.returncode == 3
    assert f"dxapp.json has no {missing}" in result.stderr and "both an inputSpec and an outputSpec" in result.stderr
    assert not (home / "engine.json").exists()


@pytest.mark.parametrize("args", [("describe", "bwa"), ("publish", "applet-x"), ("delete", "app-a/b/c"),
                                  ("tag", "add", "app-", "t"), ("is-compatible", "app-a/1", "a/2")])
def test_a_bad_app_identifier_exits_3_naming_the_forms(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = runner_cli(tmp_path / "home", "app", *args)
    assert result.returncode == 3, result.stderr
    assert "expected app-<hash id>, app-<name>, app-<name>/<version> or app-<name>/<tag>" in result.stderr
    assert not (tmp_path / "home" / "engine.json").exists()


@pytest.mark.parametrize("args,says", [
    (("describe", "app-B7Z2QZ00GqgvQbfB6J7Q0003/1.0"), "an app given by its hash ID cannot name a version or tag"),
    (("tag", "remove", "app-B7Z2QZ00GqgvQbfB6J7Q0003/beta", "t"), "use app-<name>/<version> or the ID alone"),
    (("delete", "app-no spaces/1.0"), "'app-no spaces/1.0': an app name must match /^[a-zA-Z0-9._-]+$/"),
])
def test_an_identifier_the_engine_would_refuse_exits_3_before_any_engine(tmp_path: Path, args: tuple[str, ...],
                                                                         says: str) -> None:
    result = runner_cli(tmp_path / "home", "app", *args)
    assert result.returncode == 3, result.stderr
    assert says in result.stderr and "field 'app'" in result.stderr
    assert not (tmp_path / "home" / "engine.json").exists()


def _ok(engine_home: Path, *args: str) -> str:
    result = runner_cli(engine_home, "app", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.docker
def test_the_lifecycle_through_the_command_line(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    first = applet_folder(tmp_path / "v1", "cli_life", [], OUT)
    app_id = _ok(engine_home, "build", str(first), "--version", "1.0").strip()
    assert app_id.startswith("app-")
    rebuilt = runner_cli(engine_home, "app", "build", str(first), "--version", "1.0")
    assert rebuilt.returncode == 0 and rebuilt.stdout.strip() == app_id and "updated" in rebuilt.stderr
    assert f"app-cli_life/1.0\t{app_id}\tdefault\tunpublished" in _ok(engine_home, "list")
    assert _ok(engine_home, "publish", "app-cli_life/1.0", "--make-default").strip() == app_id
    again = runner_cli(engine_home, "app", "build", str(first), "--version", "1.0")
    assert again.returncode == 3 and "already published" in again.stderr

    required = applet_folder(tmp_path / "v2", "cli_life", [{"name": "genome", "class": "file"}], OUT)
    _ok(engine_home, "build", str(required), "--version", "2.0")
    verdict = runner_cli(engine_home, "app", "is-compatible", "app-cli_life/2.0", "app-cli_life/1.0")
    assert verdict.returncode == 1 and "is not compatible with" in verdict.stdout
    optional = applet_folder(tmp_path / "v3", "cli_life", [{"name": "note", "class": "string", "optional": True}],
                             [*OUT, {"name": "extra", "class": "int"}])
    _ok(engine_home, "build", str(optional), "--version", "3.0")
    assert f"is compatible with {app_id}" in _ok(engine_home, "is-compatible", "app-cli_life/3.0", app_id)

    _ok(engine_home, "tag", "add", "app-cli_life/3.0", "beta")
    described = json.loads(_ok(engine_home, "describe", "app-cli_life/beta", "--json"))
    assert described["version"] == "3.0" and described["aliases"] == ["3.0", "beta"]
    _ok(engine_home, "tag", "remove", "app-cli_life", "beta")
    gone = runner_cli(engine_home, "app", "describe", "app-cli_life/beta")
    assert gone.returncode == 1 and "does not exist" in gone.stderr
    assert "Name                  cli_life" in _ok(engine_home, "describe", "app-cli_life")

    _ok(engine_home, "delete", "app-cli_life/2.0")
    listed = json.loads(_ok(engine_home, "list", "--json"))
    assert sorted(a["version"] for a in listed if a["name"] == "cli_life") == ["1.0", "3.0"]
