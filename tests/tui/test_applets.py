"""The applets panel's model: source folders found and checked with runner.spec, build events marking them."""

from __future__ import annotations

from pathlib import Path

from runner.spec.events import AppletBuilt, AppletFailed
from runner.tui.applets import apply_build_event, find_sources

SOURCES = Path(__file__).parent / "sources"


def test_sources_under_a_path_are_found_and_checked() -> None:
    found = {s.name: s for s in find_sources([SOURCES])}
    assert set(found) == {"greeter", "broken"}
    assert found["greeter"].state == "not built"
    assert found["broken"].state == "invalid" and found["broken"].note.startswith("inputSpec[0].class: unknown class 'integer'")


def test_a_path_that_is_a_source_folder_is_that_folder() -> None:
    assert [s.name for s in find_sources([SOURCES / "greeter"])] == ["greeter"]
    assert find_sources([SOURCES / "greeter" / "src"]) == []


def test_build_events_mark_the_source_built_stale_or_invalid() -> None:
    sources = find_sources([SOURCES])
    greeter = next(s for s in sources if s.name == "greeter")
    greeter.applet = "applet-000000000000000000000001"  # the ID the engine says the folder builds to now
    built = AppletBuilt(seq=1, time=0, applet="applet-000000000000000000000001", name="greeter", project="p")
    assert apply_build_event(sources, built) == [greeter]
    assert (greeter.state, greeter.latest) == ("built", "applet-000000000000000000000001")
    other_build = AppletBuilt(seq=2, time=0, applet="applet-000000000000000000000003", name="greeter", project="p")
    assert apply_build_event(sources, other_build) == [greeter]
    assert (greeter.state, greeter.note) == ("stale", "changed since applet-000000000000000000000003")
    failed = AppletFailed(seq=3, time=0, folder=str(SOURCES / "greeter"), message="execDepends: no such package")
    assert apply_build_event(sources, failed) == [greeter]
    assert (greeter.state, greeter.note) == ("invalid", "execDepends: no such package")
    other = AppletBuilt(seq=4, time=0, applet="applet-000000000000000000000002", name="elsewhere", project="p")
    assert not apply_build_event(sources, other)
