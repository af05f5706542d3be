"""The TUI application: `make_app(client, clock)` wires the model, the event feed and the main screen."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from textual.app import App

from runner.client.api import EngineClient
from runner.client.events import follow_events
from runner.spec.events import Event
from runner.tui.applets import AppletSource, find_sources
from runner.tui.feed import EventFeed, EventSource
from runner.tui.model import Clock, JobsModel
from runner.tui.screens.main import MainScreen

DEFAULT_PATHS = (Path("sample_apps"),)


def wall_clock() -> int:
    """The time now in ms since the epoch, as events carry it."""
    return time.time_ns() // 1_000_000


class RunnerApp(App[None]):
    """`runner tui`: the engine's jobs live, applets, logs and describe, every action from the keyboard."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "applet-runner"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (150, "-roomy")]  # noqa: RUF012 - textual's own type

    def __init__(self, client: EngineClient | None, model: JobsModel, feed: EventFeed,
                 sources: list[AppletSource]) -> None:
        super().__init__()
        self.client, self.model, self.feed, self.sources = client, model, feed, sources
        self.select: str | None = None

    def on_mount(self) -> None:
        """Open the main screen (its cursor going to the `select` tree once its row is there)."""
        screen = MainScreen(self.client, self.model, self.feed, self.sources)
        screen.awaited_root = self.select
        self.push_screen(screen)


def make_app(client: EngineClient | None, clock: Clock = wall_clock, *, paths: Sequence[Path] = (),
             events: Iterable[Event] | None = None,
             locate: Callable[[], EngineClient] | None = None, select: str | None = None) -> RunnerApp:
    """The app on `client`'s event stream (or a fixed list of `events`), its times read from `clock`.

    `paths` are where applet source folders are looked for (`sample_apps/` when none are given); `locate`
    finds the engine again after it restarted (perhaps on another port), for the stream to resume there;
    `select` is a root job to put the cursor on once it shows (the one `runner tui --run` started).
    """
    source: EventSource
    if events is not None:
        fixed = list(events)
        source = lambda: fixed
    elif client is not None:
        engine = client
        source = lambda: follow_events(engine)
    else:
        raise ValueError("make_app needs a client or a list of events")
    found = find_sources(paths or DEFAULT_PATHS)
    app = RunnerApp(client, JobsModel(clock), EventFeed(source), found)
    app.select = select
    return app
