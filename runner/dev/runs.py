"""How watch mode starts a run: the same run request each time, linked to the run before it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.client.api import EngineClient
from runner.dev.loop import Starter
from runner.errors import ApiError


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
