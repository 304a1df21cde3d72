"""The six data-quality checks, against the real examples' constraints and violations."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pytest

from model_monitor_analyzer.checks.config import (
    CategoricalDriftMethod,
    ComparisonMethod,
    MonitoringConfig,
    apply_config,
)
from model_monitor_analyzer.checks.data_quality import (
    BaselineFeature,
    CheckType,
    Constraints,
    FeatureConstraint,
    check_data_quality,
    java_double_text,
)
from model_monitor_analyzer.cli import main
from model_monitor_analyzer.profile.dataset import DatasetProfile
from model_monitor_analyzer.profile.datatypes import InferredType
from model_monitor_analyzer.report.constraints import parse_constraints


def _profile(**columns):
    profile = DatasetProfile()
    profile.update(
        pa.record_batch([pa.array(v, pa.string()) for v in columns.values()], names=list(columns)),
        detailed_columns=set(columns),
    )
    return profile


def _check(constraints, profile, baseline=None):
    return check_data_quality(constraints=constraints, baseline=baseline or {}, current=profile.columns, rows=profile.item_count)


def test_probability_in_an_integral_column_gives_the_built_ins_description(reference_examples, tmp_path):
    folder = reference_examples / "immersion-day-churn-data-quality"
    capture = tmp_path / "capture" / "ep" / "AllTraffic" / "2021" / "02" / "02" / "12"
    capture.mkdir(parents=True)
    shutil.copy(folder / "notebook-output" / "capture.jsonl", capture / "part.jsonl")
    assert main(["baseline", "--dataset", str(folder / "training-dataset-with-header.csv"), "--output", str(tmp_path / "base"), "--quiet"]) == 0
    code = main([
        "monitor", "--capture", str(tmp_path / "capture"), "--statistics", str(tmp_path / "base" / "statistics.json"),
        "--constraints", str(folder / "notebook-output" / "constraints.json"), "--output", str(tmp_path / "out"), "--quiet",
    ])
    assert code == 0
    ours = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())["violations"]
    real = json.loads((folder / "notebook-output" / "constraint_violations.json").read_text())["violations"]
    churn = next(v for v in real if v["feature_name"] == "Churn")
    (ours_churn,) = [v for v in ours if v["feature_name"] == "Churn"]
    # the built-in's wording first, so tools that parse it keep working; our values follow it
    assert ours_churn["constraint_check_type"] == churn["constraint_check_type"]
    assert ours_churn["description"].startswith(churn["description"])
    assert "version" not in json.loads((tmp_path / "out" / "constraint_violations.json").read_text())


def test_good_case_constraints_pass_and_bad_case_flags_the_edited_type(reference_examples, tmp_path):
    folder = reference_examples / "sdk-data-quality-check"
    capture = tmp_path / "capture"
    capture.mkdir()
    lines = []
    for row in (folder / "baseline_dataset.csv").read_text().splitlines():
        record = {"captureData": {"endpointInput": {"data": row, "encoding": "CSV", "mode": "INPUT", "observedContentType": "text/csv"}},
                  "eventMetadata": {"eventId": "x", "inferenceTime": "2024-01-01T00:00:00Z"}, "eventVersion": "0"}
        lines.append(json.dumps(record))
    (capture / "a.jsonl").write_text("\n".join(lines) + "\n")
    common = ["--capture", str(capture), "--statistics", str(folder / "statistics.json"), "--capture-index-names", "endpointInput", "--quiet"]
    assert main(["monitor", *common, "--constraints", str(folder / "good_cases" / "constraints.json"), "--output", str(tmp_path / "good")]) == 0
    assert json.loads((tmp_path / "good" / "constraint_violations.json").read_text()) == {"violations": []}
    assert main(["monitor", *common, "--constraints", str(folder / "bad_cases" / "constraints.json"), "--output", str(tmp_path / "bad")]) == 0
    bad = json.loads((tmp_path / "bad" / "constraint_violations.json").read_text())["violations"]
    edited = [f["name"] for f in json.loads((folder / "bad_cases" / "constraints.json").read_text())["features"] if f["inferred_type"] == "String"]
    assert [(v["feature_name"], v["constraint_check_type"]) for v in bad] == [(edited[0], "data_type_check")]
    assert "Observed: Only 0.0% of data is String. Current values: 100 Fractional." in bad[0]["description"]


def test_sdk_fixture_constraints_with_legacy_keys_and_nested_overrides_parse(reference_examples):
    constraints = parse_constraints(json.loads((reference_examples / "sdk-monitor-fixtures" / "constraints.json").read_text()))
    assert constraints.features[0].domains == ("preproc-not-YET-supported-for-csv-json",)
    assert constraints.features[0].overrides == {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled"}
    assert constraints.monitoring_config.comparison_threshold == 1.0


def test_camel_case_overrides_disable_a_feature():
    config = apply_config(MonitoringConfig(), {"evaluateConstraints": "Disabled", "distributionConstraints": {"comparisonMethod": "Simple"}})
    assert config.evaluate_constraints is False
    assert config.comparison_method is ComparisonMethod.SIMPLE
    constraints = Constraints(features=(FeatureConstraint(name="a", inferred_type=InferredType.INTEGRAL, completeness=1.0,
                                                          overrides={"evaluateConstraints": "Disabled"}),))
    assert _check(constraints, _profile(a=["x", None])).violations == ()


def test_completeness_below_the_baseline_is_a_violation():
    constraints = Constraints(features=(FeatureConstraint(name="a", inferred_type=InferredType.INTEGRAL, completeness=1.0),))
    (violation,) = _check(constraints, _profile(a=["1", None, "2", "3"])).violations
    assert violation.constraint_check_type is CheckType.COMPLETENESS
    assert "Only 75.0% of data is complete" in violation.description


def test_fractional_accepts_integral_values_but_integral_rejects_fractions():
    constraints = Constraints(features=(
        FeatureConstraint(name="f", inferred_type=InferredType.FRACTIONAL),
        FeatureConstraint(name="i", inferred_type=InferredType.INTEGRAL),
    ))
    violations = _check(constraints, _profile(f=["1", "2.5"], i=["1", "2.5"])).violations
    assert [(v.feature_name, v.constraint_check_type) for v in violations] == [("i", CheckType.DATA_TYPE)]
    assert "Only 50.0% of data is Integral" in violations[0].description


def test_unknown_values_outside_the_domain_fail_the_categorical_check():
    constraints = Constraints(features=(FeatureConstraint(name="s", inferred_type=InferredType.STRING, domains=("a", "b")),))
    (violation,) = _check(constraints, _profile(s=["a", "b", "c", "a"])).violations
    assert violation.constraint_check_type is CheckType.CATEGORICAL_VALUES
    assert "Only 75.0%" in violation.description


def test_missing_and_extra_columns_are_reported_per_column():
    constraints = Constraints(features=(FeatureConstraint(name="a", inferred_type=InferredType.STRING),
                                        FeatureConstraint(name="b", inferred_type=InferredType.STRING)))
    kinds = [(v.feature_name, v.constraint_check_type) for v in _check(constraints, _profile(a=["x"], _c2=["y"])).violations]
    assert ("b", CheckType.MISSING_COLUMN) in kinds and ("_c2", CheckType.EXTRA_COLUMN) in kinds


def test_categorical_drift_uses_the_categorical_threshold_and_method():
    baseline = {"s": BaselineFeature(name="s", inferred_type=InferredType.STRING, categories={"a": 500.0, "b": 500.0})}
    feature = FeatureConstraint(name="s", inferred_type=InferredType.STRING)
    current = _profile(s=["a"] * 90 + ["b"] * 10)
    linf = Constraints(features=(feature,), monitoring_config=MonitoringConfig(comparison_method=ComparisonMethod.SIMPLE,
                                                                             categorical_comparison_threshold=0.5))
    result = _check(linf, current, baseline)
    assert result.drift["s"] == pytest.approx(0.4)
    assert result.violations == ()
    chi = Constraints(features=(feature,), monitoring_config=MonitoringConfig(
        categorical_drift_method=CategoricalDriftMethod.CHI_SQUARED, categorical_comparison_threshold=0.05))
    (violation,) = _check(chi, current, baseline).violations
    assert violation.constraint_check_type is CheckType.BASELINE_DRIFT and "p-value" in violation.description


@pytest.mark.parametrize(("value", "text"), [(100.0, "100.0"), (99.64592817400101, "99.64592817400101"), (1e-4, "1.0E-4"), (12345678.9, "1.23456789E7")])
def test_numbers_in_descriptions_are_printed_like_java(value, text):
    assert java_double_text(value) == text


def _completeness_case(window_missing: int, window_rows: int, *, method: str = "auto",
                       baseline_missing: int = 3_000, baseline_rows: int = 100_000):
    """A feature whose baseline has ``baseline_missing`` of ``baseline_rows`` missing, its completeness constraint the
    baseline's own share (as the analyzer's baseline suggests it), judged on a window of the given counts."""
    completeness = (baseline_rows - baseline_missing) / baseline_rows
    constraints = Constraints(
        features=(FeatureConstraint(name="a", inferred_type=InferredType.INTEGRAL, completeness=completeness),),
        monitoring_config=MonitoringConfig(drift_method=method))
    baseline = {"a": BaselineFeature(name="a", inferred_type=InferredType.INTEGRAL, completeness=completeness,
                                     present=float(baseline_rows - baseline_missing), missing=float(baseline_missing))}
    values = ["1"] * (window_rows - window_missing) + [None] * window_missing
    return _check(constraints, _profile(a=values), baseline)


def test_completeness_a_hair_below_the_baseline_is_chance_when_judged_sample_size_aware():
    """3 % missing in the baseline, 3.2 % in a window of 1,000: below the suggested completeness, but the rise is
    chance (one-sided Fisher's exact test); the built-in's rule (``sagemaker``) still flags it."""
    assert _completeness_case(32, 1_000).violations == ()
    (literal,) = _completeness_case(32, 1_000, method="sagemaker").violations
    assert literal.constraint_check_type is CheckType.COMPLETENESS and "p-value" not in literal.description


def test_a_real_fall_of_completeness_is_flagged_with_its_p_value():
    from scipy.stats import fisher_exact

    (violation,) = _completeness_case(80, 1_000).violations
    assert violation.constraint_check_type is CheckType.COMPLETENESS
    assert "Baseline completeness: 97.0%, current: 920 of 1000 records have a value." in violation.description
    expected = fisher_exact([[80, 920], [3_000, 97_000]], alternative="greater").pvalue
    assert f"p-value {expected:.4g} of the rise" in violation.description


def test_unchanged_windows_with_missing_values_rarely_raise_completeness_violations():
    """Windows drawn from the baseline's own share of missing values: the literal rule flags about half of them,
    the sample-size-aware one about its significance level at most."""
    import numpy as np

    rng = np.random.default_rng(11)
    draws = rng.binomial(500, 0.03, 400)
    literal = sum(bool(_completeness_case(int(k), 500, method="sagemaker").violations) for k in draws)
    aware = sum(bool(_completeness_case(int(k), 500).violations) for k in draws)
    assert literal > 120  # the built-in's rule: a coin flip a window
    assert aware <= 8  # 2 % of 400, twice the 1 % level


def test_a_baseline_without_counts_keeps_the_literal_completeness_rule():
    constraints = Constraints(
        features=(FeatureConstraint(name="a", inferred_type=InferredType.INTEGRAL, completeness=0.97),),
        monitoring_config=MonitoringConfig(drift_method="auto"))
    baseline = {"a": BaselineFeature(name="a", inferred_type=InferredType.INTEGRAL)}
    (violation,) = _check(constraints, _profile(a=["1"] * 968 + [None] * 32), baseline).violations
    assert violation.constraint_check_type is CheckType.COMPLETENESS
