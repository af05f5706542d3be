"""`runner fsck [--repair] [--json]`: the engine checks its store against blobs/ and the job folders."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from runner.cli import _client

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1


def problem_line(problem: Mapping[str, Any]) -> str:
    """One line for a problem: what is wrong and where, then what repair does or did."""
    done = "repaired" if problem.get("repaired") else "repair"
    return (f"{problem['kind']} {problem['object']}: {problem['problem']} ({problem['path']}); "
            f"{done}: {problem['repair']}")


def summary_line(report: Mapping[str, Any]) -> str:
    """The last line: how much was checked, how many problems were found, repaired and remain."""
    checked = ", ".join(f"{count} {what}" for what, count in report.get("checked", {}).items())
    problems = report.get("problems", [])
    if not problems:
        return f"clean: no problems ({checked} checked)"
    hint = "" if report.get("repair") else "; `runner fsck --repair` repairs them"
    return (f"{len(problems)} problem(s) found, {report['repaired']} repaired, {report['remaining']} remain "
            f"({checked} checked){hint}")


@click.command()
@click.option("--repair", is_flag=True, help="Fix what can be fixed (each problem's line says how).")
@click.option("--json", "as_json", is_flag=True, help="Print the engine's report as JSON.")
@click.pass_context
def fsck(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check the engine's store against its blobs and job folders; one line per problem and a summary.

    Exits 0 when no problem remains, 1 when some do.
    """
    with _client.connect() as client:
        report = client.call("/runner/fsck", {"repair": repair}, timeout_s=None)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for problem in report.get("problems", []):
            click.echo(problem_line(problem))
        click.echo(summary_line(report))
    ctx.exit(EXIT_CLEAN if report.get("clean") else EXIT_PROBLEMS)
