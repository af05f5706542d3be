"""Entry point of the `runner` command: the click group and the error policy shared by every verb."""

from __future__ import annotations

import sys

import click

from runner import __version__
from runner.errors import InvalidInput, InvalidType, RunnerError, SpecError, UsageError

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 3


class RunnerGroup(click.Group):
    """A click group that turns our own errors into one line on stderr and a documented exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (SpecError, UsageError, InvalidInput, InvalidType) as exc:
            _fail(ctx, exc, EXIT_BAD_INPUT)
        except RunnerError as exc:
            _fail(ctx, exc, EXIT_FAILURE)
        return None


def _fail(ctx: click.Context, exc: RunnerError, code: int) -> None:
    if ctx.find_root().params.get("debug"):
        raise exc
    click.echo(f"error: {_one_line(exc)}", err=True)
    sys.exit(code)


def _one_line(exc: RunnerError) -> str:
    """The message, with an input error's field, reason and expected value on the same line."""
    details = getattr(exc, "details", None) or {}
    if not isinstance(exc, InvalidInput) or "field" not in details:
        return str(exc)
    parts = [f"field {details['field']!r}"]
    parts += [f"{key} {details[key]!r}" for key in ("reason", "expected") if details.get(key) is not None]
    return f"{exc} ({', '.join(parts)})"


@click.group(cls=RunnerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Run DNAnexus applets and apps locally, each job in its own Docker container."""


def _register() -> None:
    from runner.cli import app as app_cli
    from runner.cli import (
        asset,
        build,
        data,
        data_ls,
        describe,
        dev,
        doctor,
        engine,
        env,
        find,
        images,
        rerun,
        run,
        terminate,
        tui,
        wait,
        watch,
    )
    from runner.cli import config as config_cli
    from runner.cli import fsck as fsck_cli
    from runner.cli import open as open_cli
    from runner.cli import ssh as ssh_cli

    cli.add_command(build.build)
    cli.add_command(asset.asset)
    cli.add_command(run.run)
    cli.add_command(rerun.rerun)
    cli.add_command(watch.watch)
    cli.add_command(wait.wait)
    cli.add_command(engine.engine)
    cli.add_command(images.images)
    cli.add_command(doctor.doctor)
    cli.add_command(data.upload)
    cli.add_command(data.download)
    cli.add_command(data.cat)
    cli.add_command(data_ls.ls)
    cli.add_command(data_ls.rm)
    cli.add_command(describe.describe)
    cli.add_command(find.find)
    cli.add_command(terminate.terminate)
    cli.add_command(env.env)
    cli.add_command(config_cli.config)
    cli.add_command(ssh_cli.ssh)
    cli.add_command(fsck_cli.fsck)
    cli.add_command(tui.tui)
    cli.add_command(dev.dev)
    cli.add_command(open_cli.open_app)
    cli.add_command(app_cli.app)


_register()


def main() -> None:
    """Console-script entry point: click's own usage errors exit 3 too, like every bad input."""
    try:
        status = cli.main(prog_name="runner", standalone_mode=False)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_FAILURE)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_FAILURE)
    # Without standalone mode, click returns the code of ctx.exit(code) instead of exiting.
    sys.exit(status if isinstance(status, int) else 0)
