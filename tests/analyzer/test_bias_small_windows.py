"""Bias windows of any size: columns typed by their values and their baseline, never by the row
count; a metric a window is too small for is null with its reason, and the rest are computed.

Expected values come from ``reference_metrics`` below, the formulas of the SageMaker Clarify
documentation written out with numpy (a = rows outside the facet group, d = the facet group),
with one departure from Clarify's code: a group's rate whose numerator and denominator are both 0
has no value (``None``), where Clarify counts 0/0 as 0.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest

from model_monitor_analyzer.checks import bias_posttraining as post
from model_monitor_analyzer.checks.bias_pretraining import BiasMetricError
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import bias as bias_job
from model_monitor_analyzer.monitors.bias import run as bias_run

BASELINE_ROWS = 10_000
TOLERANCE = 1e-12


# ---------------------------------------------------------------------------------------------
# The formulas, written out


def _rate(numerator: int, denominator: int) -> float | None:
    if denominator == 0:
        return None if numerator == 0 else math.inf
    return numerator / denominator


def _difference(first: float | None, second: float | None) -> float | None:
    """first - second; both infinite counts as no difference, as Clarify reports it."""
    if first is None or second is None:
        return None
    if first == second == math.inf:
        return 0.0
    return first - second


def _label_shares(rows: np.ndarray, positive: np.ndarray) -> dict[bool, float]:
    return {outcome: np.count_nonzero(rows & (positive == outcome)) / np.count_nonzero(rows) for outcome in (False, True)}


def _divergences(facet: np.ndarray, positive: np.ndarray) -> dict[str, float | None]:
    """KL, JS, LP, TVD, KS over the label outcomes both groups have (Clarify drops the others)."""
    share_a, share_d = _label_shares(~facet, positive), _label_shares(facet, positive)
    shared = [o for o in (False, True) if share_a[o] > 0 and share_d[o] > 0]
    if not shared:
        return dict.fromkeys(("KL", "JS", "LP", "TVD", "KS"))
    p_a, p_d = np.array([share_a[o] for o in shared]), np.array([share_d[o] for o in shared])
    middle = (p_a + p_d) / 2
    return {
        "KL": float(np.sum(p_a * np.log(p_a / p_d))),
        "JS": float(0.5 * np.sum(p_a * np.log(p_a / middle)) + 0.5 * np.sum(p_d * np.log(p_d / middle))),
        "LP": float(np.sqrt(np.sum((p_a - p_d) ** 2))),
        "TVD": float(0.5 * np.sum(np.abs(p_a - p_d))),
        "KS": float(np.max(np.abs(p_a - p_d))),
    }


def _conditional_disparity(facet: np.ndarray, positive: np.ndarray, group: np.ndarray) -> float | None:
    """CDD = (1/n) sum_i n_i (share of d among rejected_i - share of d among accepted_i)."""
    if not positive.any() or positive.all():
        return None
    total = 0.0
    for value in np.unique(group):
        rows = group == value
        accepted, rejected = np.count_nonzero(rows & positive), np.count_nonzero(rows & ~positive)
        share_accepted = np.count_nonzero(rows & positive & facet) / accepted if accepted else 0.0
        share_rejected = np.count_nonzero(rows & ~positive & facet) / rejected if rejected else 0.0
        total += np.count_nonzero(rows) * (share_rejected - share_accepted)
    return total / group.size


def reference_metrics(y: np.ndarray, p: np.ndarray, facet: np.ndarray, group: np.ndarray) -> dict[str, float | None]:
    """Every metric but FT of one facet group, from the positive-label (y), positive-prediction (p),
    facet and group-variable columns. Assumes both groups have rows."""
    n_a, n_d = np.count_nonzero(~facet), np.count_nonzero(facet)

    def count(*conditions: np.ndarray) -> int:
        return int(np.count_nonzero(np.logical_and.reduce(conditions)))

    tp = {g: count(rows, y, p) for g, rows in (("a", ~facet), ("d", facet))}
    fp = {g: count(rows, ~y, p) for g, rows in (("a", ~facet), ("d", facet))}
    fn = {g: count(rows, y, ~p) for g, rows in (("a", ~facet), ("d", facet))}
    tn = {g: count(rows, ~y, ~p) for g, rows in (("a", ~facet), ("d", facet))}
    size = {"a": n_a, "d": n_d}
    q_hat = {g: (tp[g] + fp[g]) / size[g] for g in size}
    benefit = p.astype(int) - y.astype(int) + 1
    metrics: dict[str, float | None] = {
        "CI": (n_a - n_d) / (n_a + n_d),
        "DPL": count(~facet, y) / n_a - count(facet, y) / n_d,
        **_divergences(facet, y),
        "CDDL": _conditional_disparity(facet, y, group),
        "DPPL": q_hat["a"] - q_hat["d"],
        "DI": None if not p.any() else _rate(count(facet, p) * n_a, count(~facet, p) * n_d),
        "AD": (tp["a"] + tn["a"]) / n_a - (tp["d"] + tn["d"]) / n_d,
        "RD": _difference(_rate(tp["a"], tp["a"] + fn["a"]), _rate(tp["d"], tp["d"] + fn["d"])),
        "SD": _difference(_rate(tn["d"], tn["d"] + fp["d"]), _rate(tn["a"], tn["a"] + fp["a"])),
        "DAR": _difference(_rate(tp["a"], tp["a"] + fp["a"]), _rate(tp["d"], tp["d"] + fp["d"])),
        "DRR": _difference(_rate(tn["d"], tn["d"] + fn["d"]), _rate(tn["a"], tn["a"] + fn["a"])),
        "DCA": _difference(_rate(tp["a"] + fn["a"], tp["a"] + fp["a"]), _rate(tp["d"] + fn["d"], tp["d"] + fp["d"])),
        "DCR": _difference(_rate(tn["d"] + fp["d"], tn["d"] + fn["d"]), _rate(tn["a"] + fp["a"], tn["a"] + fn["a"])),
        "TE": _difference(_rate(fn["d"], fp["d"]), _rate(fn["a"], fp["a"])),
        "CDDPL": _conditional_disparity(facet, p, group),
        "GE": float(np.sum((benefit / benefit.mean()) ** 2 - 1) / (2 * y.size)) if benefit.mean() else None,
    }
    return metrics


# ---------------------------------------------------------------------------------------------
# Data, config and runs


def _table(rows: int, seed: int) -> dict[str, np.ndarray]:
    """Labels and predictions 0/1, facet f in {0, 1, 2}, ages 18..89, group g in {0..3}, a numeric x."""
    rng = np.random.default_rng(seed)
    return {
        "y": rng.integers(0, 2, rows),
        "f": rng.integers(0, 3, rows),
        "age": rng.integers(18, 90, rows),
        "g": rng.integers(0, 4, rows),
        "x": rng.normal(size=rows).round(4),
        "p": rng.integers(0, 2, rows),
    }


def _write_csv(path: Path, table: dict[str, np.ndarray]) -> Path:
    lines = [",".join(table)] + [",".join(str(v) for v in row) for row in zip(*(c.tolist() for c in table.values()))]
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(folder: Path, **changes: object) -> Path:
    config = {
        "dataset_type": "text/csv",
        "label": "y",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "f", "value_or_threshold": [2]}],
        "group_variable": "g",
        "predicted_label": "p",
        "excluded_columns": ["age"],
    }
    config.update(changes)
    path = folder / "analysis_config.json"
    path.write_text(json.dumps(config))
    return path


def _baseline(tmp_path: Path, config: Path, table: dict[str, np.ndarray] | None = None) -> Path:
    parser = argparse.ArgumentParser()
    bias_job.add_baseline_arguments(parser)
    dataset = _write_csv(tmp_path / "baseline.csv", table if table is not None else _table(BASELINE_ROWS, 0))
    output = tmp_path / "baseline"
    bias_job.run_baseline(bias_job.baseline_request(parser.parse_args(
        ["--analysis-config", str(config), "--dataset", str(dataset), "--output", str(output)])))
    return output / "analysis.json"


def _monitor(tmp_path: Path, config: Path, table: dict[str, np.ndarray], baseline: Path | None):
    parser = argparse.ArgumentParser()
    bias_job.add_monitor_arguments(parser)
    dataset = _write_csv(tmp_path / "window.csv", table)
    against = ["--baseline", str(baseline)] if baseline is not None else []
    args = parser.parse_args(["--analysis-config", str(config), "--dataset", str(dataset), "--output",
                              str(tmp_path / "window"), "--metrics-dir", str(tmp_path / "window" / "metrics"), *against])
    return bias_job.run_monitor(bias_job.monitor_request(args))


def _metrics(analysis: Path, facet: str = "f") -> dict[str, dict]:
    document = json.loads(analysis.read_text())
    found = {}
    for stage in ("pre_training_bias_metrics", "post_training_bias_metrics"):
        (group,) = document[stage]["facets"][facet]
        found.update({m["name"]: m for m in group["metrics"]})
    return found


def _value(metric: dict) -> float | None:
    return {"Infinity": math.inf, "-Infinity": -math.inf}.get(metric["value"], metric["value"])


def _assert_reference_values(metrics: dict[str, dict], table: dict[str, np.ndarray], facet: np.ndarray) -> None:
    expected = reference_metrics(table["y"] == 1, table["p"] == 1, facet, table["g"])
    for name, value in expected.items():
        ours = metrics[name]
        if value is None:
            assert ours["value"] is None and ours["error"], name
        else:
            assert _value(ours) == pytest.approx(value, abs=TOLERANCE, rel=TOLERANCE), name


# ---------------------------------------------------------------------------------------------
# Typing by values, whatever the size


@pytest.mark.parametrize("rows", [5, 10, 39])
def test_a_window_of_few_rows_with_0_1_labels_computes_the_metrics_it_can(tmp_path, rows):
    config = _config(tmp_path)
    baseline = _baseline(tmp_path, config)
    window = _table(rows, seed=rows)
    window["f"][:2] = [2, 0]  # both groups present
    outcome = _monitor(tmp_path, config, window, baseline)
    assert outcome.status in (RunStatus.COMPLETED, RunStatus.COMPLETED_WITH_VIOLATIONS)
    document = json.loads((tmp_path / "window" / "analysis.json").read_text())
    # Clarify's 5 % rule alone would make 0/1 labels (and f) thresholds at these sizes.
    assert document["pre_training_bias_metrics"]["label_value_or_threshold"] == "1"
    assert document["pre_training_bias_metrics"]["facets"]["f"][0]["value_or_threshold"] == "2"
    metrics = _metrics(tmp_path / "window" / "analysis.json")
    _assert_reference_values(metrics, window, window["f"] == 2)
    for always in ("CI", "DPL", "DPPL", "AD", "GE"):
        assert metrics[always]["value"] is not None, always


@pytest.mark.parametrize("rows", [5, 10, 39])
def test_a_window_of_few_rows_without_a_baseline_reads_0_1_labels_as_values_too(tmp_path, rows):
    window = _table(rows, seed=100 + rows)
    window["f"] = np.arange(rows) % 2  # a 0/1 facet: 2 distinct values in 39 rows or fewer
    config = _config(tmp_path, facet=[{"name_or_index": "f", "value_or_threshold": [1]}])
    _monitor(tmp_path, config, window, baseline=None)
    document = json.loads((tmp_path / "window" / "analysis.json").read_text())
    assert document["post_training_bias_metrics"]["label_value_or_threshold"] == "1"
    assert document["post_training_bias_metrics"]["facets"]["f"][0]["value_or_threshold"] == "1"
    _assert_reference_values(_metrics(tmp_path / "window" / "analysis.json"), window, window["f"] == 1)


def test_the_same_data_at_10000_rows_gives_the_values_it_gave_before(tmp_path):
    # At this size Clarify's own rule reads 0/1 labels and f in {0, 1, 2} as categorical too.
    table = _table(BASELINE_ROWS, 0)
    analysis = _baseline(tmp_path, _config(tmp_path), table)
    document = json.loads(analysis.read_text())
    assert document["pre_training_bias_metrics"]["label_value_or_threshold"] == "1"
    metrics = _metrics(analysis)
    _assert_reference_values(metrics, table, table["f"] == 2)
    assert all(m["value"] is not None for m in metrics.values())


def test_a_window_reads_whole_number_facets_as_its_baseline_did(tmp_path):
    # 72 ages in 10,000 rows are categorical by Clarify's rule, so [40] is the value 40 in the
    # baseline; 20 rows of ages would be a threshold by the same rule, but the window follows the baseline.
    config = _config(tmp_path, facet=[{"name_or_index": "age", "value_or_threshold": [40]}], excluded_columns=[])
    baseline = _baseline(tmp_path, config)
    window = _table(20, seed=7)
    window["age"][:3] = 40
    _monitor(tmp_path, config, window, baseline)
    document = json.loads((tmp_path / "window" / "analysis.json").read_text())
    assert [g["value_or_threshold"] for g in document["pre_training_bias_metrics"]["facets"]["age"]] == ["40"]
    ci = _metrics(tmp_path / "window" / "analysis.json", "age")["CI"]["value"]
    assert ci == pytest.approx((17 - 3) / 20, abs=TOLERANCE)


def test_a_threshold_group_is_compared_with_its_baseline_whatever_the_window_maximum(tmp_path):
    config = _config(tmp_path, facet=[{"name_or_index": "x", "value_or_threshold": [0.5]}])
    baseline = _baseline(tmp_path, config)
    # judged by Clarify's rule (the baseline's decision set to threshold), so every compared metric counts below
    document = json.loads(baseline.read_text())
    document["bias_drift_decision"]["comparison"] = "threshold"
    baseline.write_text(json.dumps(document))
    base_group = document["pre_training_bias_metrics"]["facets"]["x"][0]["value_or_threshold"]
    window = _table(40, seed=8)
    window["x"] = np.linspace(-1.0, 1.25, 40).round(4)  # a maximum the baseline did not have
    outcome = _monitor(tmp_path, config, window, baseline)
    group = json.loads((tmp_path / "window" / "analysis.json").read_text())["pre_training_bias_metrics"]
    assert group["facets"]["x"][0]["value_or_threshold"] == "(0.5, 1.25]" != base_group
    baseline_values = {m["name"]: _value(m) for m in _metrics(baseline, "x").values()}
    window_values = {m["name"]: _value(m) for m in _metrics(tmp_path / "window" / "analysis.json", "x").values()}
    # Clarify's rule, |window| > |baseline| (DI from 0 as Clarify), on every metric both have.
    expected = sum(1 for n, v in window_values.items() if v is not None and baseline_values[n] is not None
                   and abs(v) > abs(baseline_values[n]))
    assert expected > 0 and outcome.summary["violations"] == expected


# ---------------------------------------------------------------------------------------------
# What a small window cannot compute


def test_a_facet_group_empty_in_the_window_says_which_metrics_are_not_computable_and_why(tmp_path, capsys):
    config = _config(tmp_path)
    baseline = _baseline(tmp_path, config)
    window = _table(10, seed=3)
    window["f"] = np.arange(10) % 2  # no row of the facet group f = 2
    outcome = _monitor(tmp_path, config, window, baseline)
    assert outcome.status is RunStatus.COMPLETED and outcome.summary["violations"] == 0
    metrics = _metrics(tmp_path / "window" / "analysis.json")
    missing = {name for name, m in metrics.items() if m["value"] is None}
    assert missing == set(metrics) - {"GE"}  # GE does not depend on the facet
    assert metrics["CI"]["error"] == "CI: facet set is empty. Check that x[facet] has non-zero length."
    assert metrics["DI"]["error"] == "Facet set is empty"
    assert all(metrics[name]["error"] for name in missing)
    note = capsys.readouterr().err
    assert "20 bias metric(s) not computable in this window, not checked for drift" in note
    assert "facet 'f' value_or_threshold 2 matches no row (the column's values: 0, 1)" in note
    published = [json.loads(line)["MetricName"] for line in
                 (tmp_path / "window" / "metrics" / bias_run.METRICS_FILE).read_text().splitlines()]
    assert published == ["bias_metric_GE", "bias_drift_violation_GE"]
    report = (tmp_path / "window" / "report.html").read_text()
    assert "not computable<br><small>CI: facet set is empty." in report


def test_a_window_without_positive_labels_computes_the_metrics_that_need_none(tmp_path, capsys):
    config = _config(tmp_path)
    baseline = _baseline(tmp_path, config)
    window = _table(12, seed=4)
    window["y"][:] = 0
    window["f"][:2] = [2, 0]
    outcome = _monitor(tmp_path, config, window, baseline)
    assert outcome.status in (RunStatus.COMPLETED, RunStatus.COMPLETED_WITH_VIOLATIONS)
    metrics = _metrics(tmp_path / "window" / "analysis.json")
    _assert_reference_values(metrics, window, window["f"] == 2)
    assert metrics["CDDL"]["error"] == "No positive labels in set"
    assert metrics["RD"]["error"] == (
        "RD: recall of the other rows is undefined: it has no positive labels in this data")
    assert "label value(s) 1 match no row of column 'y'" in capsys.readouterr().err


def test_a_window_without_positive_predictions_completes_with_the_metrics_it_can(tmp_path):
    config = _config(tmp_path)
    baseline = _baseline(tmp_path, config)
    window = _table(15, seed=5)
    window["p"][:] = 0
    window["f"][:2] = [2, 0]
    _monitor(tmp_path, config, window, baseline)
    metrics = _metrics(tmp_path / "window" / "analysis.json")
    _assert_reference_values(metrics, window, window["f"] == 2)
    assert metrics["DI"]["value"] is None and metrics["DPPL"]["value"] == 0.0


def test_a_baseline_without_positive_predictions_is_refused(tmp_path):
    table = _table(200, seed=6)
    table["p"][:] = 0
    with pytest.raises(AnalyzerInputError, match="no predicted label in column 'p' is positive"):
        _baseline(tmp_path, _config(tmp_path), table)


def test_a_window_whose_positive_labels_are_not_the_baselines_is_refused(tmp_path):
    baseline = _baseline(tmp_path, _config(tmp_path))
    config = _config(tmp_path, label_values_or_threshold=[0])
    with pytest.raises(AnalyzerInputError, match=r"positive labels y = 0 are not the baseline's \(y = 1\)"):
        _monitor(tmp_path, config, _table(50, seed=9), baseline)


# ---------------------------------------------------------------------------------------------
# Undefined rates, metric by metric (a = rows 0-3, d = rows 4-7)

FACET = np.array([False] * 4 + [True] * 4)


@pytest.mark.parametrize(
    ("metric", "label", "predicted", "reason"),
    [
        (post.recall_difference, [1, 0, 1, 0, 0, 0, 0, 0], [1, 0, 0, 1, 1, 0, 1, 0],
         "RD: recall of the facet group is undefined: it has no positive labels in this data"),
        (post.specificity_difference, [1, 0, 1, 0, 1, 1, 1, 1], [1, 0, 0, 1, 1, 0, 1, 0],
         "SD: specificity of the facet group is undefined: it has no negative labels in this data"),
        (post.acceptance_rate_difference, [1, 0, 1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 1, 1, 0, 0],
         "DAR: precision of the other rows is undefined: it has no predicted positive labels in this data"),
        (post.rejection_rate_difference, [1, 0, 1, 0, 1, 0, 1, 0], [1, 1, 1, 1, 1, 0, 1, 0],
         "DRR: negative predictive value of the other rows is undefined: it has no predicted negative labels"),
        (post.treatment_equality, [1, 0, 1, 0, 1, 0, 1, 0], [0, 1, 1, 1, 1, 0, 1, 0],
         "TE: false negatives over false positives of the facet group is undefined"),
        (post.conditional_acceptance_difference, [1, 0, 1, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 0, 0],
         "DCA: observed over predicted positive labels of the facet group is undefined"),
    ],
)
def test_a_group_rate_of_0_over_0_is_not_computable_instead_of_clarifys_zero(metric, label, predicted, reason):
    with pytest.raises(BiasMetricError) as raised:
        metric(FACET, np.array(label, dtype=bool), np.array(predicted, dtype=bool))
    assert str(raised.value).startswith(reason)


def test_disparate_impact_without_any_positive_prediction_is_not_computable():
    with pytest.raises(BiasMetricError, match="no row has a positive predicted label"):
        post.disparate_impact(FACET, np.zeros(8, dtype=bool))
    # Only d predicted positive: +infinity, as Clarify.
    assert post.disparate_impact(FACET, FACET.copy()) == math.inf
