"""Entry point of the `runner` command: the click group and the error policy shared by every verb."""

from __future__ import annotations

import sys

import click

from runner import __version__
from runner.cli._exit import exit_now
from runner.cli.lazy import LazyCommand, LazyGroup
from runner.errors import InvalidInput, InvalidType, RunnerError, SpecError, UsageError

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 3


class RunnerGroup(LazyGroup):
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


# Every subcommand: name -> where it lives and its short help (the first sentence of its help, which
# tests/cli/test_lazy.py checks). A new command is one line here; its module is imported only when used.
COMMANDS = {
    "app": LazyCommand("runner.cli.app:app", "Make and manage versioned apps (run one with: runner run "
                       "app-NAME[/VERSION])."),
    "asset": LazyCommand("runner.cli.asset:asset", "Build, import and list assets (AssetBundle records that "
                         "applets name in runSpec.assetDepends)."),
    "build": LazyCommand("runner.cli.build:build", "Build the applet source folder FOLDER (default: the current "
                         "folder) as `dx build` does; print its ID."),
    "cat": LazyCommand("runner.cli.data:cat", "Write the content of files to stdout, one after another, byte "
                       "for byte."),
    "config": LazyCommand("runner.cli.config:config", "Show and change the runner's settings (config.toml; "
                          "RUNNER_<KEY> variables override it)."),
    "describe": LazyCommand("runner.cli.describe:describe", "Describe ID: a job, applet, file, record, project "
                            "or container."),
    "dev": LazyCommand("runner.cli.dev:dev", "Watch mode: build and run the applet in DIR, then rebuild and "
                       "re-run it on every change under DIR."),
    "doctor": LazyCommand("runner.cli.doctor:doctor", "Check this host: Docker, the runner's images, CPUs, "
                          "memory, GPUs; exit 1 when something needs a fix."),
    "download": LazyCommand("runner.cli.data:download", "Download files from the engine to local files (by "
                            "default in the current folder, under their names)."),
    "engine": LazyCommand("runner.cli.engine:engine", "Start, stop and inspect the engine daemon (other "
                          "commands start it when they need it)."),
    "env": LazyCommand("runner.cli.env:env", "Print the exports that point `dx` at the engine: "
                       "`eval \"$(runner env)\"`."),
    "find": LazyCommand("runner.cli.find:find", "Find objects in the engine (jobs)."),
    "fsck": LazyCommand("runner.cli.fsck:fsck", "Check the engine's store against its blobs and job folders; "
                        "one line per problem and a summary."),
    "images": LazyCommand("runner.cli.images:images", "Prepare and list the Docker images jobs run in."),
    "ls": LazyCommand("runner.cli.data_ls:ls", "List a folder (by default the default project's root): its "
                      "folders with a trailing '/', then objects."),
    "open": LazyCommand("runner.cli.open:open_app", "Open JOB's HTTPS app in a browser through the engine's "
                        "proxy, logged in by a one-time link."),
    "rerun": LazyCommand("runner.cli.rerun:rerun", "Run JOB again alone: entry point NAME (default: the "
                         "function JOB ran) of JOB's applet, as a new root job with the input JOB ran with "
                         "(job-based references resolved); print the new job's ID."),
    "rm": LazyCommand("runner.cli.data_ls:rm", "Remove objects (and with -r, folders) from their project; "
                      "nothing is removed unless every path is found."),
    "run": LazyCommand("runner.cli.run:run", "Run EXECUTABLE_OR_DIR (an applet ID, an app: app-NAME[/VERSION], "
                       "or a source folder, built first) and print the job's ID."),
    "ssh": LazyCommand("runner.cli.ssh:ssh", "Open bash in JOB's container (`docker exec -it`); JOB must be "
                       "running or in debug_hold."),
    "terminate": LazyCommand("runner.cli.terminate:terminate", "Terminate each JOB and every job of its tree; "
                             "print nothing when all went well."),
    "tui": LazyCommand("runner.cli.tui:tui", "Open the terminal UI: live job trees, logs, describe, applets "
                       "found under PATH (default sample_apps/)."),
    "upload": LazyCommand("runner.cli.data:upload", "Upload local files (and with -r, folders) to the engine; "
                          "print the new file IDs."),
    "wait": LazyCommand("runner.cli.wait:wait", "Wait until every JOB has ended; print nothing on stdout (on "
                        "stderr: each job still running)."),
    "watch": LazyCommand("runner.cli.watch:watch", "Print the log lines and state changes of JOB and its "
                         "subjobs until JOB ends."),
}


@click.group(cls=RunnerGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Run DNAnexus applets and apps locally, each job in its own Docker container."""


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
    exit_now(status if isinstance(status, int) else 0)
