"""Drift distances against Deequ's formulas, scipy's KS statistic and scipy's chi-square."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from model_monitor_analyzer.checks.drift import (
    c_alpha,
    categorical_distance,
    chi_square_distance,
    chi_square_survival,
    normal_sf,
    numeric_distance,
    numeric_linf,
    rise_p_value,
    robust_distance,
)
from model_monitor_analyzer.profile.kll import KllSketch


def _sketch(values):
    sketch = KllSketch()
    sketch.update(np.asarray(values, dtype=float))
    return sketch


def test_robust_distance_subtracts_deequs_critical_value():
    # contract §5.3: n = m = 1000, linf_simple 0.2 -> 0.2 - 1.8 * sqrt(2000 / 1e6)
    assert robust_distance(0.2, 1000, 1000) == pytest.approx(0.2 - 1.8 * math.sqrt(2000 / 1e6))
    assert robust_distance(0.01, 1000, 1000) == 0.0


def test_explicit_alpha_uses_the_kolmogorov_smirnov_critical_value():
    assert c_alpha(0.05) == pytest.approx(math.sqrt(-math.log(0.025) / 2))


def test_exact_sketches_give_the_two_sample_ks_statistic():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=1500), rng.normal(0.3, 1.2, size=1800)
    linf, n, m = numeric_linf(_sketch(a), _sketch(b))
    assert (n, m) == (1500, 1800)
    assert linf == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


def test_compacted_sketches_stay_within_the_sketch_error_of_ks():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=200_000), rng.normal(0.05, 1.0, size=150_000)
    distance = numeric_distance(_sketch(a), _sketch(b), robust=False)
    assert distance == pytest.approx(stats.ks_2samp(a, b).statistic, abs=0.01)


def test_categorical_linf_is_the_largest_frequency_difference():
    baseline = {"a": 50, "b": 30, "c": 20}
    current = {"a": 10, "b": 30, "d": 10}
    expected = max(abs(50 / 100 - 10 / 50), abs(30 / 100 - 30 / 50), abs(20 / 100), abs(10 / 50))
    assert categorical_distance(baseline, current, robust=False) == pytest.approx(expected)
    assert categorical_distance(baseline, current, robust=True) == pytest.approx(
        max(0.0, expected - 1.8 * math.sqrt(150 / 5000))
    )


def test_chi_square_matches_scipy_when_no_regrouping_is_needed():
    baseline = {"a": 400, "b": 300, "c": 300}
    current = {"a": 50, "b": 20, "c": 30}
    observed = np.array([50, 20, 30])
    expected = np.array([400, 300, 300]) / 1000 * 100
    scipy_result = stats.chisquare(observed, expected)
    assert chi_square_distance(baseline, current, robust=False) == pytest.approx(scipy_result.statistic)
    assert chi_square_distance(baseline, current, robust=True) == pytest.approx(scipy_result.pvalue)


def test_chi_square_is_nan_with_fewer_than_two_categories():
    assert math.isnan(chi_square_distance({"a": 10}, {"a": 7}, robust=True))


def test_small_categories_are_merged_before_the_test():
    baseline = {"a": 500, "b": 480, "c": 15, "d": 5}
    current = {"a": 40, "b": 50, "c": 5, "d": 5}
    # expected counts 50, 48, 1.5, 0.5: two of four below 5 (> 20 %) -> d joins c, then c+d (2.0)
    # joins b (still below 5 with 3 categories, 0 allowed) -> [a, b+c+d].
    observed = np.array([40, 60])
    expected = np.array([50, 50])
    assert chi_square_distance(baseline, current, robust=False) == pytest.approx(stats.chisquare(observed, expected).statistic)


@pytest.mark.parametrize(("statistic", "df"), [(0.5, 1), (3.84, 1), (10.0, 4), (40.0, 7), (120.0, 30), (300.0, 9),
                                               (2619.6, 2000), (1e4, 49), (1200.0, 1)])
def test_chi_square_survival_matches_scipy(statistic, df):
    # the far tail too, where the false-discovery control decides (relative, not only absolute, agreement)
    expected = stats.chi2.sf(statistic, df)
    assert chi_square_survival(statistic, df) == pytest.approx(expected, rel=1e-9, abs=1e-15 if expected > 1e-6 else 0)


@pytest.mark.parametrize("z", [-40.0, -8.5, -3.0, -1.0, -0.3, 0.0, 1e-9, 0.5, 1.0, 2.5, 5.0, 8.0, 12.0, 37.5, 39.0])
def test_normal_survival_matches_scipy(z):
    assert normal_sf(z) == pytest.approx(float(special.ndtr(-z)), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("seed", range(12))
def test_rise_p_value_is_scipys_one_sided_fisher_exact_test(seed):
    rng = np.random.default_rng(seed)
    base_size, size = (int(n) for n in rng.choice([10, 200, 5_000, 300_000], 2))
    base_count = int(rng.integers(0, base_size + 1))
    count = int(rng.integers(0, size + 1)) if seed % 3 else min(size, int(size * base_count / base_size) + 3)
    expected = stats.fisher_exact([[count, size - count], [base_count, base_size - base_count]],
                                  alternative="greater").pvalue
    assert rise_p_value(base_count, base_size, count, size) == pytest.approx(expected, rel=1e-9, abs=1e-300)
