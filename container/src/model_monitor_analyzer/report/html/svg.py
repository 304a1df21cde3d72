"""Small inline SVG charts for the HTML reports: step densities, bars, curves, series, a range dot plot.

Drawn by our own code rather than matplotlib or an embedded charting script: importing
matplotlib costs every run more than a second, Plotly's script alone is over 3 MB, and these
few chart kinds need a few hundred bytes each. Every chart has a ``viewBox`` and scales to
the page width (readable on a phone), and carries a ``<title>`` for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 360
HEIGHT = 150
MARGIN_LEFT = 50
MARGIN_RIGHT = 8
MARGIN_TOP = 8
MARGIN_BOTTOM = 24
BASELINE_COLOUR = "#4c78a8"
WINDOW_COLOUR = "#f58518"
THRESHOLD_COLOUR = "#d62728"
MAX_CURVE_POINTS = 120


@dataclass(frozen=True)
class Series:
    """One line or outline of a chart: its points and how it is drawn."""

    label: str
    points: Sequence[tuple[float, float]]
    colour: str
    dashed: bool = False


def number_text(value: float) -> str:
    """A number short enough for an axis or a table cell (4 significant digits)."""
    if isinstance(value, str):  # Clarify writes infinities as "Infinity"
        try:
            value = float(value)
        except ValueError:
            return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == int(value) and abs(value) < 1e7:
        return str(int(value))
    return f"{value:.4g}"


def axis_text(value: float) -> str:
    """An axis end: 3 significant digits, so that it fits the margin."""
    return number_text(float(f"{value:.3g}")) if math.isfinite(value) else number_text(value)


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _span(values: Sequence[float], *, headroom: float = 0.0) -> tuple[float, float]:
    finite = _finite(values)
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    if low == high:
        pad = abs(low) * 0.05 or 0.5
        return low - pad, high + pad
    return low, high + (high - low) * headroom


class _Frame:
    """Maps data coordinates into the plotting area of one chart."""

    def __init__(self, x_span: tuple[float, float], y_span: tuple[float, float], *,
                 width: int = WIDTH, height: int = HEIGHT) -> None:
        self.x0, self.x1 = x_span
        self.y0, self.y1 = y_span
        self.width, self.height = width, height
        self.left, self.right = MARGIN_LEFT, width - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, height - MARGIN_BOTTOM
        self.axes_text = ""

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)

    def axes(self, *, x_labels: Sequence[tuple[float, str]] | None = None) -> str:
        parts = [f'<path d="M{self.left},{self.top}V{self.bottom}H{self.right}" stroke="#888" fill="none"/>']
        for value in (self.y0, self.y1):
            parts.append(f'<text x="{self.left - 4}" y="{self.y(value) + 4:.1f}" text-anchor="end">'
                         f"{escape(axis_text(value))}</text>")
        if x_labels is None:  # the two ends, kept inside the chart
            parts.append(f'<text x="{self.left}" y="{self.bottom + 14}">{escape(number_text(self.x0))}</text>'
                         f'<text x="{self.right}" y="{self.bottom + 14}" text-anchor="end">'
                         f"{escape(number_text(self.x1))}</text>")
        for value, label in x_labels or ():
            parts.append(f'<text x="{self.x(value):.1f}" y="{self.bottom + 14}" text-anchor="middle">'
                         f"{escape(label)}</text>")
        return "".join(parts)


def _svg(frame: _Frame, title: str, body: str, legend: Sequence[tuple[str, str, bool]] = ()) -> str:
    keys = []
    for i, (label, colour, dashed) in enumerate(legend):
        x = frame.right - 150 + i * 75
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        keys.append(f'<path d="M{x},{frame.top + 6}h14" stroke="{colour}" stroke-width="2"{dash}/>'
                    f'<text x="{x + 18}" y="{frame.top + 10}">{escape(label)}</text>')
    return (f'<svg class="chart" viewBox="0 0 {frame.width} {frame.height}" role="img">'
            f"<title>{escape(title)}</title>{body}{frame.axes_text}{''.join(keys)}</svg>")


def _polyline(frame: _Frame, series: Series) -> str:
    points = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in series.points
                      if math.isfinite(x) and math.isfinite(y))
    dash = ' stroke-dasharray="4 3"' if series.dashed else ""
    return f'<polyline points="{points}" fill="none" stroke="{series.colour}" stroke-width="1.8"{dash}/>'


def step_outline(buckets: Sequence[tuple[float, float, float]]) -> list[tuple[float, float]]:
    """Outline of a histogram given as ``(lower, upper, share)`` buckets, as a density per unit of x.

    Buckets of different widths (a baseline's and a window's KLL buckets rarely line up) become
    comparable when each height is its share divided by its width.
    """
    points: list[tuple[float, float]] = []
    for lower, upper, share in buckets:
        width = upper - lower
        height = share / width if width > 0 else 0.0
        if not points:
            points.append((lower, 0.0))
        points += [(lower, height), (upper, height)]
    if points:
        points.append((points[-1][0], 0.0))
    return points


def lines_chart(title: str, series: Sequence[Series], *, x_span: tuple[float, float] | None = None,
                y_span: tuple[float, float] | None = None) -> str:
    """Lines (or step outlines) on shared axes."""
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    if y_span is None:
        finite = _finite(ys)
        y_span = _span([0.0, *finite] if finite and min(finite) >= 0 else finite, headroom=0.12)
    frame = _Frame(x_span or _span(xs), y_span)
    frame.axes_text = frame.axes()
    body = "".join(_polyline(frame, s) for s in series)
    legend = [(s.label, s.colour, s.dashed) for s in series if s.label]
    return _svg(frame, title, body, legend)


def grouped_bars(title: str, labels: Sequence[str], groups: Sequence[tuple[str, str, Sequence[float]]]) -> str:
    """Bars of shares per category, one bar per group (baseline, window) side by side."""
    values = [v for _, _, vs in groups for v in vs]
    frame = _Frame((0.0, float(max(len(labels), 1))), (0.0, max([*values, 0.01])))
    ticks = [(i + 0.5, label if len(label) <= 10 else label[:9] + "…") for i, label in enumerate(labels)]
    frame.axes_text = frame.axes(x_labels=ticks if len(labels) <= 8 else ticks[:: math.ceil(len(labels) / 8)])
    slot = (frame.right - frame.left) / max(len(labels), 1)
    bar = slot * 0.8 / max(len(groups), 1)
    body = []
    for g, (_, colour, shares) in enumerate(groups):
        for i, share in enumerate(shares):
            x = frame.left + i * slot + slot * 0.1 + g * bar
            y = frame.y(share)
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{frame.bottom - y:.1f}" '
                        f'fill="{colour}"><title>{escape(labels[i])}: {share:.1%}</title></rect>')
    return _svg(frame, title, "".join(body), [(name, colour, False) for name, colour, _ in groups])


def downsample(points: Sequence[tuple[float, float]], limit: int = MAX_CURVE_POINTS) -> list[tuple[float, float]]:
    """At most ``limit`` points of a curve, evenly spaced by index, first and last kept."""
    if len(points) <= limit:
        return list(points)
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def range_dots(title: str, *, neutral: float, allowed: float, baseline: float | None, window: float | None) -> str:
    """A metric's allowed band around its neutral value, with the baseline's and the window's values."""
    values = _finite([neutral - allowed, neutral + allowed, baseline, window])
    low, high = _span(values)
    pad = (high - low) * 0.08
    frame = _Frame((low - pad, high + pad), (0.0, 1.0), height=56)
    frame.bottom = 34
    frame.axes_text = "".join(
        f'<text x="{frame.x(v):.1f}" y="50" text-anchor="middle">{escape(number_text(v))}</text>'
        for v in sorted({neutral - allowed, neutral, neutral + allowed}))
    band = (f'<rect x="{frame.x(neutral - allowed):.1f}" y="10" width="{frame.x(neutral + allowed) - frame.x(neutral - allowed):.1f}" '
            f'height="20" fill="#e8f3e8" stroke="#9c9"/><path d="M{frame.x(neutral):.1f},6V34" stroke="#555"/>')
    dots = ""
    for value, colour, name in ((baseline, BASELINE_COLOUR, "baseline"), (window, WINDOW_COLOUR, "window")):
        if value is not None and math.isfinite(value):
            dots += (f'<circle cx="{frame.x(value):.1f}" cy="20" r="5" fill="{colour}">'
                     f"<title>{name}: {escape(number_text(value))}</title></circle>")
    return _svg(frame, title, band + dots)


def time_series(title: str, values: Sequence[tuple[float | None, bool]], *, x_labels: Sequence[tuple[float, str]],
                threshold: float | None = None, lower_threshold: float | None = None) -> str:
    """One value per window (``(value, violated)``, None for a window without it) at x = 0, 1, ...,
    with the threshold lines; violated windows are red dots."""
    points = [(float(i), v) for i, (v, _) in enumerate(values) if v is not None and math.isfinite(v)]
    limits = [t for t in (threshold, lower_threshold) if t is not None and math.isfinite(t)]
    ys = [v for _, v in points] + limits
    finite = _finite(ys)
    frame = _Frame((-0.5, max(len(values) - 0.5, 0.5)),
                   _span([0.0, *finite] if finite and min(finite) >= 0 else finite, headroom=0.12))
    frame.axes_text = frame.axes(x_labels=x_labels)
    body = [_polyline(frame, Series("", points, WINDOW_COLOUR))]
    for limit in limits:
        y = frame.y(limit)
        body.append(f'<path d="M{frame.left},{y:.1f}H{frame.right}" stroke="{THRESHOLD_COLOUR}" stroke-dasharray="5 3"/>'
                    f'<text x="{frame.right}" y="{y - 3:.1f}" text-anchor="end" fill="{THRESHOLD_COLOUR}">'
                    f"{escape(number_text(limit))}</text>")
    for i, (value, violated) in enumerate(values):
        if value is not None and math.isfinite(value):
            colour = THRESHOLD_COLOUR if violated else WINDOW_COLOUR
            body.append(f'<circle cx="{frame.x(i):.1f}" cy="{frame.y(value):.1f}" r="{4 if violated else 2.5}" '
                        f'fill="{colour}"><title>{escape(number_text(value))}</title></circle>')
    return _svg(frame, title, "".join(body))
