"""The drift-method registry: each method against scipy or its written-out formula on raw data, and the
sample-size-aware decision (effect and evidence, Benjamini-Hochberg) on simulated windows."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from model_monitor_analyzer.checks import drift
from model_monitor_analyzer.cli import main
from model_monitor_analyzer.constraint_rules import (
    AUTO,
    AUTO_METHODS,
    DRIFT_METHOD_CHOICES,
    DRIFT_METHODS,
    SAGEMAKER,
    MonitoringConfig,
    apply_config,
    drift_rule,
)
from model_monitor_analyzer.profile.kll import KllSketch
from tests.conftest import REPO_ROOT

RNG_SEED = 11


def _sketch(values: np.ndarray) -> KllSketch:
    sketch = KllSketch()
    sketch.update(np.asarray(values, dtype=np.float64))
    return sketch


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(RNG_SEED)
    # at most 2,050 values: the sketches hold every value, so the methods are exact
    return rng.normal(3.0, 2.0, 2000), rng.normal(3.4, 2.6, 700)


def _bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return counts / counts.sum()


def test_every_registry_method_has_a_kind_and_a_positive_default_threshold():
    assert set(DRIFT_METHOD_CHOICES) == {"auto", "sagemaker", *DRIFT_METHODS}
    for spec in DRIFT_METHODS.values():
        assert spec.kinds and spec.default_threshold > 0
    assert {"numeric", "categorical"} == set(AUTO_METHODS)


def test_wasserstein_equals_scipy_divided_by_the_baseline_standard_deviation(samples):
    baseline, current = samples
    measured = drift.measure_numeric("wasserstein", _sketch(baseline), _sketch(current), float(np.std(baseline)))
    assert measured.distance == pytest.approx(stats.wasserstein_distance(baseline, current) / np.std(baseline), abs=1e-9)


def test_ks_statistic_and_p_value_equal_scipy_asymptotic(samples):
    baseline, current = samples
    measured = drift.measure_numeric("ks", _sketch(baseline), _sketch(current))
    reference = stats.ks_2samp(baseline, current, method="asymp")
    assert measured.distance == pytest.approx(reference.statistic, abs=1e-12)
    assert measured.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_reference_bins_are_the_baseline_deciles(samples):
    baseline, _ = samples
    edges = drift.reference_edges(_sketch(baseline))
    assert len(edges) == 9
    shares = _bin_shares(baseline, edges)
    assert shares == pytest.approx(np.full(10, 0.1), abs=1 / len(baseline))


@pytest.mark.parametrize("method", ["psi", "jensen_shannon", "hellinger", "chi_squared", "g_test"])
def test_binned_methods_equal_their_formulas_and_scipy_tests_on_the_same_bins(samples, method):
    baseline, current = samples
    edges = drift.reference_edges(_sketch(baseline))
    p, q = _bin_shares(baseline, edges), _bin_shares(current, edges)
    measured = drift.measure_numeric(method, _sketch(baseline), _sketch(current))
    table = np.vstack((p * len(baseline), q * len(current)))
    expected_effect = {
        "psi": float(np.sum((np.maximum(q, 1e-4) - np.maximum(p, 1e-4)) * np.log(np.maximum(q, 1e-4) / np.maximum(p, 1e-4)))),
        "jensen_shannon": float(jensenshannon(p, q, base=2)),
        "hellinger": float(np.sqrt(1 - np.sum(np.sqrt(p * q)))),
        "chi_squared": float(np.max(np.abs(q - p))),
        "g_test": float(np.max(np.abs(q - p))),
    }[method]
    assert measured.distance == pytest.approx(expected_effect, abs=1e-9)
    lambda_ = "log-likelihood" if method == "g_test" else None
    reference = stats.chi2_contingency(table, correction=False, lambda_=lambda_)
    assert measured.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_categorical_chi_squared_equals_scipy_on_the_category_table():
    baseline = {"a": 500, "b": 300, "c": 200}
    current = {"a": 3000, "b": 1250, "c": 500, "new": 250}
    measured = drift.measure_categorical("chi_squared", baseline, current)
    # the new value lands in the "other" group, empty in the baseline
    table = np.array([[500, 300, 200, 0], [3000, 1250, 500, 250]])
    assert measured.p_value == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-9)
    assert measured.distance == pytest.approx(max(abs(0.6 - 0.5), abs(0.25 - 0.3), abs(0.1 - 0.2), 0.05))


def test_a_small_baselines_own_noise_is_no_evidence_in_sparse_tables():
    # both sides of 150 values from the same shares: the simulated p-value draws both samples
    rng = np.random.default_rng(RNG_SEED)
    shares = [0.4, 0.3, 0.15, 0.1, 0.05]
    p_values = []
    for _ in range(200):
        base = dict(zip("abcde", rng.multinomial(150, shares).astype(float)))
        window = dict(zip("abcde", rng.multinomial(30, shares).astype(float)))
        p_values.append(drift.measure_categorical("chi_squared", base, window).p_value)
    assert np.mean(np.array(p_values) < 0.01) <= 0.03


def test_two_proportion_z_is_the_smallest_pooled_z_test_times_the_groups():
    baseline = {"a": 500, "b": 500}
    current = {"a": 70, "b": 30}
    measured = drift.measure_categorical("two_proportion_z", baseline, current)
    pooled = (500 + 70) / 1100
    z = abs(0.5 - 0.7) / math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 100))
    assert measured.p_value == pytest.approx(min(1.0, 2 * stats.norm.sf(z) * 2), rel=1e-9)


def test_rare_categories_are_pooled_so_that_every_group_expects_five_values():
    baseline = {f"v{i}": 100 for i in range(50)}  # 2 % each
    groups = drift.categorical_groups(baseline, {"v0": 10, "v1": 10, "v2": 10}, current_total=30)
    assert len(groups.baseline) == 1  # 30 values: 5 expected needs a 16.7 % share; all pooled
    assert drift.measure_categorical("chi_squared", baseline, {"v0": 30}).p_value is not None


def test_benjamini_hochberg_keeps_what_scipy_adjusts_below_the_level():
    rng = np.random.default_rng(RNG_SEED)
    p_values = np.concatenate((rng.uniform(size=30), [1e-6, 2e-4, 0.003, 0.02]))
    found = drift.benjamini_hochberg({str(i): p for i, p in enumerate(p_values)}, 0.05)
    adjusted = stats.false_discovery_control(p_values, method="bh")
    assert found == {str(i) for i in np.flatnonzero(adjusted <= 0.05)}


def test_a_large_sketch_never_counts_its_own_rank_error_as_drift():
    rng = np.random.default_rng(RNG_SEED)
    values = rng.normal(size=400_000)
    baseline, current = _sketch(values[:200_000]), _sketch(values[200_000:])
    for method in ("wasserstein", "chi_squared", "ks"):
        assert drift.measure_numeric(method, baseline, current, 1.0).p_value > 0.01, method


def test_the_rank_error_estimate_covers_the_measured_error():
    rng = np.random.default_rng(RNG_SEED)
    for size in (20_000, 300_000):
        values = rng.lognormal(size=size)
        sketch = _sketch(values)
        points = np.quantile(values, np.linspace(0.05, 0.95, 19))
        items, cumulative = sketch._weighted_items()
        estimated = drift._cdf_at(items, cumulative, points)
        exact = np.searchsorted(np.sort(values), points, side="right") / size
        assert np.sqrt(np.mean((estimated - exact) ** 2)) <= sketch.rank_error()


def test_a_method_that_does_not_fit_the_column_kind_leaves_it_to_auto():
    config = apply_config(MonitoringConfig(), {"distribution_constraints": {"drift_method": "wasserstein"}})
    assert drift_rule(config, "String").method == AUTO_METHODS["categorical"]
    assert drift_rule(config, "Fractional").method == "wasserstein"


def test_an_unknown_override_key_is_refused_naming_it():
    with pytest.raises(ValueError, match="unknown key 'comparison_treshold'"):
        apply_config(MonitoringConfig(), {"distribution_constraints": {"comparison_treshold": 0.2}}, strict=True)
    with pytest.raises(ValueError, match="drift_method must be one of"):
        apply_config(MonitoringConfig(), {"distribution_constraints": {"drift_method": "energy"}})


# -- verdicts on simulated windows through the command line -------------------------------------------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("verdicts")
    rng = np.random.default_rng(RNG_SEED)

    def draw(rows: int, *, shift: float = 0.0, scale: float = 1.0, share: float = 0.0) -> pd.DataFrame:
        frame = {f"x{i}": rng.normal(0, 1, rows) for i in range(6)}
        frame["x0"] = frame["x0"] + shift
        frame["x1"] = frame["x1"] * scale
        p = np.array([0.5 + share, 0.3 - share / 2, 0.2 - share / 2])
        frame["plan"] = rng.choice(["basic", "plus", "premium"], rows, p=p)
        return pd.DataFrame(frame)

    draw(10_000).to_csv(root / "baseline.csv", index=False)
    assert main(["baseline", "--dataset", str(root / "baseline.csv"), "--output", str(root / "baseline"), "--quiet"]) == 0

    def flagged(frame: pd.DataFrame, method: str | None = None) -> set[str]:
        frame.to_csv(root / "window.csv", index=False)
        argv = ["monitor", "--capture", str(root / "window.csv"), "--capture-format", "csv", "--quiet", "--overwrite",
                "--statistics", str(root / "baseline" / "statistics.json"), "--no-metrics",
                "--constraints", str(root / "baseline" / "constraints.json"), "--output", str(root / "out")]
        assert main(argv + (["--drift-method", method] if method else [])) == 0
        violations = json.loads((root / "out" / "constraint_violations.json").read_text())["violations"]
        return {v["feature_name"] for v in violations
                if v["constraint_check_type"] in ("baseline_drift_check", "dataset_drift_check")}

    return draw, flagged


def test_unchanged_windows_raise_no_drift_at_small_and_large_sizes(simulated):
    draw, flagged = simulated
    alarms = sum(bool(flagged(draw(size))) for size in (50, 1_000) for _ in range(20))
    assert alarms <= 1


def test_a_scale_change_the_built_in_rule_misses_is_flagged_at_200_rows(simulated):
    draw, flagged = simulated
    ours = [flagged(draw(200, scale=1.5)) for _ in range(5)]
    theirs = [flagged(draw(200, scale=1.5), "sagemaker") for _ in range(5)]
    assert sum("x1" in found for found in ours) >= 4
    assert sum("x1" in found for found in theirs) == 0


def test_a_quarter_standard_deviation_shift_and_a_ten_point_share_move_are_flagged_at_2000_rows(simulated):
    draw, flagged = simulated
    assert "x0" in flagged(draw(2_000, shift=0.25))
    assert "plan" in flagged(draw(2_000, share=0.10))


def test_a_significant_but_small_shift_stays_below_the_effect_threshold(simulated):
    draw, flagged = simulated
    # 0.05 sd at 20,000 rows is certain evidence, but a Wasserstein effect of 0.05 < 0.1
    assert "x0" not in flagged(draw(20_000, shift=0.05))


def test_the_dataset_drift_check_fires_when_half_the_features_drift(simulated):
    draw, flagged = simulated
    frame = draw(2_000)
    for column in ("x0", "x1", "x2", "x3"):
        frame[column] = frame[column] + 1.0
    found = flagged(frame)
    assert {"x0", "x1", "x2", "x3", "*"} <= found
    assert "*" not in flagged(draw(2_000, shift=1.0))  # one feature of seven


def test_a_simulated_p_value_at_its_floor_is_said_as_a_bound(tmp_path):
    """A new category in a fifth of a window: its "other" group expects under 20 values, so the chi-square p-value is
    simulated, and no draw reaches the window's statistic; the violation says the p-value is below what the draws can
    show, not that it equals it."""
    rng = np.random.default_rng(RNG_SEED)
    pd.DataFrame({"x": rng.normal(0, 1, 5_000), "color": rng.choice(["red", "green", "blue"], 5_000)}).to_csv(
        tmp_path / "baseline.csv", index=False)
    assert main(["baseline", "--dataset", str(tmp_path / "baseline.csv"), "--output", str(tmp_path / "b"),
                 "--quiet"]) == 0
    colors = rng.choice(["red", "green", "blue"], 300)
    colors[:60] = "purple"
    pd.DataFrame({"x": rng.normal(0, 1, 300), "color": colors}).to_csv(tmp_path / "window.csv", index=False)
    assert main(["monitor", "--capture", str(tmp_path / "window.csv"), "--capture-format", "csv", "--quiet",
                 "--statistics", str(tmp_path / "b" / "statistics.json"), "--no-metrics",
                 "--constraints", str(tmp_path / "b" / "constraints.json"), "--output", str(tmp_path / "out")]) == 0
    violations = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())["violations"]
    (drifted,) = [v["description"] for v in violations
                  if v["feature_name"] == "color" and v["constraint_check_type"] == "baseline_drift_check"]
    floor = 1 / (1 + drift.SIMULATIONS)
    assert f"p-value under {floor:.4g} (none of {drift.SIMULATIONS:,} simulated draws reached it)" in drifted


def test_the_readme_table_names_every_registry_method_with_its_default_threshold():
    # the table is written by hand: a method added to the registry without its row fails here, not silently
    text = (REPO_ROOT / "README.md").read_text()
    table = text[text.index("| Method | Kinds | Effect (default threshold) | Evidence |"):]
    rows = table[: table.index("\n\n")].splitlines()[2:]
    for name, spec in DRIFT_METHODS.items():
        (row,) = [row for row in rows if f"`{name}`" in row.split("|")[1]]
        assert f"({spec.default_threshold:g})" in row, (name, row)
    for name in (AUTO, SAGEMAKER):
        assert any(f"`{name}`" in row.split("|")[1] for row in rows), name

