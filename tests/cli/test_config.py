"""`runner config set|get|list` and the settings they write: precedence, validation, unknown keys."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import cli
from runner.config import Settings, load_settings, setting_keys


@pytest.fixture(autouse=True)
def no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in setting_keys():
        monkeypatch.delenv(f"RUNNER_{key.upper()}", raising=False)


def test_max_parallel_is_a_whole_number_and_0_means_no_limit(runner_home: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "set", "max-parallel", "4"])
    assert result.exit_code == 0, result.output
    assert tomllib.loads((runner_home / "config.toml").read_text()) == {"max_parallel": 4}
    assert CliRunner().invoke(cli, ["config", "set", "max-parallel", "0"]).exit_code == 0
    assert CliRunner().invoke(cli, ["config", "get", "max-parallel"]).output == "0\n"
    refused = CliRunner().invoke(cli, ["config", "set", "max-parallel", "2.5"])
    assert refused.exit_code != 0
    assert "max_parallel must be a whole number 0 or more (0: off), not '2.5'" in refused.output
    refused = CliRunner().invoke(cli, ["config", "set", "reserve-memory-gib", "lots"])
    assert "reserve_memory_gib must be a number 0 or more (0: off), not 'lots'" in refused.output


def test_container_pool_is_a_whole_number_default_1_and_0_turns_the_pool_off(runner_home: Path) -> None:
    assert CliRunner().invoke(cli, ["config", "get", "container-pool"]).output == "1\n"
    assert CliRunner().invoke(cli, ["config", "set", "container-pool", "0"]).exit_code == 0
    assert load_settings(runner_home).settings.container_pool == 0
    refused = CliRunner().invoke(cli, ["config", "set", "container-pool", "1.5"])
    assert refused.exit_code != 0
    assert "container_pool must be a whole number 0 or more (0: off), not '1.5'" in refused.output


def test_set_writes_config_toml_and_get_reads_it(runner_home: Path) -> None:
    assert CliRunner().invoke(cli, ["config", "get", "reuse"]).output == "false\n"
    result = CliRunner().invoke(cli, ["config", "set", "reuse", "true"])
    assert result.exit_code == 0, result.output
    assert tomllib.loads((runner_home / "config.toml").read_text()) == {"reuse": True}
    assert CliRunner().invoke(cli, ["config", "get", "reuse"]).output == "true\n"
    listed = CliRunner().invoke(cli, ["config", "list"]).output
    first, *others = listed.splitlines()
    assert first == f"reuse = true  ({runner_home / 'config.toml'})"
    defaults = Settings()
    assert others == [f"{key} = {_shown(getattr(defaults, key))}  (default)" for key in setting_keys()[1:]]
    assert "open_file_ttl_hours = 24.0  (default)" in others and "instance_policy = cap  (default)" in others


def _shown(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def test_the_environment_overrides_the_file(runner_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner_home.mkdir(parents=True, exist_ok=True)
    (runner_home / "config.toml").write_text("reuse = true\n")
    monkeypatch.setenv("RUNNER_REUSE", "false")
    assert CliRunner().invoke(cli, ["config", "get", "reuse"]).output == "false\n"
    assert "(RUNNER_REUSE)" in CliRunner().invoke(cli, ["config", "list"]).output


@pytest.mark.parametrize("args", [["set", "nope", "true"], ["set", "reuse", "maybe"], ["get", "nope"],
                                  ["set", "open_file_ttl_hours", "soon"],
                                  ["set", "open_file_ttl_hours", "0"], ["set", "backend", "podman"]])
def test_an_unknown_key_or_bad_value_exits_3(runner_home: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["config", *args])
    assert result.exit_code == 3
    assert "error:" in result.output
    assert not (runner_home / "config.toml").exists()


def test_unknown_keys_in_the_file_are_warned_about_and_kept(runner_home: Path) -> None:
    runner_home.mkdir(parents=True, exist_ok=True)
    (runner_home / "config.toml").write_text('colour = "blue"\nreuse = "yes please"\n')
    loaded = load_settings(runner_home, environ={})
    assert loaded.settings.reuse is False
    assert any("colour" in w for w in loaded.warnings) and any("reuse" in w for w in loaded.warnings)
    assert CliRunner().invoke(cli, ["config", "set", "reuse", "on"]).exit_code == 0
    assert tomllib.loads((runner_home / "config.toml").read_text()) == {"colour": "blue", "reuse": True}


def test_the_open_file_ttl_is_a_number_of_hours(runner_home: Path) -> None:
    assert CliRunner().invoke(cli, ["config", "get", "open_file_ttl_hours"]).output == "24.0\n"
    assert CliRunner().invoke(cli, ["config", "set", "open_file_ttl_hours", "1.5"]).exit_code == 0
    assert tomllib.loads((runner_home / "config.toml").read_text()) == {"open_file_ttl_hours": 1.5}
    loaded = load_settings(runner_home, environ={"RUNNER_OPEN_FILE_TTL_HOURS": "48"})
    assert loaded.settings.open_file_ttl_hours == 48


def test_legacy_release_takes_refuse_or_nearest(runner_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert CliRunner().invoke(cli, ["config", "get", "legacy-release"]).output == "refuse\n"
    result = CliRunner().invoke(cli, ["config", "set", "legacy-release", "nearest"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("legacy_release = nearest")
    assert tomllib.loads((runner_home / "config.toml").read_text()) == {"legacy_release": "nearest"}
    assert load_settings(runner_home).settings.legacy_release == "nearest"
    bad = CliRunner().invoke(cli, ["config", "set", "legacy-release", "closest"])
    assert bad.exit_code == 3
    assert "legacy_release must be one of refuse, nearest, not 'closest'" in bad.output
    monkeypatch.setenv("RUNNER_LEGACY_RELEASE", "refuse")
    assert CliRunner().invoke(cli, ["config", "get", "legacy_release"]).output == "refuse\n"
    monkeypatch.setenv("RUNNER_LEGACY_RELEASE", "sometimes")
    loaded = load_settings(runner_home)
    assert loaded.settings.legacy_release == "nearest"  # the bad variable is warned about, the file holds
    assert any("RUNNER_LEGACY_RELEASE" in warning for warning in loaded.warnings)
