"""The sample-size-aware bias-drift verdict: standard errors checked against closed forms, verdicts
checked by seeded simulation (false alarms on unchanged windows, detection of a known change), and
the decision as a baseline's analysis.json records it and a window's metric lines publish it.

The simulated model: a facet ``f`` (1 = the sensitive group d, 20 % of rows), a group variable ``g``,
a binary label whose positive rate is 0.40 in a and 0.30 in d, and predictions right 80 % of the time
for positives and 85 % for negatives; a change moves d's predicted-positive rate down by ``shift``
(positive predictions of d turned negative at random).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from model_monitor_analyzer import constraint_rules as rules
from model_monitor_analyzer.checks import bias_decision as decision_module
from model_monitor_analyzer.checks.bias import (
    POST_TRAINING_METRICS,
    BiasAnalysis,
    BiasStage,
    BiasState,
    FacetResult,
    FacetSpec,
    FacetValueResult,
    MetricResult,
    StageResult,
    analyze_bias,
)
from model_monitor_analyzer.checks.bias_decision import (
    ReplicateCounts,
    decide,
    decision_for_baseline,
    standard_errors,
)
from model_monitor_analyzer.checks.bias_groups import group_identity
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.monitors import bias as bias_job
from model_monitor_analyzer.profile.bias_counts import GroupCounts, count_rows
from model_monitor_analyzer.report.bias_decision import BIAS_VIOLATION_PREFIX, read_baseline

COUNT_METRICS = [d.name for d in POST_TRAINING_METRICS if d.name != "FT"]


def _rows(rows: int, seed: int, *, shift: float = 0.0, sensitive_share: float = 0.2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    facet = rng.random(rows) < sensitive_share
    label = rng.random(rows) < np.where(facet, 0.30, 0.40)
    predicted = np.where(label, rng.random(rows) < 0.80, rng.random(rows) < 0.15)
    if shift:
        rate = predicted[facet].mean()
        turned = facet & predicted & (rng.random(rows) < shift / rate)
        predicted = predicted & ~turned
    return {"f": facet.astype(np.int64), "y": label.astype(np.int64), "p": predicted.astype(np.int64),
            "g": rng.integers(0, 4, rows)}


def _analysis(table: dict[str, np.ndarray], methods: list[str] | None = COUNT_METRICS):
    return analyze_bias(table, label="y", label_values=[1], facets=[FacetSpec(column="f", values=(1,))],
                        group_variable="g", predicted_label="p", post_training_methods=methods)


@pytest.fixture(scope="module")
def baseline():
    analysis = _analysis(_rows(4_000, seed=0))
    return analysis, decision_for_baseline(analysis)


# -- standard errors ---------------------------------------------------------------------------------


def _key(stage: BiasStage, name: str):
    return stage, "f", group_identity("1"), name


def test_bootstrap_standard_error_of_dppl_is_the_binomial_one():
    table = _rows(20_000, seed=1)
    errors = standard_errors(_analysis(table), resamples=400)
    facet, predicted = table["f"] == 1, table["p"] == 1
    p_a, p_d = predicted[~facet].mean(), predicted[facet].mean()
    binomial = math.sqrt(p_a * (1 - p_a) / (~facet).sum() + p_d * (1 - p_d) / facet.sum())
    assert errors[_key(BiasStage.POST_TRAINING, "DPPL")] == pytest.approx(binomial, rel=0.1)


def test_bootstrap_standard_error_of_class_imbalance_is_the_binomial_one_of_the_group_share():
    # CI = 1 - 2 n_d / n: its error is twice the binomial error of d's share
    table = _rows(20_000, seed=2)
    share = (table["f"] == 1).mean()
    errors = standard_errors(_analysis(table), resamples=400)
    assert errors[_key(BiasStage.PRE_TRAINING, "CI")] == pytest.approx(2 * math.sqrt(share * (1 - share) / 20_000),
                                                                        rel=0.1)


def test_standard_errors_shrink_as_the_square_root_of_the_rows():
    small = standard_errors(_analysis(_rows(2_500, seed=3)), resamples=400)
    large = standard_errors(_analysis(_rows(40_000, seed=3)), resamples=400)
    key = _key(BiasStage.POST_TRAINING, "DPPL")
    assert small[key] / large[key] == pytest.approx(4.0, rel=0.15)


def test_a_metric_some_replicate_cannot_compute_gets_no_standard_error():
    # 60 rows: d holds about 12 with 3 or 4 positive labels, so some replicate has none and no recall in d;
    # a replicate without any row of d (CI's only failure) is a chance of about 1e-6
    analysis = _analysis(_rows(60, seed=4))
    errors = standard_errors(analysis)
    assert _key(BiasStage.POST_TRAINING, "RD") not in errors
    assert _key(BiasStage.PRE_TRAINING, "CI") in errors


def test_standard_errors_are_seeded():
    analysis = _analysis(_rows(1_000, seed=5))
    assert standard_errors(analysis) == standard_errors(analysis)


def test_replicate_counts_answer_every_count_as_group_counts():
    rng = np.random.default_rng(6)
    rows = 500
    counts = count_rows(rng.random(rows) < 0.3, rng.random(rows) < 0.4, rng.random(rows) < 0.5,
                        (rng.integers(0, 3, rows), rng.random(rows) < 0.1))
    fast = ReplicateCounts(keys=counts.keys, counts=counts.counts, grouped=counts.grouped)
    choices = (None, False, True)
    for facet in choices:
        for positive in choices:
            for predicted in choices:
                assert fast.count(facet=facet, positive=positive, predicted=predicted) == GroupCounts.count(
                    counts, facet=facet, positive=positive, predicted=predicted)


# -- the decision on given values and standard errors ---------------------------------------------------


def _given(values: dict[str, float], rows: int | None = None) -> BiasAnalysis:
    """An analysis of the given post-training metric values for facet f = 1 (``rows``: the rows it counted)."""
    metrics = tuple(MetricResult(name=name, description=name, value=value) for name, value in values.items())
    stage = StageResult(label="y", label_value_or_threshold="1",
                        facets=(FacetResult(name="f", values=(FacetValueResult(value_or_threshold="1", metrics=metrics),)),))
    state = None if rows is None else BiasState(counts=((GroupCounts(
        keys=np.array([]), counts=np.array([[rows, 0, 0, 0, 0, 0, 0, 0]]), grouped=False),),))
    return BiasAnalysis(post_training=stage, state=state)


def _decision(errors: dict[str, float], baseline_size: int | None = None) -> rules.BiasDecision:
    return rules.BiasDecision(comparison=rules.SIGNIFICANCE, baseline_size=baseline_size, standard_errors={
        ("post_training_bias_metrics", "f", "1", name): error for name, error in errors.items()})


def test_the_p_value_is_the_normal_tail_of_the_excess_distance_over_the_combined_error():
    verdict = decide(baseline=_given({"DPPL": -0.10, "AD": 0.02}), current=_given({"DPPL": -0.21, "AD": 0.01}),
                     decision=_decision({"DPPL": 0.02, "AD": 0.01}), tolerance=0.01,
                     window_errors={_key(BiasStage.POST_TRAINING, "DPPL"): 0.03,
                                    _key(BiasStage.POST_TRAINING, "AD"): 0.015})
    dppl, ad = _key(BiasStage.POST_TRAINING, "DPPL"), _key(BiasStage.POST_TRAINING, "AD")
    assert verdict.p_values[dppl] == pytest.approx(stats.norm.sf((0.21 - 0.10 - 0.01) / math.hypot(0.03, 0.02)))
    assert verdict.p_values[ad] == pytest.approx(stats.norm.sf((0.01 - 0.02 - 0.01) / math.hypot(0.015, 0.01)))
    assert verdict.violated(dppl) and not verdict.violated(ad)


def test_benjamini_hochberg_decides_across_the_windows_metrics():
    # AD's p-value 0.008 is a discovery alone at 0.01, not beside a metric without evidence (0.008 > 1 * 0.01 / 2)
    spread = 0.01
    errors = {_key(BiasStage.POST_TRAINING, n): 0.0 for n in ("DPPL", "AD")}
    ad = stats.norm.isf(0.008) * spread
    alone = decide(baseline=_given({"AD": 0.0}), current=_given({"AD": ad}), decision=_decision({"AD": spread}),
                   window_errors=errors)
    assert {v.metric_name for v in alone.violations} == {"AD"}
    beside = decide(baseline=_given({"DPPL": 0.1, "AD": 0.0}), current=_given({"DPPL": 0.05, "AD": ad}),
                    decision=_decision({"DPPL": spread, "AD": spread}), window_errors=errors)
    assert not beside.violations


def test_a_window_without_its_own_standard_error_uses_the_baselines_scaled_to_its_size():
    # the baseline counted 4 times the window's rows: the window's error is twice the baseline's
    verdict = decide(baseline=_given({"DPPL": 0.1}), current=_given({"DPPL": 0.2}, rows=1_000),
                     decision=_decision({"DPPL": 0.02}, baseline_size=4_000), window_errors={})
    key = _key(BiasStage.POST_TRAINING, "DPPL")
    assert verdict.p_values[key] == pytest.approx(stats.norm.sf(0.1 / math.hypot(0.04, 0.02)))


def test_an_infinite_window_value_is_not_judged_without_a_tolerance_and_by_clarifys_rule_with_one():
    baseline, current = _given({"TE": 0.5}), _given({"TE": math.inf})
    decision = _decision({"TE": 0.1})
    unjudged = decide(baseline=baseline, current=current, decision=decision, window_errors={})
    key = _key(BiasStage.POST_TRAINING, "TE")
    assert key in unjudged.not_judged and not unjudged.violations and key not in unjudged.judged
    judged = decide(baseline=baseline, current=current, decision=decision, tolerance=0.1, window_errors={})
    assert key in judged.by_clarify_rule and judged.violated(key)


# -- verdicts by simulation -----------------------------------------------------------------------------


def test_unchanged_windows_of_400_rows_are_rarely_flagged_where_clarifys_rule_flags_most(baseline):
    analysis, decision = baseline
    flagged = clarify_flagged = 0
    for seed in range(100, 140):
        window = _analysis(_rows(400, seed=seed))
        flagged += bool(decide(baseline=analysis, current=window, decision=decision).violations)
        clarify_flagged += bool(decide(baseline=analysis, current=window,
                                       decision=rules.BiasDecision(comparison=rules.THRESHOLD)).violations)
    assert flagged <= 2
    assert clarify_flagged >= 30


def test_a_large_change_at_10000_rows_is_detected_in_every_window(baseline):
    analysis, decision = baseline
    for seed in range(200, 205):
        verdict = decide(baseline=analysis, current=_analysis(_rows(10_000, seed=seed, shift=0.10)), decision=decision)
        assert "DPPL" in {v.metric_name for v in verdict.violations}


def test_the_tolerance_is_an_absolute_margin_on_the_distance_from_neutral(baseline):
    analysis, decision = baseline
    window = _analysis(_rows(10_000, seed=300, shift=0.10))
    assert decide(baseline=analysis, current=window, decision=decision).violations
    # DPPL moves by about 0.10 and the other metrics by less: a margin of 0.5 keeps none
    assert not decide(baseline=analysis, current=window, decision=decision, tolerance=0.5).violations


def test_a_baseline_without_the_decision_is_judged_by_clarifys_rule_exactly(baseline):
    analysis, _ = baseline
    window = _analysis(_rows(400, seed=301))
    verdict = decide(baseline=analysis, current=window, decision=rules.BiasDecision())
    expected = {(b.stage, b.metric.name) for b, w in zip(decision_module.placed_metrics(analysis),
                                                         decision_module.placed_metrics(window), strict=True)
                if w.metric.value is not None and abs(w.metric.value) > abs(b.metric.value)}
    assert {(v.stage, v.metric_name) for v in verdict.violations} == expected and expected
    assert verdict.p_values == {}


def _with_feature(rows: int, seed: int) -> dict[str, np.ndarray]:
    table = _rows(rows, seed=seed)
    table["x"] = (np.random.default_rng(seed).normal(size=rows) + table["y"]).round(3)
    return table


def test_the_flip_test_has_no_standard_error_and_is_not_judged_without_a_tolerance():
    analysis = _analysis(_with_feature(2_000, seed=7), methods=None)
    decision = decision_for_baseline(analysis)
    assert ("post_training_bias_metrics", "f", "1", "FT") not in decision.standard_errors
    verdict = decide(baseline=analysis, current=_analysis(_with_feature(300, seed=8), methods=None), decision=decision)
    ft = _key(BiasStage.POST_TRAINING, "FT")
    assert ft in verdict.not_judged and ft not in verdict.judged and not verdict.violated(ft)


def test_the_flip_test_keeps_clarifys_rule_with_the_tolerance_as_its_margin():
    analysis = _analysis(_with_feature(2_000, seed=7), methods=None)
    decision = decision_for_baseline(analysis)
    ft = _key(BiasStage.POST_TRAINING, "FT")
    before = next(p.metric.value for p in decision_module.placed_metrics(analysis) if p.key == ft)
    outcomes = set()
    for seed in range(8, 20):
        window = _analysis(_with_feature(300, seed=seed), methods=None)
        after = next(p.metric.value for p in decision_module.placed_metrics(window) if p.key == ft)
        verdict = decide(baseline=analysis, current=window, decision=decision, tolerance=0.02)
        assert ft in verdict.by_clarify_rule and ft not in verdict.p_values
        assert verdict.violated(ft) is (abs(after) > abs(before) + 0.02)
        outcomes.add(verdict.violated(ft))
    assert outcomes == {True, False}


# -- the files ----------------------------------------------------------------------------------------


def _write_csv(path: Path, table: dict[str, np.ndarray]) -> Path:
    lines = [",".join(table)] + [",".join(map(str, row)) for row in zip(*(c.tolist() for c in table.values()))]
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(folder: Path) -> Path:
    path = folder / "analysis_config.json"
    path.write_text(json.dumps({
        "dataset_type": "text/csv", "label": "y", "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "f", "value_or_threshold": [1]}], "group_variable": "g", "predicted_label": "p",
        "methods": {"pre_training_bias": {"methods": "all"}, "post_training_bias": {"methods": COUNT_METRICS}}}))
    return path


def _baseline_file(tmp_path: Path) -> Path:
    parser = argparse.ArgumentParser()
    bias_job.add_baseline_arguments(parser)
    dataset = _write_csv(tmp_path / "baseline.csv", _rows(3_000, seed=9))
    bias_job.run_baseline(bias_job.baseline_request(parser.parse_args(
        ["--analysis-config", str(_config(tmp_path)), "--dataset", str(dataset), "--output", str(tmp_path / "base")])))
    return tmp_path / "base" / "analysis.json"


def _monitor(tmp_path: Path, baseline: Path, table: dict[str, np.ndarray]):
    parser = argparse.ArgumentParser()
    bias_job.add_monitor_arguments(parser)
    dataset = _write_csv(tmp_path / "window.csv", table)
    args = parser.parse_args(["--analysis-config", str(_config(tmp_path)), "--dataset", str(dataset), "--output",
                              str(tmp_path / "window"), "--metrics-dir", str(tmp_path / "metrics"),
                              "--baseline", str(baseline)])
    return bias_job.run_monitor(bias_job.monitor_request(args))


def test_a_baseline_records_its_decision_after_clarifys_keys_and_reads_back(tmp_path):
    path = _baseline_file(tmp_path)
    document = json.loads(path.read_text())
    assert list(document) == ["version", "post_training_bias_metrics", "pre_training_bias_metrics",
                              rules.BIAS_DECISION_KEY]
    block = document[rules.BIAS_DECISION_KEY]
    assert block["comparison"] == "significance" and block["baseline_size"] == 3_000
    assert block["significance_level"] == rules.DEFAULT_QUALITY_SIGNIFICANCE_LEVEL
    recorded = {(e["stage"], e["metric"]) for e in block["standard_errors"]}
    assert ("post_training_bias_metrics", "DPPL") in recorded and ("pre_training_bias_metrics", "CI") in recorded
    analysis, decision = read_baseline(path)
    assert decision.comparison == rules.SIGNIFICANCE and len(decision.standard_errors) == len(recorded)
    # the constructs' reader of the baseline's metrics passes over the block
    assert len(rules.bias_baseline_metrics(document)) == sum(
        1 for p in decision_module.placed_metrics(analysis) if p.metric.value is not None)


def test_a_window_publishes_its_verdict_beside_each_compared_metric(tmp_path):
    baseline = _baseline_file(tmp_path)
    outcome = _monitor(tmp_path, baseline, _rows(10_000, seed=10, shift=0.2))
    lines = [json.loads(line) for line in (tmp_path / "metrics" / bias_job.run.METRICS_FILE).read_text().splitlines()]
    verdicts = {(line["MetricName"], json.dumps(line["Dimensions"])): line["Value"] for line in lines
                if line["MetricName"].startswith(BIAS_VIOLATION_PREFIX)}
    values = [line for line in lines if line["MetricName"].startswith("bias_metric_")]
    assert len(verdicts) == len(values)
    violated = {v["metric_name"] for v in json.loads((tmp_path / "window" / "constraint_violations.json").read_text())[
        "violations"]}
    assert "DPPL" in violated and outcome.summary["violations"] == len(violated)
    assert outcome.summary["drift_comparison"] == "significance"
    assert outcome.summary["judged_by_significance"] == len(verdicts) and outcome.summary["not_judged"] == 0
    for line in values:
        name = line["MetricName"].removeprefix("bias_metric_")
        assert verdicts[(BIAS_VIOLATION_PREFIX + name, json.dumps(line["Dimensions"]))] == float(name in violated)
    assert "by more than chance allows at this window's size" in (tmp_path / "window" / "report.html").read_text()


def test_a_clarify_made_baseline_is_judged_by_clarifys_rule_with_a_note(tmp_path, capsys):
    baseline = _baseline_file(tmp_path)
    document = json.loads(baseline.read_text())
    del document[rules.BIAS_DECISION_KEY]
    baseline.write_text(json.dumps(document))
    _monitor(tmp_path, baseline, _rows(400, seed=11))
    assert "bias drift judged by Clarify's rule" in capsys.readouterr().err
    names = {json.loads(line)["MetricName"] for line in
             (tmp_path / "metrics" / bias_job.run.METRICS_FILE).read_text().splitlines()}
    assert not any(name.startswith(BIAS_VIOLATION_PREFIX) for name in names)
    assert "more than chance allows" not in (tmp_path / "window" / "report.html").read_text()


def test_a_bad_decision_block_is_a_one_line_error_naming_the_key(tmp_path):
    baseline = _baseline_file(tmp_path)
    document = json.loads(baseline.read_text())
    document[rules.BIAS_DECISION_KEY]["comparison"] = "sometimes"
    baseline.write_text(json.dumps(document))
    with pytest.raises(AnalyzerInputError, match="bias_drift_decision.comparison must be significance or threshold"):
        read_baseline(baseline)
