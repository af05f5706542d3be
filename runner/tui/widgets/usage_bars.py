"""Sparklines whose bars rise from zero to a fixed top, so that their height reads as an amount.

Textual's Sparkline scales between the lowest and the highest sample: a job whose memory went from 32 to
34 MiB drew a bar dropping to nothing, and one sample filled the whole height whatever its value.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.reactive import reactive
from textual.widgets import Sparkline

EIGHTHS = " ▁▂▃▄▅▆▇█"


def column_values(data: Sequence[float], width: int) -> list[float]:
    """One value per column: the highest of the samples that fall in it (a sample spans columns when few)."""
    count = len(data)
    values = []
    for column in range(width):
        start = column * count // width
        end = max(start + 1, (column + 1) * count // width)
        values.append(max(data[start:end]))
    return values


class ZeroBars:
    """The rich renderable: each column's value as a bar of eighths of a cell, 0 at the bottom, `top` full."""

    def __init__(self, data: Sequence[float], top: float, height: int, low: Color, high: Color) -> None:
        self.data, self.top, self.height, self.low, self.high = data, top, height, low, high

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Rows from the top down; an empty series draws the baseline."""
        width = options.max_width
        if not self.data:
            for _ in range(self.height - 1):
                yield Segment.line()
            yield Segment("▁" * width, Style(color=self.low.rich_color))
            return
        ratios = [min(1.0, max(0.0, v / self.top)) if self.top > 0 else 0.0
                  for v in column_values(self.data, width)]
        # At least an eighth for a sample: the series is there, however low.
        eighths = [max(1, round(r * self.height * 8)) for r in ratios]
        for row in range(self.height):
            floor = (self.height - 1 - row) * 8
            for ratio, level in zip(ratios, eighths, strict=True):
                bar = EIGHTHS[min(8, max(0, level - floor))]
                yield Segment(bar, Style(color=self.low.blend(self.high, ratio).rich_color) if bar != " " else None)
            if row < self.height - 1:
                yield Segment.line()


class UsageBars(Sparkline):
    """A Sparkline drawn from zero up to `top` (a CPU's 100 %, a memory peak) instead of from its lowest sample."""

    top: reactive[float] = reactive(1.0)

    def render(self) -> ZeroBars:
        """The bars, in the Sparkline's min and max colours."""
        _, base = self.background_colors
        low = base + (self.min_color or self.get_component_styles("sparkline--min-color").color)
        high = base + (self.max_color or self.get_component_styles("sparkline--max-color").color)
        return ZeroBars([float(v) for v in self.data or []], self.top, self.size.height, low, high)
