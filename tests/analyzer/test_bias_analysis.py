"""Facets, labels and stages as Clarify groups them, and the bias-drift rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model_monitor_analyzer.checks.bias import (
    BiasAnalysis,
    FacetResult,
    FacetSpec,
    FacetValueResult,
    MetricResult,
    StageResult,
    analyze_bias,
    bias_drift_violations,
)
from model_monitor_analyzer.checks.bias_groups import ColumnKind, column_kind, facet_groups
from model_monitor_analyzer.errors import AnalyzerInputError


def _table(rows: int = 100, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "age": rng.integers(18, 80, size=rows),
        "sex": rng.choice(np.array(["F", "M"], dtype=object), size=rows),
        "race": rng.integers(0, 3, size=rows * 10)[:rows] % 3,
        "income": rng.normal(size=rows),
        "label": rng.integers(0, 2, size=rows),
        "prediction": rng.integers(0, 2, size=rows),
    }


def test_floats_are_continuous_and_integers_with_few_distinct_values_categorical():
    assert column_kind(np.array([0.1, 0.2, 0.1]), None) is ColumnKind.CONTINUOUS
    assert column_kind(np.array([0, 1] * 50), None) is ColumnKind.CATEGORICAL
    assert column_kind(np.arange(100), None) is ColumnKind.CONTINUOUS
    assert column_kind(np.array(["a", "b"], dtype=object), None) is ColumnKind.CATEGORICAL


@pytest.mark.parametrize("rows", [1, 5, 10, 39, 40, 41, 5_000])
def test_zero_one_columns_are_categorical_whatever_the_row_count(rows):
    # Clarify's 5 % rule alone would read 2 distinct values in 40 rows or fewer as a threshold.
    flags = np.arange(rows) % 2
    assert column_kind(flags, [1]) is ColumnKind.CATEGORICAL
    assert column_kind(flags.astype(np.float64), [1]) is ColumnKind.CATEGORICAL
    assert column_kind(np.array([str(v) for v in flags], dtype=object), [1]) is ColumnKind.CATEGORICAL
    assert column_kind(np.zeros(rows, dtype=np.int64), [1]) is ColumnKind.CATEGORICAL


def test_other_whole_numbers_follow_clarifys_5_percent_rule_without_a_baseline():
    # 3 distinct values: a share of 3/39 >= 5 % is continuous, 3/60 = 5 % too, 3/61 categorical.
    assert column_kind(np.arange(39) % 3, [2]) is ColumnKind.CONTINUOUS
    assert column_kind(np.arange(60) % 3, [2]) is ColumnKind.CONTINUOUS
    assert column_kind(np.arange(61) % 3, [2]) is ColumnKind.CATEGORICAL


def test_a_baseline_reading_decides_whole_numbers_in_a_window_of_any_size():
    ages = np.array([23, 41, 67, 35, 52])
    assert column_kind(ages, [40], known=ColumnKind.CATEGORICAL) is ColumnKind.CATEGORICAL
    assert column_kind(np.arange(61) % 3, [2], known=ColumnKind.CONTINUOUS) is ColumnKind.CONTINUOUS
    # Values or types the config or the data decide are not overridden: several values, text, fractions.
    assert column_kind(ages, [40, 41], known=ColumnKind.CONTINUOUS) is ColumnKind.CATEGORICAL
    assert column_kind(np.array([0.5, 1.5]), [1], known=ColumnKind.CATEGORICAL) is ColumnKind.CONTINUOUS
    assert column_kind(np.array(["a", "b"], dtype=object), ["a"], known=ColumnKind.CONTINUOUS) is (
        ColumnKind.CATEGORICAL
    )


def test_several_given_values_make_a_column_categorical():
    assert column_kind(np.arange(100), [1, 2]) is ColumnKind.CATEGORICAL


def test_a_facet_without_values_gets_one_group_per_distinct_value_in_order_of_appearance():
    groups = facet_groups(np.array(["M", "F", "X", "F"], dtype=object), None, "sex")
    assert [g.name for g in groups] == ["M", "F", "X"]
    assert groups[1].rows.tolist() == [False, True, False, True]


def test_a_continuous_facet_threshold_is_an_exclusive_lower_bound_up_to_the_maximum():
    (group,) = facet_groups(np.arange(20, 80), [40], "age")
    assert group.name == "(40, 79]"
    assert group.rows.sum() == 39


def test_a_text_threshold_on_an_integer_column_prints_float_breaks():
    (group,) = facet_groups(np.arange(20, 80), ["40"], "age")
    assert group.name == "(40.0, 79.0]"


def test_a_facet_value_given_as_text_still_finds_integer_rows():
    (group,) = facet_groups(np.array([0, 1, 1, 0] * 25), ["1"], "flag")
    assert group.name == "1"
    assert group.rows.sum() == 50


def test_a_continuous_facet_without_threshold_is_refused_with_the_fix():
    with pytest.raises(AnalyzerInputError, match="give it a value_or_threshold"):
        facet_groups(np.linspace(0, 1, 50), None, "score")


def test_several_facets_and_values_give_one_entry_each_in_both_stages():
    table = _table()
    analysis = analyze_bias(
        table,
        label="label",
        label_values=[1],
        facets=[FacetSpec(column="sex"), FacetSpec(column="race"), FacetSpec(column="age", values=(40,))],
        predicted_label="prediction",
    )
    for _, stage in analysis.stages():
        assert [f.name for f in stage.facets] == ["sex", "race", "age"]
        assert [v.value_or_threshold for v in stage.facets[0].values] == list(
            dict.fromkeys(table["sex"].tolist())
        )
        assert len(stage.facets[1].values) == 3
    assert len(analysis.post_training.facets[0].values[0].metrics) == 13
    assert len(analysis.pre_training.facets[0].values[0].metrics) == 8


def test_without_group_variable_cddl_and_cddpl_are_null_with_an_error():
    analysis = analyze_bias(
        _table(),
        label="label",
        label_values=[1],
        facets=[FacetSpec(column="sex")],
        predicted_label="prediction",
    )
    for _, stage in analysis.stages():
        for metric in stage.facets[0].values[0].metrics:
            if metric.name in ("CDDL", "CDDPL"):
                assert metric.value is None
                assert metric.error == "Group variable is empty or not provided"


def test_chosen_methods_restrict_the_metrics_and_keep_clarifys_order():
    analysis = analyze_bias(
        _table(),
        label="label",
        label_values=[1],
        facets=[FacetSpec(column="sex", values=("F",))],
        pre_training_methods=["KL", "CI"],
        run_post_training=False,
        predicted_label="prediction",
    )
    assert analysis.post_training is None
    assert [m.name for m in analysis.pre_training.facets[0].values[0].metrics] == ["CI", "KL"]


def test_an_unknown_method_name_is_refused():
    with pytest.raises(AnalyzerInputError, match="unknown bias metric"):
        analyze_bias(
            _table(),
            label="label",
            label_values=[1],
            facets=[FacetSpec(column="sex")],
            pre_training_methods=["XX"],
        )


def test_predictions_of_another_kind_than_the_labels_are_refused():
    table = _table()
    table["prediction"] = np.linspace(0, 1, 100)
    with pytest.raises(AnalyzerInputError, match="predicted labels must take the label's values"):
        analyze_bias(
            table,
            label="label",
            label_values=[1],
            facets=[FacetSpec(column="sex")],
            predicted_label="prediction",
        )


def test_an_unknown_column_names_the_columns_there_are():
    with pytest.raises(AnalyzerInputError, match="'gender' is not in the dataset"):
        analyze_bias(_table(), label="label", label_values=[1], facets=[FacetSpec(column="gender")])


def _analysis(values: dict[str, float | None]) -> BiasAnalysis:
    metrics = tuple(
        MetricResult(name=n, description=n, value=v, error=None if v is not None else "error")
        for n, v in values.items()
    )
    stage = StageResult(
        label="y",
        label_value_or_threshold="1",
        facets=(
            FacetResult(name="sex", values=(FacetValueResult(value_or_threshold="F", metrics=metrics),)),
        ),
    )
    return BiasAnalysis(post_training=stage)


def test_a_metric_closer_to_zero_than_its_baseline_is_not_a_violation_and_a_farther_one_is():
    # The documented example: baseline DPPL 0.2; 0.1 is fine, -0.3 violates.
    assert bias_drift_violations(baseline=_analysis({"DPPL": 0.2}), current=_analysis({"DPPL": 0.1})) == ()
    (violation,) = bias_drift_violations(baseline=_analysis({"DPPL": 0.2}), current=_analysis({"DPPL": -0.3}))
    assert (violation.metric_name, violation.current, violation.baseline) == ("DPPL", -0.3, 0.2)


def test_an_infinite_current_value_violates_a_finite_baseline():
    (violation,) = bias_drift_violations(baseline=_analysis({"TE": 2.9}), current=_analysis({"TE": math.inf}))
    assert violation.current == math.inf


def test_metrics_without_value_on_either_side_are_not_checked():
    assert bias_drift_violations(baseline=_analysis({"CDDL": None}), current=_analysis({"CDDL": 0.9})) == ()
    assert bias_drift_violations(baseline=_analysis({"CDDL": 0.1}), current=_analysis({"CDDL": None})) == ()


def test_disparate_impact_is_measured_from_zero_like_clarify_unless_told_otherwise():
    baseline, current = _analysis({"DI": 0.178}), _analysis({"DI": 0.083})
    assert bias_drift_violations(baseline=baseline, current=current) == ()
    assert len(bias_drift_violations(baseline=baseline, current=current, neutral_values={"DI": 1.0})) == 1
