"""Which release an applet runs on: the platform's two, 22.04 (local only), legacy ones refused or moved."""

from __future__ import annotations

import pytest

from runner.spec._checks import Checker
from runner.spec.dxapp import build_dxapp
from runner.spec.releases import choose_release, nearest_release


@pytest.mark.parametrize(("asked", "nearest"), [
    ("12.04", "20.04"), ("14.04", "20.04"), ("16.04", "20.04"), ("18.04", "20.04"), ("22.10", "24.04"),
    ("26.04", "24.04"), ("22.04", "24.04"),
])
def test_the_nearest_platform_release(asked: str, nearest: str) -> None:
    assert nearest_release(asked) == nearest


def test_supported_releases_run_as_they_are() -> None:
    assert choose_release("24.04") == choose_release("24.04", "nearest") == choose_release("24.04", "refuse")
    assert choose_release("20.04").release == "20.04" and choose_release("20.04").note is None


def test_2204_runs_here_with_a_note_that_the_platform_refuses_it() -> None:
    choice = choose_release("22.04")
    assert choice.release == "22.04" and choice.problem is None
    assert choice.note is not None and "not offered by the platform" in choice.note


def test_a_legacy_release_is_refused_naming_the_fix_or_moved_with_a_note() -> None:
    refused = choose_release("16.04")
    assert refused.release is None and refused.problem is not None
    assert "runner config set legacy-release nearest" in refused.problem and "Ubuntu 20.04" in refused.problem
    moved = choose_release("16.04", "nearest")
    assert moved.release == "20.04" and moved.problem is None
    assert moved.note is not None and "16.04" in moved.note
    assert choose_release("xenial", "nearest").release is None


def _document(release: str) -> dict[str, object]:
    return {"name": "old", "runSpec": {"interpreter": "bash", "code": "main() { :; }", "distribution": "Ubuntu",
                                       "release": release}}


def test_the_run_spec_keeps_what_was_asked_and_warns() -> None:
    checker = Checker()
    dxapp = build_dxapp(_document("14.04"), checker, legacy_release="nearest")
    assert dxapp is not None and not checker.problems
    assert (dxapp.run_spec.release, dxapp.run_spec.requested_release) == ("20.04", "14.04")
    assert dxapp.run_spec.release_note is not None
    assert [str(w) for w in dxapp.warnings] == [f"runSpec.release: {dxapp.run_spec.release_note}"]
    refused = Checker()
    assert build_dxapp(_document("14.04"), refused) is None
    assert [p.path for p in refused.problems] == ["runSpec.release"]
