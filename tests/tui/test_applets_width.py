"""The applets panel on a real engine at 160x45: a built applet's ID shows whole under its name."""

from __future__ import annotations

import pytest

from runner.client.api import EngineClient
from runner.tui.app import make_app
from runner.tui.widgets.applets import AppletsPanel
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import build_sample
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]


def panel_lines(panel: AppletsPanel) -> list[str]:
    """The panel's rows as drawn."""
    return ["".join(s.text for s in panel.render_line(y)) for y in range(panel.content_region.height)]


@pytest.mark.parametrize(("size", "whole"), [((160, 45), True), ((120, 36), False)])
async def test_a_built_applets_id_is_whole_from_150_columns(engine: EngineClient, size: tuple[int, int],
                                                             whole: bool) -> None:
    applet = build_sample(engine, "hello_bash")
    app = make_app(engine, paths=[SAMPLE_APPS])
    async with app.run_test(size=size) as pilot:
        panel = app.screen.query_one(AppletsPanel)
        await until(pilot, "hello_bash built", lambda: any(
            s.name == "hello_bash" and s.state == "built" for s in panel.sources))
        await pilot.pause()
        shown = panel_lines(panel)
        assert any(applet in line for line in shown) is whole, shown
        if not whole:  # narrower, the panel leaves the jobs the room and cuts the ID, saying so
            assert any(line.strip().startswith(applet[:12]) and "…" in line for line in shown), shown
