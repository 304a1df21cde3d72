"""A drift tolerance keeps sampling noise around an unbiased baseline from raising violations."""

from __future__ import annotations

import pytest

from model_monitor_analyzer.checks.bias import is_drift


@pytest.mark.parametrize("current, baseline, tolerance, expected", [
    (0.05, 0.01, 0.0, True),     # Clarify's rule: any move away from neutral beyond the baseline
    (0.05, 0.01, 0.1, False),    # within the tolerance
    (-0.3, 0.01, 0.1, True),     # far beyond it, on the other side of neutral
    (0.2, -0.2, 0.0, False),     # as far from neutral as the baseline: no drift
])
def test_drift_is_distance_from_neutral_beyond_the_baseline_plus_tolerance(current, baseline, tolerance, expected):
    assert is_drift(current, baseline, 0.0, tolerance) is expected


def test_nan_never_drifts_whatever_the_tolerance():
    assert not is_drift(float("nan"), 0.0, 0.0, 0.1)
