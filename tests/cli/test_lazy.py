"""The command line imports only what a command uses: `--help` lists every command without importing one."""

from __future__ import annotations

import json
import subprocess
import sys

import click

from runner.cli.main import COMMANDS, cli

HEAVY = ("docker", "requests", "textual", "aiohttp", "watchfiles", "runner.build", "runner.backends",
         "runner.dev", "runner.tui")


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running `code` (which may exit)."""
    script = (f"import atexit, json, sys\natexit.register(lambda: print(json.dumps(sorted(sys.modules)), "
              f"file=sys.__stderr__))\n{code}")
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if any(name == h or name.startswith(h + ".") for h in HEAVY))


def test_importing_the_command_line_imports_no_command_and_nothing_heavy() -> None:
    modules = modules_after("import runner.cli.main")
    assert heavy_in(modules) == []
    assert [name for name in modules if name.startswith("runner.cli.") and name not in
            ("runner.cli.main", "runner.cli.lazy", "runner.cli._exit")] == []


def test_help_lists_every_command_with_its_short_help_and_imports_none() -> None:
    modules = modules_after("from runner.cli.main import main\nimport sys\nsys.argv = ['runner', '--help']\n"
                            "main()")
    assert heavy_in(modules) == []
    done = subprocess.run([sys.executable, "-c", "from runner.cli.main import main; main()", "--help"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    listed = done.stdout.split("Commands:\n", 1)[1].split()
    for name in COMMANDS:
        assert name in listed, f"runner --help does not list {name}"


def test_each_table_entry_is_the_command_it_names_with_its_own_short_help() -> None:
    context = click.Context(cli)
    for name, entry in COMMANDS.items():
        command = cli.get_command(context, name)
        assert isinstance(command, click.Command), name
        assert command.name == name
        assert entry.short_help == command.get_short_help_str(limit=1000), f"short help of {name} in COMMANDS"


def test_a_job_command_imports_the_client_but_not_docker_or_requests() -> None:
    for argv in (["find", "jobs", "--help"], ["run", "--help"], ["wait", "--help"], ["watch", "--help"]):
        modules = modules_after(f"from runner.cli.main import main\nimport sys\nsys.argv = {['runner', *argv]!r}\n"
                                "main()")
        assert "runner.client.api" in modules, argv
        assert heavy_in(modules) == [], argv


def test_an_unknown_command_is_a_usage_error_naming_it() -> None:
    done = subprocess.run([sys.executable, "-c", "from runner.cli.main import main; main()", "fnid"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert "No such command 'fnid'" in done.stderr


def test_run_imports_the_batch_reader_and_the_uploader_only_when_used() -> None:
    # `runner run applet-xxxx --wait`, the common run, reads no TSV, uploads nothing and stops no engine.
    modules = modules_after("from runner.cli.main import main\nimport sys\nsys.argv = ['runner', 'run', '--help']\n"
                            "main()")
    assert "runner.cli.run" in modules
    assert sorted(modules & {"runner.cli.batch", "csv", "runner.client.files", "signal"}) == []


def test_wait_does_not_import_what_run_reads_its_inputs_with() -> None:
    modules = modules_after("from runner.cli.main import main\nimport sys\nsys.argv = ['runner', 'wait', '--help']\n"
                            "main()")
    assert "runner.cli.wait" in modules
    assert sorted(modules & {"runner.cli.run", "runner.cli._inputs", "runner.cli._run_options"}) == []
