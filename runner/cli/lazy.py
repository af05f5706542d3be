"""`LazyGroup`: a click group whose subcommands are imported only when a command line names them.

`runner --help` lists every command from its table entry (import path and short help) without importing
any of them, and `runner find jobs` imports `runner.cli.find` alone: a command pays only for what it uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass

import click


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a subcommand lives (`"module:attribute"`) and its short help, as `--help` lists it."""

    target: str
    short_help: str


class LazyGroup(click.Group):
    """A group over a table of `LazyCommand`s; commands added with `add_command` work as in any group."""

    def __init__(self, *args: object, lazy_commands: Mapping[str, LazyCommand] | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy_commands:
            command = self._load(cmd_name)
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands section of `--help`, from the table for commands not imported yet."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if not loaded.hidden:
                    rows.append((name, loaded.get_short_help_str(limit)))
                continue
            rows.append((name, click.utils.make_default_short_help(self.lazy_commands[name].short_help, limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _load(self, name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[name].target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        return command
