"""/applet/new on a real engine daemon with real Docker builds: nonces keep distinct creations distinct and
repeat one creation's answer; an execDepends that cannot be installed is accepted, as on the platform, and fails
each job at start naming the package (never a 5xx that dxpy would retry); a spec the runner cannot take is a 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.errors import InvalidInput
from tests.integration.helpers import wait_terminal

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineClient]:
    """A client of a real engine daemon of its own, stopped after the module."""
    from runner.client.engine_process import connect, start_engine, stop_engine

    home = tmp_path_factory.mktemp("dxshapes")
    start_engine(home)
    try:
        yield connect(home, start=False)
    finally:
        stop_engine(home)


def _request(engine: EngineClient, **extra: Any) -> dict[str, Any]:
    return {"project": engine.project, "name": "same_applet", "dxapi": "1.0.0",
            "runSpec": {"interpreter": "bash", "code": "main() { echo hi; }", "distribution": "Ubuntu",
                        "release": "24.04"}, **extra}


def test_nonces_on_applet_new(engine: EngineClient) -> None:
    first = engine.call("/applet/new", _request(engine, nonce="first"), timeout_s=None)["id"]
    second = engine.call("/applet/new", _request(engine, nonce="second"), timeout_s=None)["id"]
    without = engine.call("/applet/new", _request(engine), timeout_s=None)["id"]
    assert len({first, second, without}) == 3
    assert engine.call("/applet/new", _request(engine, nonce="first"), timeout_s=None)["id"] == first
    with pytest.raises(InvalidInput, match="nonce was reused"):
        engine.call("/applet/new", _request(engine, nonce="first", name="another_name"), timeout_s=None)
    found = engine.call("/system/findDataObjects", {"class": "applet", "name": "same_applet",
                                                     "scope": {"project": engine.project}})
    assert sorted(r["id"] for r in found["results"]) == sorted([first, second, without])
    # Made without an inputSpec or outputSpec: describe has neither (dx run would iterate over a null spec).
    described = engine.call(f"/{first}/describe", {})
    assert "inputSpec" not in described and "outputSpec" not in described


def test_an_apt_package_that_does_not_exist_fails_the_job_naming_it(engine: EngineClient) -> None:
    body = _request(engine, name="bad_depends")
    body["runSpec"]["execDepends"] = [{"name": "no-such-package-for-runner-tests"}]
    applet = engine.call("/applet/new", body, timeout_s=None)["id"]
    described = engine.call(f"/{applet}/describe", {})
    assert described["runSpec"]["execDepends"] == [{"name": "no-such-package-for-runner-tests"}]
    job = engine.call(f"/{applet}/run", {"project": engine.project, "input": {}})["id"]
    ended = wait_terminal(engine, job)
    assert (ended["state"], ended["failureReason"]) == ("failed", "AppError")
    assert "apt package no-such-package-for-runner-tests does not exist in Ubuntu 24.04" in ended["failureMessage"]
    assert "runSpec.execDepends[0]" in ended["failureMessage"]


def test_a_package_manager_the_runner_does_not_install_is_a_4xx_naming_it(engine: EngineClient) -> None:
    body = _request(engine, name="cran_depends", access={"network": ["*"]})
    body["runSpec"]["execDepends"] = [{"name": "ggplot2", "package_manager": "cran"}]
    with pytest.raises(InvalidInput) as refused:
        engine.call("/applet/new", body, timeout_s=None)
    assert "runSpec.execDepends[0]" in str(refused.value)
    assert "packages of cran are not installed by this runner" in str(refused.value)


def test_a_run_priority_and_head_job_on_demand_are_described_and_checked(engine: EngineClient) -> None:
    applet = engine.call("/applet/new", _request(engine, name="prioritized"), timeout_s=None)["id"]
    job = engine.call(f"/{applet}/run", {"project": engine.project, "input": {}, "priority": "normal"})["id"]
    assert engine.call(f"/{job}/describe", {})["priority"] == "normal"
    assert engine.call(f"/{job}/describe", {"fields": {"headJobOnDemand": True}})["headJobOnDemand"] is False
    on_demand = engine.call(f"/{applet}/run", {"project": engine.project, "input": {}, "headJobOnDemand": True})
    assert engine.call(f"/{on_demand['id']}/describe", {"fields": {"headJobOnDemand": True}})["headJobOnDemand"]
    with pytest.raises(InvalidInput, match="headJobOnDemand"):
        engine.call(f"/{applet}/run", {"project": engine.project, "input": {}, "headJobOnDemand": "yes"})
    with pytest.raises(InvalidInput, match="'priority' of input to be one of low, normal, high"):
        engine.call(f"/{applet}/run", {"project": engine.project, "input": {}, "priority": "urgent"})
    wait_terminal(engine, job)
    wait_terminal(engine, on_demand["id"])
