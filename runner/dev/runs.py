"""How watch mode starts a run: the same request each time, or the focused loop's one entry point alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.client.api import EngineClient
from runner.client.reruns import recorded_input, start_rerun
from runner.dev.loop import Starter
from runner.errors import ApiError, UsageError


def run_applet(client: EngineClient, applet: str, body: Mapping[str, Any], rerun_of: str | None) -> str:
    """`/applet-x/run` with `body` (`input`, `project`, ... as `runner run` sends them); the new root job."""
    request = dict(body)
    if rerun_of is not None:
        request["rerunOf"] = rerun_of
    answer = client.call(f"/{applet}/run", request)
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise ApiError(f"/{applet}/run answered without a job ID: {answer!r}")
    return str(answer["id"])


def same_request(client: EngineClient, body: Mapping[str, Any]) -> Starter:
    """A starter running every build with the same request `body`."""
    return lambda applet, rerun_of: run_applet(client, applet, body, rerun_of)


def focused(client: EngineClient, source_job: str, entry: str, run_options: Mapping[str, Any]) -> Starter:
    """The focused loop's starter: entry point `entry` of each build, alone, with the input `source_job` had.

    The first re-run is linked to `source_job`, each later one to the one before. UsageError when
    `source_job` ran another entry point (its input would not be that entry point's).
    """
    recorded = recorded_input(client, source_job)
    if recorded.entry != entry:
        raise UsageError(f"--entry {entry}: {source_job} ran entry point {recorded.entry!r}, so its input is "
                         f"that entry point's (give --entry {recorded.entry}, or a job of {entry})")

    def start(applet: str, rerun_of: str | None) -> str:
        return start_rerun(client, applet, entry=entry, input=recorded.input, rerun_of=rerun_of or source_job,
                           run_options=run_options)

    return start
