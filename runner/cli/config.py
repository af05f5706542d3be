"""`runner config set|get|list`: the settings in `$RUNNER_HOME/config.toml`, and which value is in force."""

from __future__ import annotations

import click

from runner.config import (
    SettingError,
    canonical_key,
    config_path,
    load_settings,
    parse_value,
    setting_keys,
    write_setting,
)
from runner.errors import UsageError


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _known(key: str) -> str:
    key = canonical_key(key)
    if key not in setting_keys():
        raise UsageError(f"unknown setting {key!r} (known: {', '.join(setting_keys())})")
    return key


@click.group()
def config() -> None:
    """Show and change the runner's settings (config.toml; RUNNER_<KEY> variables override it)."""


@config.command("set")
@click.argument("key")
@click.argument("value")
def set_(key: str, value: str) -> None:
    """Set KEY to VALUE in config.toml, e.g. `runner config set reuse true`."""
    try:
        key = _known(key)
        parse_value(key, value)
        parsed = write_setting(key, value)
    except SettingError as exc:
        raise UsageError(str(exc)) from None
    click.echo(f"{key} = {_text(parsed)} (in {config_path()})")


@config.command("get")
@click.argument("key")
def get(key: str) -> None:
    """Print the value of KEY in force now."""
    loaded = load_settings()
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(_text(getattr(loaded.settings, _known(key))))


@config.command("list")
def list_() -> None:
    """Print every setting as `KEY = VALUE  (source)`; unknown keys and bad values are warned about."""
    loaded = load_settings()
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    for key in setting_keys():
        click.echo(f"{key} = {_text(getattr(loaded.settings, key))}  ({loaded.sources.get(key, 'default')})")
