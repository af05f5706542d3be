"""scripts/tui-screenshot, the README's screenshot: it still runs and renders the main screen it promises."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "tui-screenshot"


def svg_lines(svg: str) -> list[str]:
    """The screen's lines as a terminal would show them, from a Textual SVG screenshot's positioned text runs."""
    rows: dict[float, dict[int, str]] = {}
    for x, y, length, run in re.findall(
            r'<text[^>]*x="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        text = html.unescape(run).replace("\xa0", " ")
        if text.strip():
            cell = float(length) / len(text)
            rows.setdefault(float(y), {})[round(float(x) / cell)] = text
    lines = []
    for _, runs in sorted(rows.items()):
        line = ""
        for column, text in sorted(runs.items()):
            line = line.ljust(column)[:column] + text
        lines.append(line)
    return lines


def test_the_script_renders_the_three_trees_and_the_selected_log(tmp_path: Path) -> None:
    output = tmp_path / "images" / "tui-main.svg"
    done = subprocess.run([sys.executable, str(SCRIPT), str(output)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {output}"
    lines = svg_lines(output.read_text(encoding="utf-8"))
    shown = "\n".join(lines)

    def row(*words: str) -> None:
        assert any(all(w in line for w in words) for line in lines), f"no line with {words}:\n{shown}"

    row("wait_out", "scatter_gather_bash:main", "9m13s left", "waiting on its subjobs")
    row("running", "scatter_gather_bash:shout", "43s", "9m16s left", "100% 252 MiB")
    row("runnable", "scatter_gather_bash:shout", "waiting for 2 cores and 4.0 GiB")
    row("failed", "failing_subjob:main")
    row("failed", "failing_subjob:explode")
    row("stopped", "failing_subjob:linger")
    row("done", "hello_bash:main")
    row("shouting alpha in job-J4bC2a1Qx6Zm9Rk3Vt8Np0Wf")  # the selected root's log
    for mark in ("✓ failing_subjob", "✓ hello_bash", "~ hello_python", "✓ scatter_gather_bash", "· oom_demo"):
        row(mark)  # the applets panel


def test_the_readme_shows_the_committed_screenshot() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "![The terminal UI](docs/images/tui-main.svg)" in readme
    committed = svg_lines((REPO / "docs" / "images" / "tui-main.svg").read_text(encoding="utf-8"))
    assert any("failing_subjob:explode" in line for line in committed)
