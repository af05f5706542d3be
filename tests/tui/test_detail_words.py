"""What the Input/Output tab and its dialogs make of values: links, sizes, previews, save paths; and the tab focus."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Tree

from runner.tui.screens.file_dialogs import preview_text, save_target
from runner.tui.widgets.describe_pane import tree_text
from runner.tui.widgets.detail import DetailPane
from runner.tui.widgets.io_pane import JobRef, link_of, object_words, size_words
from tests.tui.detail_helpers import SIZE, HeldApp, select
from tests.tui.events_fixture import ROOT_A, ROOT_B, SUB_A


def test_links_name_an_object_or_a_jobs_output_field() -> None:
    assert link_of({"$dnanexus_link": "file-A"}) == "file-A"
    assert link_of({"$dnanexus_link": {"project": "project-P", "id": "file-A"}}) == "file-A"
    assert link_of({"$dnanexus_link": {"job": "job-J", "field": "out"}}) == JobRef("job-J", "out")
    assert link_of({"$dnanexus_link": "file-A", "extra": 1}) is None, "a hash with more keys is a hash"
    assert link_of("file-A") is None and link_of({"$dnanexus_link": 3}) is None


def test_objects_read_by_name_and_size() -> None:
    assert object_words("file-A", {"name": "reads.txt", "size": 12_345}) == "reads.txt (file-A, 12 kB)"
    assert object_words("file-A", None) == "file-A (describing...)"
    assert object_words("applet-B", {"name": "tool"}) == "tool (applet-B)"
    assert object_words("file-A", "cannot describe it: gone") == "file-A (cannot describe it: gone)"
    assert [size_words(n) for n in (0, 999, 1000, 12_345, 3_400_000, 5 * 10**12)] == [
        "0 B", "999 B", "1.0 kB", "12 kB", "3.4 MB", "5000 GB"]


def test_a_preview_is_text_or_said_to_be_binary() -> None:
    assert preview_text(b"a\nb\n", truncated=False) == "a\nb\n"
    assert preview_text(b"a\0b", truncated=False) is None
    assert preview_text(b"\xff\xfe text", truncated=False) is None
    cut = "héllo".encode()[:2]  # the cut falls inside é
    assert preview_text(cut, truncated=True) == "h"
    assert preview_text(cut, truncated=False) is None


def test_a_save_path_must_be_in_a_folder_and_a_folder_takes_the_files_name(tmp_path: Path) -> None:
    assert save_target("  ", "r.txt") == "type the local path to save the file to"
    assert save_target(str(tmp_path), "r.txt") == tmp_path / "r.txt"
    assert save_target(str(tmp_path / "x.txt"), "r.txt") == tmp_path / "x.txt"
    assert save_target(str(tmp_path / "no" / "x.txt"), "r.txt") == f"{tmp_path / 'no'} is not a folder"
    (tmp_path / "r.txt").mkdir()
    assert save_target(str(tmp_path), "r.txt") == f"{tmp_path / 'r.txt'} is a folder"


@pytest.mark.asyncio
async def test_describe_folds_and_a_tab_key_from_the_log_hands_the_focus_over() -> None:
    held = HeldApp([])
    async with held.app.run_test(size=SIZE) as pilot:
        await held.shown(pilot)
        await select(pilot, ROOT_B)
        await pilot.press("d")
        tree = pilot.app.screen.query_one("#describe-tree", Tree)
        await pilot.pause()
        assert pilot.app.focused is tree, "the log had the focus: the Describe tab's tree gets it"
        pilot.app.screen.query_one(DetailPane).show_describe(ROOT_B, {
            "id": ROOT_B, "state": "failed", "failureReason": "AppError", "failureMessage": "exit 1",
            "failureFrom": {"id": SUB_A, "name": "sub"}, "output": {"a": 1, "b": [1, 2]}})
        await pilot.pause()
        text = pilot.app.screen.query_one(DetailPane).describe_text()
        assert text.startswith(f"{ROOT_B} failed: AppError: exit 1\ncaused by {SUB_A} (sub)")
        assert tree_text(tree.root)[-5:] == ["output {2}", "  a: 1", "  b [2]", "    0: 1", "    1: 2"]
        output = next(n for n in tree.root.children if str(n.label).startswith("output"))
        tree.move_cursor(output)
        await pilot.press("enter")
        assert not output.is_expanded and "  a: 1" in tree_text(tree.root), "folded, not gone"
        pilot.app.screen.query_one(DetailPane).show_describe(ROOT_A, {"id": ROOT_A, "state": "done"})
        assert pilot.app.screen.query_one(DetailPane).describe_text().startswith(f"{ROOT_B} failed"), \
            "an answer for a job no longer shown is dropped"
