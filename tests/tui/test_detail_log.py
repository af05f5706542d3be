"""The Log tab on fixed events: the whole tree with job prefixes, search, wrap and timestamps, following, bounds."""

from __future__ import annotations

import pytest
from rich.color import Color
from textual.widgets import Input

from runner.tui.model import LOG_LINES_KEPT, LogLine
from runner.tui.widgets.log_view import STREAM_STYLES, VIEW_MAX_LINES, Entry, LogView, clock_time
from tests.tui.conftest import until
from tests.tui.detail_helpers import SIZE, HeldApp, log, select, status, visible
from tests.tui.events_fixture import MINUTE, ROOT_A, SUB_A, T0

pytestmark = pytest.mark.asyncio


def colour_of(view: LogView, row: int, text: str) -> Color | None:
    """The colour the screen gives `text` in a visible row."""
    for segment in list(view.render_line(row)):
        if text in segment.text and segment.style is not None:
            return segment.style.color
    raise AssertionError(f"{text!r} is not in row {row}: {view.render_line(row).text!r}")


async def test_a_shows_every_job_of_the_tree_with_its_prefix_in_arrival_order() -> None:
    held = HeldApp([log(50, SUB_A, "sub says hi"), log(51, ROOT_A, "root again"),
                    log(52, SUB_A, "sub warns", "stderr")], [log(60, SUB_A, "sub later")])
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        view = await select(pilot, ROOT_A)
        assert view.lines == ["splitting input", "starting 1 subjob", "root again"]
        await pilot.press("a")
        assert view.lines == ["splitting input", "starting 1 subjob", "sub says hi", "root again", "sub warns"]
        rows = visible(view)
        assert rows[2].startswith("process·0002") and rows[2].endswith("sub says hi")
        assert rows[3].startswith("main·0001") and rows[3].endswith("root again")
        assert colour_of(view, 2, "process·0002") != colour_of(view, 3, "main·0001"), "one colour per job"
        assert colour_of(view, 4, "sub warns") == Color.parse(STREAM_STYLES["stderr"])
        assert colour_of(view, 3, "root again") != colour_of(view, 4, "sub warns"), "stderr stands out"
        assert "tree of " + ROOT_A in status(pilot)
        await held.release(pilot)
        assert view.lines[-1] == "sub later" and visible(view)[5].startswith("process·0002")
        await pilot.press("a")
        assert view.lines == ["splitting input", "starting 1 subjob", "root again"]
        assert status(pilot).startswith(ROOT_A)


async def test_slash_searches_the_log_n_and_N_move_escape_leaves_and_the_trees_slash_still_filters() -> None:
    lines = "\n".join(f"needle {n}" if n % 50 == 25 else f"line {n}" for n in range(200))
    held = HeldApp([log(50, ROOT_A, lines)])
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        view = await select(pilot, ROOT_A)
        await pilot.press("slash", *"NEEDLE", "enter")
        assert view.has_focus, "Enter goes back to the log"
        assert not pilot.app.screen.query_one("#log-search").display
        assert "4/4 matching 'NEEDLE'" in status(pilot)
        assert "needle 175" in visible(view)
        row = visible(view).index("needle 175")
        assert any(s.style is not None and s.style.bgcolor is not None and s.text == "needle"
                   for s in list(view.render_line(row))), "the match is highlighted"
        await pilot.press("N")
        assert "3/4 matching" in status(pilot) and "needle 125" in visible(view)
        await pilot.press("n", "n")
        assert "1/4 matching" in status(pilot) and "needle 25" in visible(view), "n goes round the end"
        assert "scrolled up" in status(pilot), "a match above stops following"
        await pilot.press("slash")
        assert pilot.app.screen.query_one("#log-search", Input).value == "NEEDLE", "/ again edits the term"
        await pilot.press("escape")
        assert "matching" not in status(pilot) and not pilot.app.screen.query_one("#log-search").display
        assert view.has_focus and "needle" not in [s.text for s in view.render_line(0)]
        await pilot.press("shift+tab", "shift+tab")
        await until(pilot, "the job tree focused", lambda: pilot.app.focused is not None
                    and pilot.app.focused.id == "tree")
        await pilot.press("slash")
        assert pilot.app.focused is not None and pilot.app.focused.id == "filter"


async def test_wrap_and_timestamps_are_keys_in_the_footer_while_the_log_has_focus() -> None:
    long = " ".join(f"word{n}" for n in range(60))
    held = HeldApp([log(50, ROOT_A, "\n".join(f"short {n}" for n in range(30))),
                    log(51, ROOT_A, long, at=T0 + 4 * MINUTE + 321)])
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        assert "W" not in pilot.app.screen.active_bindings, "not while the tree has focus"
        view = await select(pilot, ROOT_A)
        keys = {key: active.binding.description for key, active in pilot.app.screen.active_bindings.items()
                if active.binding.show}
        assert keys["W"] == "Wrap" and keys["T"] == "Times" and keys["a"] == "Job/tree"
        await until(pilot, "the long line at the bottom", lambda: visible(view)[-1].startswith("word0 word1"))
        await pilot.press("W")
        await until(pilot, "the long line wrapped", lambda: visible(view)[-1].endswith("word59"))
        rows = visible(view)
        wrapped = rows[next(n for n, row in enumerate(rows) if row.startswith("word0 ")):]
        assert len(wrapped) >= 3 and " ".join(wrapped).split() == long.split(), "wrapping loses no word"
        assert "wrap" in status(pilot) and rows[-len(wrapped) - 1] == "short 29"
        await pilot.press("W")
        # The horizontal scrollbar is back and takes a row: the view stays at the bottom all the same.
        await until(pilot, "one row again, at the bottom", lambda: visible(view)[-1].startswith("word0 word1"))
        await pilot.press("T")
        await until(pilot, "the times", lambda: visible(view)[-1].startswith(clock_time(T0 + 4 * MINUTE + 321)))
        assert visible(view)[-1] == f"{clock_time(T0 + 4 * MINUTE + 321)} {long}"[:len(visible(view)[-1])]
        assert visible(view)[-2] == f"{clock_time(T0 + 3 * MINUTE)} short 29" and "times" in status(pilot)
        await pilot.press("T")
        await until(pilot, "no times", lambda: visible(view)[-2] == "short 29")


async def test_the_log_follows_stops_when_scrolled_up_and_resumes_at_the_bottom() -> None:
    def batch(seq: int, first: int) -> list:
        return [log(seq, ROOT_A, "\n".join(f"line {n}" for n in range(first, first + 100)))]

    held = HeldApp(batch(50, 0), batch(60, 100), batch(70, 200))
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        view = await select(pilot, ROOT_A)
        await until(pilot, "the last line at the bottom", lambda: visible(view)[-1] == "line 99")
        assert view.following and "following" in status(pilot)
        await pilot.press("pageup")
        await until(pilot, "the log scrolled up", lambda: "scrolled up (End follows)" in status(pilot))
        assert not view.following
        top = visible(view)[0]
        await held.release(pilot)
        assert view.lines[-1] == "line 199"
        assert visible(view)[0] == top, "new lines do not move a view scrolled up"
        await pilot.press("end")
        await until(pilot, "following again", lambda: view.following)
        await held.release(pilot)
        await until(pilot, "the newest line at the bottom", lambda: visible(view)[-1] == "line 299")
        await until(pilot, "following in the status", lambda: "· following" in status(pilot))
        assert view.is_vertical_scroll_end


async def test_a_100k_line_log_keeps_at_most_m_lines_in_the_view_and_n_in_the_model() -> None:
    batches = [log(100 + b, ROOT_A, "\n".join(f"line {b * 1000 + n}" for n in range(1000))) for b in range(100)]
    held = HeldApp([], batches)
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        view = await select(pilot, ROOT_A)
        await held.release(pilot)
        assert view.line_count == VIEW_MAX_LINES and view.row_count == VIEW_MAX_LINES
        assert view.lines[0] == f"line {100_000 - VIEW_MAX_LINES}" and view.lines[-1] == "line 99999"
        assert len(held.app.model.jobs[ROOT_A].log) == LOG_LINES_KEPT
        await until(pilot, "the newest line at the bottom", lambda: visible(view)[-1] == "line 99999")
        await pilot.press("a")
        assert view.line_count == LOG_LINES_KEPT, "a job shown again starts from what the model kept"
        view.write(Entry(LogLine(1, T0, "stdout", f"bulk {n}")) for n in range(3 * VIEW_MAX_LINES))
        assert view.line_count == view.row_count == VIEW_MAX_LINES
        assert view.lines[0] == f"bulk {2 * VIEW_MAX_LINES}" and view.lines[-1] == f"bulk {3 * VIEW_MAX_LINES - 1}"


async def test_search_takes_the_term_literally() -> None:
    held = HeldApp([log(50, ROOT_A, "x.y\nxzy\npath\\to\\it")])
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        view = await select(pilot, ROOT_A)
        await pilot.press("slash", *"X.Y", "enter")
        assert "1/1 matching 'X.Y'" in status(pilot)
        await pilot.press("slash", "ctrl+u", *"h\\to", "enter")
        assert "1/1 matching" in status(pilot) and view.search_term == "h\\to"
