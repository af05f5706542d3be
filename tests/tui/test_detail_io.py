"""The Input/Output tab against a real engine: file_pipeline's files by name, previewed (text, long, binary), saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent, Tree
from textual.widgets.tree import TreeNode

from runner.client.api import EngineClient
from runner.client.files import read_file, upload_file
from runner.tui.app import make_app
from runner.tui.screens.dialogs import Confirm
from runner.tui.screens.file_dialogs import FilePreview, SavePrompt
from runner.tui.widgets.describe_pane import tree_text
from runner.tui.widgets.io_pane import size_words
from runner.tui.widgets.job_tree import JobTree
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import run_sample, upload_text, wait_terminal
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
SIZE = (120, 36)
READS = "".join(f"read {n}\n" for n in range(10_000))  # over the preview's 64 KiB
BINARY = bytes(range(256)) * 4


def io_lines(pilot: Pilot[Any]) -> list[str]:
    """The Input/Output tab's rows as text."""
    return tree_text(pilot.app.screen.query_one("#io-tree", Tree).root)


def rows(node: TreeNode[Any]) -> Iterator[TreeNode[Any]]:
    """Every row under `node`, depth first."""
    for child in node.children:
        yield child
        yield from rows(child)


async def on_row(pilot: Pilot[Any], file_id: str, key: str) -> None:
    """Put the Input/Output tab's cursor on the first row of `file_id` and press `key`."""
    tree = pilot.app.screen.query_one("#io-tree", Tree)
    node = next(n for n in rows(tree.root) if n.data == file_id)
    tree.focus()
    tree.move_cursor(node)
    await pilot.pause()
    await pilot.press(key)


async def preview(pilot: Pilot[Any], file_id: str) -> tuple[str, str]:
    """Preview a file: the preview's title and body, then close it."""
    await on_row(pilot, file_id, "p")
    await until(pilot, "the preview", lambda: isinstance(pilot.app.screen, FilePreview))
    title = str(pilot.app.screen.query_one("#preview-title", Static).content)
    body = str(pilot.app.screen.query_one("#preview-body", Static).content)
    await pilot.press("escape")
    assert not isinstance(pilot.app.screen, FilePreview)
    return title, body


async def type_path(pilot: Pilot[Any], path: Path) -> None:
    """Replace the save prompt's path with `path` and press Enter."""
    await until(pilot, "the save prompt", lambda: isinstance(pilot.app.screen, SavePrompt))
    await pilot.press("end", "ctrl+u", *str(path), "enter")


def prompt_error(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#save-error", Static).content)


async def test_files_by_name_previewed_and_saved_without_replacing_unasked(engine: EngineClient,
                                                                            tmp_path: Path) -> None:
    reads = upload_text(engine, "reads.txt", READS)
    (tmp_path / "blob.bin").write_bytes(BINARY)
    blob = upload_file(engine, tmp_path / "blob.bin", project=engine.project)
    root = run_sample(engine, "file_pipeline", {"reads": reads, "extras": [{"$dnanexus_link": blob}]})
    output = wait_terminal(engine, root)["output"]
    report = output["report"]["$dnanexus_link"]
    copy_of_blob = output["copies"][1]["$dnanexus_link"]
    app = make_app(engine, paths=[SAMPLE_APPS])
    async with app.run_test(size=SIZE) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, "the pipeline's row", lambda: root in tree.nodes)
        tree.move_cursor(tree.nodes[root])
        await pilot.press("i")
        assert app.screen.query_one(TabbedContent).active == "io"
        await until(pilot, "the report by name", lambda: "  report: report.txt (file-" in "\n".join(io_lines(pilot)))
        await until(pilot, "every file described", lambda: not any("describing" in x for x in io_lines(pilot)))
        lines = io_lines(pilot)
        assert f"  reads: reads.txt ({reads['$dnanexus_link']}, {size_words(len(READS))})" in lines
        assert f"    0: blob.bin ({blob}, 1.0 kB)" in lines and "  total_lines: 10004" in lines
        assert f"    1: blob.bin ({copy_of_blob}, 1.0 kB)" in lines

        title, body = await preview(pilot, report)
        assert title.startswith(f"report.txt ({report}, ") and "first 64 KiB" not in title
        assert body.splitlines() == ["10000 /home/dnanexus/in/reads/reads.txt", "4 /home/dnanexus/in/extras/0/blob.bin"]
        title, body = await preview(pilot, reads["$dnanexus_link"])
        assert "its first 64 KiB" in title and body.startswith("read 0\nread 1\n")
        assert len(body) <= 64 * 1024 and READS.startswith(body)
        _, body = await preview(pilot, copy_of_blob)
        assert body.startswith("binary content: not shown")

        saved = tmp_path / "saved" / "report.txt"
        await on_row(pilot, report, "S")
        await type_path(pilot, saved)
        assert "is not a folder" in prompt_error(pilot), "a missing folder is said, not created"
        saved.parent.mkdir()
        await pilot.press("enter")
        await until(pilot, "the report saved", lambda: saved.exists())
        assert saved.read_bytes() == read_file(engine, report)

        saved.write_text("mine")
        await on_row(pilot, report, "S")
        await type_path(pilot, saved)
        await until(pilot, "asked to replace it", lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")
        assert "exists: not replaced" in prompt_error(pilot) and saved.read_text() == "mine"
        await pilot.press("enter", "y")
        await until(pilot, "the report saved over it", lambda: saved.read_bytes() == read_file(engine, report))
        await until(pilot, "told where it went", lambda: any(
            f"saved report.txt to {saved}" in str(n.message) for n in app._notifications))
        assert not isinstance(app.screen, (SavePrompt, Confirm))

        io_tree = app.screen.query_one("#io-tree", Tree)
        io_tree.move_cursor(next(n for n in rows(io_tree.root) if str(n.label).startswith("total_lines")))
        await pilot.press("p")
        await until(pilot, "told to pick a file", lambda: any(
            "on a file's row first" in str(n.message) for n in app._notifications))
        assert not isinstance(app.screen, FilePreview)
