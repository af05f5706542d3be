"""The API and the command line refuse the same run options: rank's bounds, debug.debugOn's reasons."""

from __future__ import annotations

import pytest

from runner.cli._run_options import rank
from runner.errors import UsageError
from runner.spec.run_options import RANK_MAX, RANK_MIN
from tests.api._full_env import Api

pytestmark = pytest.mark.asyncio


async def test_the_command_line_and_the_api_share_the_rank_bounds(api: Api) -> None:
    with pytest.raises(UsageError, match=f"--rank: {RANK_MAX + 1} is not from {RANK_MIN} to {RANK_MAX}"):
        rank(str(RANK_MAX + 1))
    run = f"/{api.world.applet}/run"
    status, answer = await api.post(run, {"input": {}, "project": api.world.P, "rank": RANK_MAX + 1}, "user")
    assert status == 422 and answer["error"]["type"] == "InvalidInput"
    assert answer["error"]["message"] == (f"Expected key 'rank' of input to be an integer in range "
                                          f"[{RANK_MIN}, {RANK_MAX}]")
    status, answer = await api.post(f"/{api.world.job_a}/update", {"rank": RANK_MIN - 1}, "user")
    assert status == 422
    expected = f"Expected key 'rank' of input to be in range [{RANK_MIN}, {RANK_MAX}]"
    assert answer["error"]["message"] == expected
    status, answer = await api.post(f"/{api.world.job_a}/update", {"rank": RANK_MAX}, "user")
    assert status == 200, answer


async def test_the_api_refuses_an_unknown_debug_reason_naming_the_choices(api: Api) -> None:
    body = {"input": {}, "project": api.world.P, "debug": {"debugOn": ["Sometimes"]}}
    status, answer = await api.post(f"/{api.world.applet}/run", body, "user")
    assert status == 422 and answer["error"]["type"] == "InvalidInput"
    assert answer["error"]["message"] == ("Expected key 'debug.debugOn' of input to be an array of AppError, "
                                          "AppInternalError, ExecutionError, All")
