"""`runner env`: the DX_* variables that point dxpy's `dx` at the engine, quoted for `eval`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli import env as env_module
from runner.cli.env import dx_environment, export_lines
from runner.cli.main import cli
from runner.errors import ApiError
from tests.cli._fake_client import PROJECT, FakeClient, use

TOKEN = "tok-'quoted' $HOME"


def test_variables() -> None:
    variables = dx_environment("http://127.0.0.1:41234/", "abc", PROJECT)
    assert variables == {
        "DX_APISERVER_PROTOCOL": "http", "DX_APISERVER_HOST": "127.0.0.1", "DX_APISERVER_PORT": "41234",
        "DX_SECURITY_CONTEXT": '{"auth_token_type": "Bearer", "auth_token": "abc"}',
        "DX_PROJECT_CONTEXT_ID": PROJECT, "DX_CLI_WD": "/", "DX_USERNAME": "user-local",
    }
    assert dx_environment("https://engine.local", "abc", None)["DX_APISERVER_PORT"] == "443"
    assert "DX_PROJECT_CONTEXT_ID" not in dx_environment("http://h:1", "abc", None)
    with pytest.raises(ApiError):
        dx_environment("/no/host", "abc", None)


def test_exports_survive_the_shell() -> None:
    lines = export_lines(dx_environment("http://127.0.0.1:41234", TOKEN, PROJECT))
    assert lines[0] == "export DX_APISERVER_PROTOCOL=http"
    script = "\n".join(lines) + '\nprintf "%s" "$DX_SECURITY_CONTEXT"'
    shown = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(shown) == {"auth_token_type": "Bearer", "auth_token": TOKEN}


def fake_engine(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    client = use(monkeypatch, FakeClient())
    ping = {"ok": True, "url": "http://127.0.0.1:5555", "project": PROJECT}
    monkeypatch.setattr(client, "ping", lambda **_: ping, raising=False)
    homes: list[Path] = []

    def read_token(home: Path) -> str:
        homes.append(home)
        return "abc"

    monkeypatch.setattr(env_module, "read_token", read_token)
    return homes


def test_env_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RUNNER_HOME", str(tmp_path))
    homes = fake_engine(monkeypatch)
    result = CliRunner().invoke(cli, ["env"])
    assert result.exit_code == 0, result.output
    assert "export DX_APISERVER_PORT=5555" in result.output.splitlines()
    assert f"export DX_PROJECT_CONTEXT_ID={PROJECT}" in result.output.splitlines()
    assert homes == [tmp_path]
    result = CliRunner().invoke(cli, ["env", "--json"])
    answer: dict[str, Any] = json.loads(result.output)
    assert answer["DX_APISERVER_HOST"] == "127.0.0.1"
    assert json.loads(answer["DX_SECURITY_CONTEXT"])["auth_token"] == "abc"
