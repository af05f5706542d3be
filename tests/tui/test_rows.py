"""Job rows with the host's capacity (capped instance types, "needs 4 cores, 2 free"), the state colours and legend,
and the HTTPS app URL: from fixed events on the real screen, no engine."""

from __future__ import annotations

import dataclasses
import threading
import webbrowser
from collections.abc import Iterator

import pytest
from textual.widgets import Static

from runner.spec.events import Event
from runner.spec.job_states import JobState
from runner.tui._look import CAPPED_MARK, STATE_COLOURS, state_legend
from runner.tui.app import RunnerApp
from runner.tui.capacity import Capacity, free_room, needs_text
from runner.tui.feed import EventFeed
from runner.tui.https_app import https_app_url, open_in_browser
from runner.tui.model import JobsModel
from runner.tui.screens.dialogs import Help
from runner.tui.widgets.job_tree import JobTree
from tests.tui.conftest import until
from tests.tui.events_fixture import MINUTE, ROOT_A, ROOT_C, T0, created, sample_events, state

GiB = 2**30
BIG = "job-D00000000000000000000001"
HOST = Capacity(cores=4, memory_bytes=16 * GiB)


def with_big_job() -> list[Event]:
    """The sample events and a runnable job of a 36-core instance type, larger than HOST."""
    big = created(14, BIG, BIG, None, "big_job", at=T0 + 4 * MINUTE + 1000,
                  resources={"cores": 36, "memoryBytes": 72 * GiB, "gpus": 0})
    return [*sample_events(), dataclasses.replace(big, instance_type="mem1_ssd1_v2_x36"), state(15, BIG, BIG, "idle", "runnable", T0 + 4 * MINUTE + 1000)]


def row(app: RunnerApp, job: str) -> str:
    node = app.screen.query_one(JobTree).nodes.get(job)
    return node.label.plain if node is not None else ""


def test_free_room_is_the_host_less_the_jobs_holding_resources_capped_and_never_below_zero() -> None:
    two = {"cores": 2, "memoryBytes": 4 * GiB}
    assert free_room(HOST, [("running", two), ("done", two), ("runnable", two)]) == Capacity(2, 12 * GiB)
    assert free_room(HOST, [("debug_hold", two), ("terminating", two)]) == Capacity(0, 8 * GiB)
    huge = {"cores": 36, "memoryBytes": 72 * GiB}
    assert free_room(HOST, [("running", huge), ("running", two)]) == Capacity(0, 0)


def test_needs_says_what_does_not_fit_now() -> None:
    four = Capacity(4, 8 * GiB)
    assert needs_text(four, HOST, Capacity(2, 12 * GiB)) == "needs 4 cores, 2 free"
    assert needs_text(four, HOST, Capacity(4, 2 * GiB)) == "needs 8.0 GiB, 2.0 GiB free"
    assert needs_text(four, HOST, Capacity(1, 2 * GiB)) == "needs 4 cores, 1 free; 8.0 GiB, 2.0 GiB free"
    assert needs_text(Capacity(36, 72 * GiB), HOST, Capacity(3, 16 * GiB)) == "needs 4 cores, 3 free", "capped first"
    assert needs_text(Capacity(1, GiB, gpus=1), Capacity(4, 16 * GiB, gpus=1), Capacity(4, 16 * GiB)) \
        == "needs 1 GPU, 0 free"
    assert needs_text(four, HOST, HOST) == "fits, waiting its turn"


def test_the_host_answer_is_checked_field_by_field() -> None:
    assert Capacity.of_answer({"cpus": 16, "memoryBytes": 128 * GiB, "gpus": 1}) == Capacity(16, 128 * GiB, 1)
    with pytest.raises(ValueError, match="`memoryBytes` is 'lots'; expected a number"):
        Capacity.of_answer({"cpus": 16, "memoryBytes": "lots", "gpus": 0})
    with pytest.raises(ValueError, match="`gpus` is None"):
        Capacity.of_answer({"cpus": 16, "memoryBytes": 1})


def test_every_state_has_its_own_colour_and_a_place_in_the_legend() -> None:
    assert set(STATE_COLOURS) == {s.value for s in JobState}
    assert len(set(STATE_COLOURS.values())) == len(STATE_COLOURS)
    legend = state_legend()
    for state_name, colour in STATE_COLOURS.items():
        assert state_name in legend.plain
        assert any(str(span.style) == colour for span in legend.spans), state_name


def test_the_https_app_url_comes_from_describe_as_the_platform_gives_it() -> None:
    documented = {"httpsApp": {"dns": {"url": "https://job-xxxx.dnanexus.cloud"}, "access": "VIEW",
                               "ports": [443], "enabled": True}}
    assert https_app_url(documented) == "https://job-xxxx.dnanexus.cloud"
    assert https_app_url({"id": "job-x", "state": "running"}) is None
    assert https_app_url({"httpsApp": {**documented["httpsApp"], "enabled": False}}) is None
    assert https_app_url({"httpsApp": {"dns": {"url": "javascript:alert(1)"}}}) is None
    assert https_app_url({"httpsApp": {"ports": [443]}}) is None


@pytest.mark.asyncio
async def test_rows_mark_capped_instance_types_and_say_what_a_runnable_job_needs() -> None:
    go_on = threading.Event()
    ending = state(16, ROOT_A, ROOT_A, "running", "done", T0 + 5 * MINUTE)

    def source() -> Iterator[Event]:
        yield from with_big_job()
        go_on.wait()
        yield ending

    app = RunnerApp(None, JobsModel(lambda: T0 + 5 * MINUTE), EventFeed(source), [])
    async with app.run_test(size=(160, 36)) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, "the big job's row", lambda: BIG in tree.nodes)
        assert CAPPED_MARK not in row(app, BIG), "no mark before the host is known"
        assert "waiting for 4 cores and 8.0 GiB" in row(app, ROOT_C)
        tree.set_host(HOST)
        await pilot.pause()
        assert f"mem1_ssd1_v2_x36{CAPPED_MARK}" in row(app, BIG)
        assert CAPPED_MARK not in row(app, ROOT_C) and CAPPED_MARK not in row(app, ROOT_A)
        assert "needs 4 cores, 2 free" in row(app, ROOT_C), "the running job holds 2 of the 4 cores"
        assert "needs 4 cores, 2 free; 16.0 GiB, 12.0 GiB free" in row(app, BIG), "capped to the host's size"
        go_on.set()
        await until(pilot, "the room the ended job gave back", lambda: "fits, waiting its turn" in row(app, ROOT_C))
        assert "fits, waiting its turn" in row(app, BIG)


@pytest.mark.asyncio
async def test_the_help_shows_every_state_in_its_colour_and_the_capped_mark() -> None:
    app = RunnerApp(None, JobsModel(lambda: T0), EventFeed(lambda: sample_events()), [])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, Help)
        shown = [str(s.content) for s in app.screen.query(Static)]
        assert any("wait_in (waiting_on_input)" in text and "hold (debug_hold)" in text for text in shown)
        assert any(text.startswith(f"{CAPPED_MARK} after an instance type") for text in shown)
        assert any("HTTPS app" in text for text in shown)


@pytest.fixture
def browsers() -> Iterator[None]:
    """webbrowser's registry as it was, once the test has registered its own browsers first."""
    webbrowser.register_standard_browsers()  # filled on first use otherwise: fill it before saving it
    saved = (dict(webbrowser._browsers), list(webbrowser._tryorder or []))  # type: ignore[attr-defined]
    yield
    webbrowser._browsers, webbrowser._tryorder = saved  # type: ignore[attr-defined]


def test_a_console_browser_is_not_started_in_the_tui_s_terminal(browsers: None) -> None:
    webbrowser.register("rows-console", None, webbrowser.GenericBrowser("true"), preferred=True)
    assert not open_in_browser("https://job-xxxx.dnanexus.cloud"), "a text browser would take the terminal"
    webbrowser._tryorder = []  # type: ignore[attr-defined]  # a machine without any browser
    assert not open_in_browser("https://job-xxxx.dnanexus.cloud")


def test_the_room_is_the_hosts_less_the_reserve() -> None:
    answer = {"cpus": 4, "memoryBytes": 16 * GiB, "gpus": 0,
              "available": {"cpus": 3, "memoryBytes": 15 * GiB, "gpus": 0}}
    assert Capacity.of_answer(answer) == Capacity(3, 15 * GiB, 0)
