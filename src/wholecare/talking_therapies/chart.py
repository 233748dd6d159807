"""The person's chart as geometry: mood measures and physical markers on one time axis.

Pure Python, no Django: the template draws these numbers as SVG (no script, no chart library),
with a table of the same values beside it. Each panel has its own vertical scale and shares the
horizontal one; mood panels show the caseness line and the reliable-change band around the
first score (a later score outside the band is a reliable change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
LEFT = 48
RIGHT = 16
PANEL_HEIGHT = 150
PLOT_TOP = 28
PLOT_BOTTOM = 24


@dataclass(frozen=True, slots=True)
class Series:
    title: str
    unit: str
    low: float
    high: float
    points: tuple[tuple[dt.date, float], ...]
    caseness: float | None = None
    reliable_change: float | None = None
    notes: tuple[str, ...] = ()
    """Beside each point (in the order of `points`), where it came from when not from here."""


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    day: dt.date
    value: float
    note: str = ""

    @property
    def text(self) -> str:
        return _fmt(self.value)


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    unit: str
    top: float
    height: float
    points: tuple[Point, ...]
    path: str
    y_ticks: tuple[Tick, ...]
    caseness_y: float | None
    caseness_label: str
    band: tuple[float, float] | None
    """Top and bottom y of the reliable-change band around the first score."""
    band_label: str

    @property
    def plot_top(self) -> float:
        return self.top + PLOT_TOP

    @property
    def plot_bottom(self) -> float:
        return self.top + self.height - PLOT_BOTTOM

    @property
    def title_y(self) -> float:
        return self.top + 16

    @property
    def band_height(self) -> float:
        return round(self.band[1] - self.band[0], 1) if self.band else 0.0


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    panels: tuple[Panel, ...]
    x_ticks: tuple[Tick, ...]

    @property
    def plot_width(self) -> float:
        return self.right - self.left

    @property
    def axis_label_y(self) -> int:
        return self.height - 4


def _x_scale(start: dt.date, end: dt.date) -> tuple[float, float]:
    span = max((end - start).days, 1)
    return float(LEFT), (WIDTH - LEFT - RIGHT) / span


def _fmt(value: float) -> str:
    return f"{value:g}"


def build(series: Sequence[Series]) -> Chart | None:
    """The chart, or None when no series has a point to draw."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return None
    days = [day for s in drawn for day, _ in s.points]
    start, end = min(days), max(days)
    if start == end:
        start -= dt.timedelta(days=7)
        end += dt.timedelta(days=7)
    x0, per_day = _x_scale(start, end)

    def x(day: dt.date) -> float:
        return round(x0 + (day - start).days * per_day, 1)

    panels = []
    for index, s in enumerate(drawn):
        top = index * PANEL_HEIGHT
        bottom = top + PANEL_HEIGHT - PLOT_BOTTOM
        plot_top = top + PLOT_TOP
        scale = (bottom - plot_top) / (s.high - s.low)

        def y(
            value: float, *, s: Series = s, bottom: float = bottom, scale: float = scale
        ) -> float:
            clamped = min(max(value, s.low), s.high)
            return round(bottom - (clamped - s.low) * scale, 1)

        notes = s.notes or ("",) * len(s.points)
        ordered = sorted(zip(s.points, notes, strict=True), key=lambda p: p[0][0])
        points = tuple(Point(x(day), y(value), day, value, note) for (day, value), note in ordered)
        path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
        band = None
        band_label = ""
        if s.reliable_change is not None:
            first = ordered[0][0][1]
            band = (y(first + s.reliable_change), y(first - s.reliable_change))
            band_label = (
                f"No reliable change: {_fmt(max(first - s.reliable_change, s.low))} to"
                f" {_fmt(min(first + s.reliable_change, s.high))}"
            )
        panels.append(
            Panel(
                title=s.title,
                unit=s.unit,
                top=top,
                height=PANEL_HEIGHT,
                points=points,
                path=path,
                y_ticks=(Tick(y(s.low), _fmt(s.low)), Tick(y(s.high), _fmt(s.high))),
                caseness_y=y(s.caseness) if s.caseness is not None else None,
                caseness_label=f"Caseness {_fmt(s.caseness)}" if s.caseness is not None else "",
                band=band,
                band_label=band_label,
            )
        )
    x_ticks = tuple(Tick(x(day), f"{day:%-d %b %Y}") for day in _month_starts(start, end))
    return Chart(
        width=WIDTH,
        height=PANEL_HEIGHT * len(panels),
        left=LEFT,
        right=WIDTH - RIGHT,
        panels=tuple(panels),
        x_ticks=x_ticks or (Tick(x(start), f"{start:%-d %b %Y}"),),
    )


def _month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of months within the range, thinned to at most six labels."""
    found = []
    day = dt.date(start.year, start.month, 1)
    while day <= end:
        if day >= start:
            found.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    step = max(1, -(-len(found) // 6))
    return found[::step]
