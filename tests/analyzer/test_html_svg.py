"""The SVG helpers' arithmetic: densities from buckets of unequal width, downsampled curves, number text."""

from __future__ import annotations

import math

from model_monitor_analyzer.report.html.svg import downsample, number_text, step_outline


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
