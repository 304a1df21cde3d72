"""non_finite_values_check: a numeric feature whose share of infinities rose significantly above the baseline's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model_monitor_analyzer.cli import main


def _baseline(tmp_path: Path, values: list[str], *extra: str) -> Path:
    (tmp_path / "train.csv").write_text("a,f\n" + "".join(f"{i % 7},{v}\n" for i, v in enumerate(values)))
    out = tmp_path / "base"
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(out), "--quiet", *extra]) == 0
    return out


def _window(tmp_path: Path, values: list[str], base: Path) -> list[dict]:
    capture = tmp_path / "cap"
    capture.mkdir(exist_ok=True)
    (capture / "a.jsonl").write_text("".join(
        json.dumps({"captureData": {"endpointInput": {"data": f"{i % 7},{v}", "encoding": "CSV"}},
                    "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) + "\n" for i, v in enumerate(values)))
    out = tmp_path / "out"
    main(["monitor", "--capture", str(capture), "--statistics", str(base / "statistics.json"),
          "--constraints", str(base / "constraints.json"), "--output", str(out), "--quiet", "--overwrite",
          "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"])
    return json.loads((out / "constraint_violations.json").read_text())["violations"]


def _numbers(count: int, seed: int = 0) -> list[str]:
    return [repr(float(v)) for v in np.random.default_rng(seed).normal(50.0, 10.0, count)]


def _non_finite(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["constraint_check_type"] == "non_finite_values_check"]


def test_a_window_of_mostly_infinities_is_a_violation_naming_the_shares(tmp_path: Path):
    base = _baseline(tmp_path, _numbers(500))
    window = _numbers(500, seed=1)
    for i in range(400):
        window[i] = "inf" if i % 2 else "-inf"
    [violation] = _non_finite(_window(tmp_path, window, base))
    assert violation["feature_name"] == "f"
    assert violation["description"].startswith(
        "Non-finite value requirement is not met. Expected at most 0.0% of values that are not finite numbers, as "
        "in the baseline. Observed: 80.0% of data is inf, -inf or beyond float64 (400 of 500 present values); p-value ")


def test_as_many_infinities_as_the_baseline_had_are_no_violation(tmp_path: Path):
    values = _numbers(1000)
    for i in range(0, 1000, 10):
        values[i] = "inf"
    base = _baseline(tmp_path, values)
    window = _numbers(1000, seed=2)
    for i in range(5, 1000, 10):
        window[i] = "1e400"
    assert _non_finite(_window(tmp_path, window, base)) == []


@pytest.mark.parametrize(("size", "flagged"), [(10, False), (2000, True)])
def test_the_same_rise_is_flagged_only_when_the_window_is_large_enough(tmp_path: Path, size, flagged):
    values = _numbers(2000)
    for i in range(0, 2000, 20):  # 5 % in the baseline
        values[i] = "inf"
    base = _baseline(tmp_path, values)
    window = _numbers(size, seed=3)
    for i in range(0, size, 5):  # 20 %: 2 of 10 values could be chance, 400 of 2,000 cannot
        window[i] = "-inf"
    assert bool(_non_finite(_window(tmp_path, window, base))) is flagged


def test_a_small_rise_is_no_violation_however_large_the_window(tmp_path: Path):
    base = _baseline(tmp_path, _numbers(5000))
    window = _numbers(5000, seed=4)
    for i in range(0, 5000, 50):  # 2 %, below the 3-point rise that counts
        window[i] = "inf"
    assert _non_finite(_window(tmp_path, window, base)) == []


def test_a_baseline_judged_by_the_built_ins_rule_keeps_the_built_ins_checks(tmp_path: Path):
    base = _baseline(tmp_path, _numbers(500), "--drift-method", "sagemaker")
    window = ["inf"] * 400 + _numbers(100, seed=5)
    assert _non_finite(_window(tmp_path, window, base)) == []


@pytest.mark.parametrize(("baseline_count", "baseline_size", "count", "size"),
                         [(0, 2000, 1, 10), (91, 2000, 3, 10), (100, 2000, 400, 2000), (5, 20, 3, 4), (3, 10, 0, 10),
                          (50_000, 1_000_000, 50_900, 1_000_000)])
def test_the_rise_test_is_fishers_one_sided_exact_test(baseline_count, baseline_size, count, size):
    from scipy import stats

    from model_monitor_analyzer.checks.drift import rise_p_value

    table = [[count, size - count], [baseline_count, baseline_size - baseline_count]]
    expected = stats.fisher_exact(table, alternative="greater").pvalue
    assert rise_p_value(baseline_count, baseline_size, count, size) == pytest.approx(expected, rel=1e-6)


def test_unchanged_windows_raise_the_violation_in_at_most_one_in_a_hundred():
    from model_monitor_analyzer.checks.data_quality import (
        FeatureConstraint,
        NonFiniteShares,
        non_finite_violation,
    )
    from model_monitor_analyzer.checks.drift import rise_p_value
    from model_monitor_analyzer.profile.datatypes import InferredType

    feature = FeatureConstraint(name="f", inferred_type=InferredType.FRACTIONAL)
    rng = np.random.default_rng(7)
    for baseline_size, share in [(2000, 0.05), (200, 0.1), (500, 0.02)]:
        for size in (10, 50, 1000):
            flagged = 0
            for _ in range(1000):
                base, count = rng.binomial(baseline_size, share), rng.binomial(size, share)
                if not count:
                    continue
                p_value = rise_p_value(base, baseline_size, count, size)
                shares = NonFiniteShares(base, baseline_size, count, size, p_value)
                flagged += non_finite_violation(feature, shares, significant=p_value <= 0.005, level=0.005,
                                                window_tests=1) is not None
            assert flagged <= 10, (baseline_size, share, size, flagged)
