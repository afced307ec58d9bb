"""Bar-chart geometry for server-rendered SVG (the template draws it; no JavaScript, no inline styles)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.repositories.review_stats import Tally


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    horizontal: bool
    label_width: int = 0

    @property
    def empty(self) -> bool:
        return not self.bars


def horizontal_bars(
    title: str, tallies: list[Tally], *, width: int = 520, row: int = 24, label_width: int = 150
) -> Chart:
    """One row per category, longest bar = biggest count; room on the right for the number."""
    biggest = max((tally.count for tally in tallies), default=0) or 1
    track = width - label_width - 60
    bars = [
        Bar(
            tally.label or "unknown",
            tally.count,
            label_width,
            index * row + 4,
            max(1.0, track * tally.count / biggest),
            row - 8,
        )
        for index, tally in enumerate(tallies)
    ]
    return Chart(title, width, max(row, len(bars) * row), bars, horizontal=True, label_width=label_width)


def columns(title: str, tallies: list[Tally], *, width: int = 720, height: int = 180) -> Chart:
    """One column per category in order (e.g. days), scaled to the tallest."""
    biggest = max((tally.count for tally in tallies), default=0) or 1
    slot = width / max(1, len(tallies))
    plot = height - 24
    bars = []
    for index, tally in enumerate(tallies):
        bar_height = max(1.0, plot * tally.count / biggest) if tally.count else 0.0
        bars.append(
            Bar(tally.label, tally.count, index * slot + slot * 0.1, plot - bar_height + 4, slot * 0.8, bar_height)
        )
    return Chart(title, width, height, bars, horizontal=False)
