"""Distribution distances of Deequ's ``Distance`` object, which SageMaker's drift check uses.

* numeric, L-infinity over KLL sketches: ``linf_simple = max_x |F_base(x) - F_cur(x)|`` over
  the union of both sketches' items, ``F(x)`` = inclusive weighted rank of ``x`` / total weight;
* categorical L-infinity: ``max_v |count_base(v)/n - count_cur(v)/m|`` over the union of values;
* Robust variant (Deequ ``correctForLowNumberOfSamples = false``):
  ``max(0, linf_simple - c_alpha * sqrt((n + m) / (n * m)))`` with ``c_alpha = 1.8``
  (alpha ~ 0.003), or ``sqrt(-ln(alpha / 2) / 2)`` for an explicit alpha;
* categorical chi-square: baseline counts rescaled to the current sample, small categories
  regrouped (2 categories: every expected count >= 10; more: at most 20 % below 5), then
  Pearson's goodness-of-fit; Robust returns the p-value, Simple the statistic; NaN when fewer
  than 2 categories remain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from model_monitor_analyzer.profile.kll import KllSketch

DEFAULT_C_ALPHA = 1.8
_YATES_ABS = 5
_YATES_SHARE = 0.2
_COCHRAN_ABS = 10


def c_alpha(alpha: float | None = None) -> float:
    """``1.8`` by default, else ``sqrt(-ln(alpha/2) / 2)`` (two-sample KS critical value)."""
    return DEFAULT_C_ALPHA if alpha is None else math.sqrt(-math.log(alpha / 2) / 2)


def robust_distance(linf_simple: float, n: float, m: float, *, alpha: float | None = None) -> float:
    """``max(0, linf_simple - c_alpha * sqrt((n+m)/(n*m)))``."""
    return max(0.0, linf_simple - c_alpha(alpha) * math.sqrt((n + m) / (n * m)))


def _cdf_at(items: np.ndarray, cumulative: np.ndarray, points: np.ndarray) -> np.ndarray:
    index = np.searchsorted(items, points, side="right")
    return np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0) / cumulative[-1]


def numeric_linf(baseline: KllSketch, current: KllSketch) -> tuple[float, float, float]:
    """``(linf_simple, n, m)`` between two sketches (n, m = their total weights)."""
    items_a, cum_a = baseline._weighted_items()
    items_b, cum_b = current._weighted_items()
    if len(items_a) == 0 or len(items_b) == 0:
        return math.nan, float(baseline.total_weight), float(current.total_weight)
    keys = np.union1d(items_a, items_b)
    diff = np.abs(_cdf_at(items_a, cum_a, keys) - _cdf_at(items_b, cum_b, keys))
    return float(diff.max()), float(cum_a[-1]), float(cum_b[-1])


def numeric_distance(baseline: KllSketch, current: KllSketch, *, robust: bool, alpha: float | None = None) -> float:
    """Deequ ``numericalDistance``: L-infinity Simple, or Robust when ``robust``."""
    linf, n, m = numeric_linf(baseline, current)
    if math.isnan(linf):
        return linf
    return robust_distance(linf, n, m, alpha=alpha) if robust else linf


def categorical_linf(baseline: Mapping[str, float], current: Mapping[str, float]) -> tuple[float, float, float]:
    """``(linf_simple, n, m)`` over category frequencies."""
    n = float(sum(baseline.values()))
    m = float(sum(current.values()))
    if n == 0 or m == 0:
        return math.nan, n, m
    linf = max(abs(baseline.get(key, 0) / n - current.get(key, 0) / m) for key in set(baseline) | set(current))
    return linf, n, m


def categorical_distance(
    baseline: Mapping[str, float], current: Mapping[str, float], *, robust: bool, alpha: float | None = None
) -> float:
    """Deequ ``categoricalLInfinityDistance``: Simple, or Robust when ``robust``."""
    linf, n, m = categorical_linf(baseline, current)
    if math.isnan(linf):
        return linf
    return robust_distance(linf, n, m, alpha=alpha) if robust else linf


def _regroup(sample: dict[str, float], expected: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    while len(expected) >= 2:
        if len(expected) > 2:
            threshold, allowed = _YATES_ABS, int(_YATES_SHARE * len(expected))
        else:
            threshold, allowed = _COCHRAN_ABS, 0
        if sum(1 for v in expected.values() if v < threshold) <= allowed:
            break
        smallest = min(expected, key=expected.__getitem__)
        smallest_value = expected.pop(smallest)
        sample_smallest = sample.pop(smallest, 0.0)
        second = min(expected, key=expected.__getitem__)
        expected[second] = expected[second] + smallest_value
        sample[second] = sample_smallest + sample.get(second, 0.0)
    return sample, expected


def chi_square_survival(statistic: float, degrees_of_freedom: int) -> float:
    """``P(X >= statistic)`` for a chi-square variable: the regularized gamma ``Q(df/2, x/2)``."""
    if statistic <= 0:
        return 1.0
    a, x = degrees_of_freedom / 2.0, statistic / 2.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        denominator = a
        for _ in range(10_000):
            denominator += 1
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # Lentz's continued fraction for Q(a, x).
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(log_prefix) * h


def chi_square_distance(
    baseline: Mapping[str, float], current: Mapping[str, float], *, robust: bool
) -> float:
    """Deequ ``categoricalChiSquareTest``: p-value (Robust) or statistic (Simple); NaN if < 2 categories."""
    sample_sum = float(sum(v for k, v in current.items() if k in baseline))
    expected_sum = float(sum(baseline.values()))
    if expected_sum == 0:
        return math.nan
    expected = {k: v / expected_sum * sample_sum for k, v in baseline.items()}
    sample = {k: float(v) for k, v in current.items()}
    sample, expected = _regroup(sample, expected)
    if len(sample) < 2 or len(expected) < 2:
        return math.nan
    observed = np.array([sample.get(k, 0.0) for k in expected])
    wanted = np.array(list(expected.values()))
    # Spark's chiSqTest rescales the expected vector to the observed total.
    if wanted.sum() == 0 or observed.sum() == 0:
        return math.nan
    wanted = wanted * (observed.sum() / wanted.sum())
    if np.any(wanted == 0):
        return math.nan
    statistic = float(np.sum((observed - wanted) ** 2 / wanted))
    if not robust:
        return statistic
    return chi_square_survival(statistic, len(wanted) - 1)
