"""scripts/tui-screenshot, the README's screenshot: it still runs and renders the main screen it promises."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "tui-screenshot"


def svg_texts(svg: str) -> list[str]:
    """The text runs of a Textual SVG screenshot, as a terminal would show them."""
    return [html.unescape(run).replace("\xa0", " ") for run in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_the_script_renders_the_three_trees_and_the_selected_log(tmp_path: Path) -> None:
    output = tmp_path / "images" / "tui-main.svg"
    done = subprocess.run([sys.executable, str(SCRIPT), str(output)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {output}"
    texts = svg_texts(output.read_text(encoding="utf-8"))
    shown = " | ".join(texts)
    rows = {text.strip() for text in texts}
    for job in ("scatter_gather_bash:main", "scatter_gather_bash:shout", "failing_subjob:main",
                "failing_subjob:explode", "failing_subjob:linger", "hello_bash:main"):
        assert job in rows, f"{job} is not in the screenshot: {shown}"
    assert "waiting for 2 cores and 4.0 GiB" in rows, shown
    assert "shouting alpha in job-J4bC2a1Qx6Zm9Rk3Vt8Np0Wf" in rows, shown  # the selected root's log
    assert {"failed", "stopped", "running", "done"} <= rows, shown
    built = [name for mark, name in pairwise(texts) if mark == "✓ "]
    assert built == ["failing_subjob", "hello_bash", "scatter_gather_bash"], shown  # the applets panel


def test_the_readme_shows_the_committed_screenshot() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "![The terminal UI](docs/images/tui-main.svg)" in readme
    assert "failing_subjob:explode" in " ".join(svg_texts((REPO / "docs" / "images" / "tui-main.svg").read_text()))
