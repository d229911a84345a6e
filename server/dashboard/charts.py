"""Chart geometry for server-rendered SVG (templates/dashboard/_charts.html draws it).

Pure functions: numbers in, coordinates out, in a fixed viewBox that the browser scales to
the screen, so a phone shows the same chart as a desktop, just smaller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def nice_max(value: float) -> int:
    """The smallest 'round' number (1, 2, 5 × 10^n) at or above value; at least 1."""
    if value <= 1:
        return 1
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exp >= value:
            return int(step * exp)
    return int(10 * exp)  # pragma: no cover - the loop always returns


def tick_step(top: int) -> int:
    """An integer step that divides a nice_max() top into 1–5 parts (people and cases come
    in whole numbers, so no tick is ever fractional)."""
    if top <= 5:
        return 1
    return top // 5 if top % 5 == 0 else top // 4


@dataclass(frozen=True)
class HBar:
    label: str
    value: int
    y: float
    width: float
    href: str | None = None


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    label_width: int
    plot_width: int
    row: int
    bars: tuple[HBar, ...]
    max: int

    @property
    def empty(self) -> bool:
        return not self.bars or all(b.value == 0 for b in self.bars)


def hbars(items: list[tuple[str, int]] | list[tuple[str, int, str | None]], *, width: int = 420,
          label_width: int = 130, row: int = 28) -> HBarChart:
    """Horizontal bars, one row per item, labels on the left (they fit Chinese text and a
    narrow screen better than rotated labels under vertical bars)."""
    plot = width - label_width - 48  # room for the value after the bar
    top = max((item[1] for item in items), default=0)
    scale = nice_max(top)
    bars = tuple(
        HBar(item[0], item[1], i * row, plot * item[1] / scale, item[2] if len(item) > 2 else None)
        for i, item in enumerate(items))
    return HBarChart(width, max(len(items), 1) * row, label_width, plot, row, bars, scale)


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: tuple[tuple[float, float, int], ...]  # x, y, value

    @property
    def path(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    bottom: int
    x_labels: tuple[tuple[float, str, bool], ...]  # x, text, solid (frozen) or hollow (live)
    y_ticks: tuple[tuple[float, int], ...]
    series: tuple[Series, ...]

    @property
    def empty(self) -> bool:
        return not self.x_labels


def lines(labels: list[tuple[str, bool]], series: list[tuple[str, str, list[int]]], *, width: int = 420,
          height: int = 200) -> LineChart:
    """A line per series over the same x labels (weeks). labels: (text, solid)."""
    left, right, top, bottom = 36, 16, 12, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(labels)
    top_value = nice_max(max((v for _, _, values in series for v in values), default=0))

    def x(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y(v: int) -> float:
        return top + plot_h - plot_h * v / top_value

    step = tick_step(top_value)
    ticks = tuple((y(v), v) for v in range(0, top_value + 1, step))
    xs = tuple((x(i), text, solid) for i, (text, solid) in enumerate(labels))
    drawn = tuple(Series(name, css, tuple((x(i), y(v), v) for i, v in enumerate(values)))
                  for name, css, values in series)
    return LineChart(width, height, left, bottom, xs, ticks, drawn)


@dataclass(frozen=True)
class Rate:
    label: str
    done: int
    total: int

    @property
    def percent(self) -> float:
        return 0.0 if self.total == 0 else round(100 * self.done / self.total, 1)


def rate(label: str, done: int, total: int) -> Rate:
    return Rate(label, done, total)
