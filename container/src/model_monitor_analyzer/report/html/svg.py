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
FIT_MARGIN = 0.08  # of the data's range, above and below, on axes fitted to the data
# legend geometry in chart units: a key line, its gap, the text (about 6 units a character at the
# charts' 10px font, measured in Chromium), the space between items
LEGEND_KEY = 14
LEGEND_GAP = 4
LEGEND_CHAR = 6.2
LEGEND_SPACE = 10
LEGEND_HEIGHT = 13
LEGEND_INSET = 4


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


def fitted_span(values: Sequence[float]) -> tuple[float, float]:
    """An axis that fits ``values``: their range and a margin of ``FIT_MARGIN`` of it on each side, so
    that 0.94 and 0.954 lie far apart and no point sits on the frame. A margin that would cross zero
    stops at zero: values that cannot be negative get no negative axis."""
    finite = _finite(values)
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    pad = (high - low) * FIT_MARGIN if high > low else abs(low) * 0.05 or 0.5
    return (max(low - pad, 0.0) if low >= 0 else low - pad), high + pad


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


Box = tuple[float, float, float, float]  # left, top, right, bottom in chart units


def _segment_meets_box(start: tuple[float, float], end: tuple[float, float], box: Box) -> bool:
    """Whether the segment from ``start`` to ``end`` enters ``box`` (Liang-Barsky clipping)."""
    left, top, right, bottom = box
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - left), (dx, right - x0), (-dy, y0 - top), (dy, bottom - y0)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def _covers(box: Box, lines: Sequence[Sequence[tuple[float, float]]], shapes: Sequence[Box]) -> bool:
    """Whether ``box`` (grown by a stroke's width) touches a drawn line or filled shape."""
    left, top, right, bottom = box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2
    grown = (left, top, right, bottom)
    if any(s[0] < right and left < s[2] and s[1] < bottom and top < s[3] for s in shapes):
        return True
    return any(_segment_meets_box(a, b, grown) for line in lines for a, b in zip(line, line[1:] or line))


def _legend(frame: _Frame, legend: Sequence[tuple[str, str, bool]], lines: Sequence[Sequence[tuple[float, float]]],
            shapes: Sequence[Box]) -> str:
    """The legend in the first corner of the plot where it covers nothing drawn (bottom right first:
    a ROC curve runs along the top and the left, a density along the bottom only at its ends), else
    below the chart, which then grows to hold it."""
    widths = [LEGEND_KEY + LEGEND_GAP + LEGEND_CHAR * len(label) for label, _, _ in legend]
    width = sum(widths) + LEGEND_SPACE * (len(widths) - 1)
    inner_left, inner_right = frame.left + LEGEND_INSET, frame.right - LEGEND_INSET
    inner_top, inner_bottom = frame.top + LEGEND_INSET, frame.bottom - LEGEND_INSET
    corners = [(inner_right - width, inner_bottom - LEGEND_HEIGHT), (inner_right - width, inner_top),
               (inner_left, inner_top), (inner_left, inner_bottom - LEGEND_HEIGHT)]
    place = next(((x, y) for x, y in corners
                  if x >= inner_left and not _covers((x, y, x + width, y + LEGEND_HEIGHT), lines, shapes)), None)
    if place is None:
        place = (max(frame.right - width, 0.0), float(frame.height))
        frame.height += LEGEND_HEIGHT + LEGEND_INSET
    x, y = place
    keys = []
    for (label, colour, dashed), item_width in zip(legend, widths):
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        middle = y + LEGEND_HEIGHT / 2
        keys.append(f'<path d="M{x:.1f},{middle:.1f}h{LEGEND_KEY}" stroke="{colour}" stroke-width="2"{dash}/>'
                    f'<text x="{x + LEGEND_KEY + LEGEND_GAP:.1f}" y="{middle + 3.5:.1f}">{escape(label)}</text>')
        x += item_width + LEGEND_SPACE
    return f'<g class="legend-keys">{"".join(keys)}</g>'


def _svg(frame: _Frame, title: str, body: str, legend: Sequence[tuple[str, str, bool]] = (), *,
         lines: Sequence[Sequence[tuple[float, float]]] = (), shapes: Sequence[Box] = ()) -> str:
    """The chart's element; ``lines`` and ``shapes`` (in chart units) are what the legend must not cover."""
    keys = _legend(frame, legend, lines, shapes) if legend else ""
    return (f'<svg class="chart" viewBox="0 0 {frame.width} {frame.height}" role="img">'
            f"<title>{escape(title)}</title>{body}{frame.axes_text}{keys}</svg>")


def _drawn(frame: _Frame, series: Series) -> list[tuple[float, float]]:
    return [(frame.x(x), frame.y(y)) for x, y in series.points if math.isfinite(x) and math.isfinite(y)]


def _polyline(frame: _Frame, series: Series) -> str:
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in _drawn(frame, series))
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
    return _svg(frame, title, body, legend, lines=[_drawn(frame, s) for s in series])


def grouped_bars(title: str, labels: Sequence[str], groups: Sequence[tuple[str, str, Sequence[float]]]) -> str:
    """Bars of shares per category, one bar per group (baseline, window) side by side."""
    values = [v for _, _, vs in groups for v in vs]
    frame = _Frame((0.0, float(max(len(labels), 1))), (0.0, max([*values, 0.01])))
    ticks = [(i + 0.5, label if len(label) <= 10 else label[:9] + "…") for i, label in enumerate(labels)]
    frame.axes_text = frame.axes(x_labels=ticks if len(labels) <= 8 else ticks[:: math.ceil(len(labels) / 8)])
    slot = (frame.right - frame.left) / max(len(labels), 1)
    bar = slot * 0.8 / max(len(groups), 1)
    body, bars = [], []
    for g, (_, colour, shares) in enumerate(groups):
        for i, share in enumerate(shares):
            x = frame.left + i * slot + slot * 0.1 + g * bar
            y = frame.y(share)
            bars.append((x, y, x + bar, frame.bottom))
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{frame.bottom - y:.1f}" '
                        f'fill="{colour}"><title>{escape(labels[i])}: {share:.1%}</title></rect>')
    return _svg(frame, title, "".join(body), [(name, colour, False) for name, colour, _ in groups], shapes=bars)


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
    # fitted to the values and the thresholds, not to zero: a change from 0.94 to 0.954 stays visible
    frame = _Frame((-0.5, max(len(values) - 0.5, 0.5)), fitted_span([v for _, v in points] + limits))
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
