"""The SVG helpers' arithmetic: densities from buckets of unequal width, downsampled curves, number text,
axes fitted to the values, legends placed off the lines."""

from __future__ import annotations

import math
import re

import pytest

from model_monitor_analyzer.report.html.svg import (
    HEIGHT,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_TOP,
    Series,
    downsample,
    lines_chart,
    number_text,
    step_outline,
    time_series,
)


def test_buckets_of_unequal_width_become_densities_that_integrate_to_their_shares():
    outline = step_outline([(0.0, 1.0, 0.5), (1.0, 3.0, 0.5)])
    assert outline == [(0.0, 0.0), (0.0, 0.5), (1.0, 0.5), (1.0, 0.25), (3.0, 0.25), (3.0, 0.0)]


def test_a_bucket_of_zero_width_is_drawn_flat_instead_of_dividing_by_zero():
    assert step_outline([(2.0, 2.0, 1.0)]) == [(2.0, 0.0), (2.0, 0.0), (2.0, 0.0), (2.0, 0.0)]


def test_downsampled_curve_keeps_both_ends_and_the_limit():
    points = [(i / 999, (i / 999) ** 2) for i in range(1000)]
    kept = downsample(points, 50)
    assert len(kept) == 50 and kept[0] == points[0] and kept[-1] == points[-1]
    assert downsample(points[:10], 50) == points[:10]


def test_numbers_are_shown_with_four_significant_digits_and_clarify_infinities_as_symbols():
    assert number_text(0.4985348047930131) == "0.4985"
    assert number_text(120.0) == "120"
    assert number_text("Infinity") == "∞"
    assert number_text(math.nan) == "-"


def _dots(chart: str) -> list[float]:
    return [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', chart)]


def _plot_height() -> int:
    return HEIGHT - MARGIN_TOP - MARGIN_BOTTOM


def test_a_metric_over_time_from_094_to_0954_spans_most_of_the_chart_height():
    chart = time_series("accuracy over time", [(0.94, False), (0.954, False)], x_labels=[])
    first, second = _dots(chart)
    assert first - second > 0.75 * _plot_height()  # the higher value is drawn higher (smaller y)
    axis = re.findall(r'<text x="\d+" y="[\d.]+" text-anchor="end">([^<]+)</text>', chart)
    assert [float(text) for text in axis] == pytest.approx([0.94, 0.954], abs=0.002)


def test_a_metric_axis_keeps_a_margin_so_no_value_sits_on_the_frame():
    chart = time_series("accuracy over time", [(0.94, False), (0.954, False), (0.947, False)], x_labels=[])
    for y in _dots(chart):
        assert MARGIN_TOP + 5 < y < HEIGHT - MARGIN_BOTTOM - 5


def test_a_metric_axis_stretches_to_hold_the_threshold_line():
    chart = time_series("accuracy over time", [(0.94, False), (0.954, False)], x_labels=[], threshold=0.9)
    (line,) = re.findall(rf'<path d="M{MARGIN_LEFT},([\d.]+)H', chart)
    first, second = _dots(chart)
    assert MARGIN_TOP < second < first < float(line) < HEIGHT - MARGIN_BOTTOM
    assert first - second > 0.2 * _plot_height()


def test_a_legend_with_no_free_corner_goes_below_the_chart_which_grows_to_hold_it():
    corners = [(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]  # a Z and a side: every corner crossed
    chart = lines_chart("crossed", [Series("window", corners, "#f58518"), Series("baseline", [(0, 1), (1, 1)], "#4c78a8")],
                        x_span=(0.0, 1.0), y_span=(0.0, 1.0))
    height = float(re.search(r'viewBox="0 0 \d+ ([\d.]+)"', chart).group(1))
    legend_ys = [float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)">(?:window|baseline)</text>', chart)]
    assert height > HEIGHT
    assert legend_ys and all(HEIGHT <= y <= height for y in legend_ys)
