"""Label-free performance estimation of a multiclass classifier from per-class probabilities, on simulated data
whose true probabilities are known (labels drawn from them), against numpy and scikit-learn."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as sk

from model_monitor_analyzer.checks import multiclass_estimation as me
from model_monitor_analyzer.io.ground_truth import ground_truth_record
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.monitors.model_quality.estimation import ESTIMATION_KEY
from tests.analyzer.test_model_quality_jobs import START, _baseline_args, _hour_folder, _monitor_args

CLASSES = 4


def _softmax_probabilities(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    """P(y = c | x) of a softmax model on 2 inputs; ``shift`` moves the inputs (covariate shift), not P(y | x)."""
    x = rng.normal(shift, 1.0, (n, 2))
    weights = np.array([[1.5, -1.0, 0.2, -0.6], [0.3, 1.2, -1.4, 0.1]])
    logits = x @ weights + np.array([0.2, 0.0, -0.3, 0.1])
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _draw_labels(rng: np.random.Generator, p: np.ndarray, draws: int = 1) -> np.ndarray:
    """Labels drawn row by row from ``p`` (draws x rows): the first class whose cumulative probability exceeds a
    uniform number."""
    uniform = rng.random((draws, p.shape[0], 1))
    return np.minimum((uniform >= np.cumsum(p, axis=1)[None]).sum(axis=2), p.shape[1] - 1)


def _realised(actual: np.ndarray, predicted: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """scikit-learn's accuracy, macro precision/recall/F1 over every class and macro one-vs-rest ROC AUC."""
    precision, recall, f1, _ = sk.precision_recall_fscore_support(
        actual, predicted, labels=list(range(CLASSES)), average="macro", zero_division=0)
    return {"estimated_accuracy": sk.accuracy_score(actual, predicted), "estimated_precision": precision,
            "estimated_recall": recall, "estimated_f1": f1,
            "estimated_auc": sk.roc_auc_score(actual, p, multi_class="ovr", average="macro",
                                              labels=list(range(CLASSES)))}


def test_expected_confusion_matrix_equals_a_row_by_row_sum():
    rng = np.random.default_rng(3)
    p = _softmax_probabilities(rng, 2_000, shift=0.3)
    predicted = np.argmax(p, axis=1)
    expected = np.zeros((CLASSES, CLASSES))
    for row, j in zip(p, predicted, strict=True):
        expected[:, j] += row
    assert np.allclose(me.expected_confusion_matrix(p, predicted), expected, rtol=1e-12)


def test_estimated_values_equal_numpy_on_the_expected_matrix():
    rng = np.random.default_rng(5)
    p = _softmax_probabilities(rng, 3_000)
    predicted = np.argmax(p, axis=1)
    estimates = me.estimate_multiclass(p, p, predicted, auc_draws=0)
    matrix = np.zeros((CLASSES, CLASSES))
    np.add.at(matrix.T, predicted, p)  # column j gets the probabilities of the rows predicted j
    tp = np.diag(matrix)
    precision = tp / matrix.sum(axis=0)
    recall = tp / matrix.sum(axis=1)
    f1 = 2 * precision * recall / (precision + recall)
    assert estimates["estimated_accuracy"].value == pytest.approx(tp.sum() / p.shape[0], rel=1e-12)
    assert estimates["estimated_precision"].value == pytest.approx(precision.mean(), rel=1e-12)
    assert estimates["estimated_recall"].value == pytest.approx(recall.mean(), rel=1e-12)
    assert estimates["estimated_f1"].value == pytest.approx(f1.mean(), rel=1e-12)
    # accuracy's interval: the Poisson-binomial variance of the correct count, p of the predicted class
    chosen = p[np.arange(p.shape[0]), predicted]
    error = np.sqrt(np.sum(chosen * (1 - chosen))) / p.shape[0]
    assert estimates["estimated_accuracy"].standard_error == pytest.approx(error, rel=1e-12)


def test_estimates_match_the_mean_and_spread_of_realised_metrics_over_drawn_labels():
    """The estimate is the mean of the realised metrics of labels drawn from the probabilities (up to the
    ratio's small bias), and its standard error their spread; the 95 % interval covers about 95 % of them."""
    rng = np.random.default_rng(11)
    p = _softmax_probabilities(rng, 2_000, shift=0.5)
    predicted = np.argmax(p, axis=1)
    estimates = me.estimate_multiclass(p, p, predicted)
    drawn = _draw_labels(rng, p, draws=200)
    realised = [_realised(labels, predicted, p) for labels in drawn]
    for name, estimate in estimates.items():
        values = np.array([r[name] for r in realised])
        assert estimate.value == pytest.approx(values.mean(), abs=0.25 * values.std()), name
        assert estimate.standard_error == pytest.approx(values.std(ddof=1), rel=0.15), name
        inside = np.mean((values >= estimate.lower) & (values <= estimate.upper))
        assert 0.9 <= inside <= 0.99, (name, inside)


def test_calibration_corrects_distorted_scores_per_class_and_rows_add_up_to_one():
    rng = np.random.default_rng(13)
    p = _softmax_probabilities(rng, 20_000)
    actual = _draw_labels(rng, p)[0]
    distorted = p**2.0  # over-confident ranking-preserving scores, not adding up to 1
    calibrations = me.fit_class_calibrations(distorted, actual)
    assert all(choice.calibration is not None for choice in calibrations.choices)
    calibrated = calibrations.probabilities(distorted)
    assert np.allclose(calibrated.sum(axis=1), 1.0)
    window = _softmax_probabilities(rng, 5_000, shift=0.4)
    predicted = np.argmax(window, axis=1)
    truth = me.estimate_multiclass(window, window, predicted, auc_draws=0)
    raw = me.estimate_multiclass(window**2, me.renormalised(window**2), predicted, auc_draws=0)
    fixed = me.estimate_multiclass(window**2, calibrations.probabilities(window**2), predicted, auc_draws=0)
    for name in ("estimated_accuracy", "estimated_f1"):
        assert abs(fixed[name].value - truth[name].value) < 0.01, name
        assert abs(fixed[name].value - truth[name].value) < abs(raw[name].value - truth[name].value), name


def test_calibration_of_calibrated_scores_is_kept_only_where_it_lowers_the_brier_score():
    rng = np.random.default_rng(17)
    p = _softmax_probabilities(rng, 3_000)
    actual = _draw_labels(rng, p)[0]
    calibrations = me.fit_class_calibrations(p, actual)
    for choice in calibrations.choices:
        assert (choice.calibration is not None) == (choice.calibrated_brier < choice.raw_brier)


def test_realised_values_equal_scikit_learn():
    rng = np.random.default_rng(19)
    p = _softmax_probabilities(rng, 1_000)
    actual = _draw_labels(rng, p)[0]
    predicted = np.argmax(p, axis=1)
    ours = me.realised_values(actual, predicted, p, CLASSES)
    for name, value in _realised(actual, predicted, p).items():
        assert ours[name] == pytest.approx(value, abs=1e-12), name


def test_class_order_follows_the_predicted_label_of_each_column():
    rng = np.random.default_rng(23)
    p = _softmax_probabilities(rng, 500)
    names = np.array(["cat", "dog", "emu", "fox"])
    assert me.class_order(names[np.argmax(p, axis=1)].tolist(), p) == ("cat", "dog", "emu", "fox")
    shuffled = p[:, [2, 0, 3, 1]]
    assert me.class_order(names[np.argmax(p, axis=1)].tolist(), shuffled) == ("emu", "cat", "fox", "dog")
    # a class never predicted: integer labels name the columns by position, other labels cannot
    one_sided = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    assert me.class_order(["0", "1"], one_sided, ["0", "2"]) == ("0", "1", "2")
    assert me.class_order(["a", "b"], one_sided, ["a", "c"]) is None


# -- the model-quality monitor with per-class probabilities ------------------------------------------------

NAMES = np.array(["cat", "dog", "emu", "fox"])


def _baseline(root: Path, rng: np.random.Generator, n: int = 8_000) -> Path:
    """A labelled reference whose per-class scores are distorted (``p ** 2``, not adding up to 1)."""
    p = _softmax_probabilities(rng, n)
    actual = _draw_labels(rng, p)[0]
    scores = p**2
    rows = "".join(f"{NAMES[np.argmax(s)]},{','.join(repr(float(v)) for v in s)},{NAMES[y]}\n"
                   for s, y in zip(scores, actual, strict=True))
    dataset = root / "reference.csv"
    dataset.write_text("predicted,p_cat,p_dog,p_emu,p_fox,label\n" + rows)
    outcome = job.run_baseline(_baseline_args(
        "--dataset", str(dataset), "--problem-type", "MulticlassClassification", "--inference-attribute", "predicted",
        "--probability-attribute", "p_cat,p_dog,p_emu,p_fox", "--ground-truth-attribute", "label",
        "--output", str(root / "baseline")))
    assert outcome.status is RunStatus.COMPLETED, outcome.message
    return root / "baseline" / "constraints.json"


def _write_window(root: Path, scores: np.ndarray, labels: np.ndarray | None, *, json_payload: bool) -> None:
    """Captures whose output is the predicted class and the per-class scores (CSV ``dog,0.1,...`` or JSON
    ``{"predicted_label": ..., "probabilities": [...]}``), and the labels when given."""
    capture_lines, label_lines = [], []
    for i, row in enumerate(scores):
        predicted = str(NAMES[np.argmax(row)])
        data = json.dumps({"predicted_label": predicted, "probabilities": [float(v) for v in row]}) if json_payload \
            else predicted + "," + ",".join(repr(float(v)) for v in row)
        capture_lines.append(json.dumps({
            "captureData": {"endpointOutput": {"observedContentType": "application/json" if json_payload else "text/csv",
                                               "mode": "OUTPUT", "data": data,
                                               "encoding": "JSON" if json_payload else "CSV"}},
            "eventMetadata": {"eventId": f"e{i}", "inferenceId": f"i{i}",
                              "inferenceTime": START.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "eventVersion": "0"}))
        if labels is not None:
            label_lines.append(json.dumps(ground_truth_record(f"i{i}", str(NAMES[labels[i]]))))
    (_hour_folder(root / "capture" / "ep" / "AllTraffic", START) / "00-00-000-capture.jsonl").write_text(
        "\n".join(capture_lines) + "\n")
    label_dir = _hour_folder(root / "groundtruth", START)
    if label_lines:
        (label_dir / "labels.jsonl").write_text("\n".join(label_lines) + "\n")


def _monitor(root: Path, constraints: Path, *, json_payload: bool):
    attributes = ("--inference-attribute", "predicted_label", "--probability-attribute", "probabilities") \
        if json_payload else ("--inference-attribute", "0", "--probability-attribute", "1-4")
    return job.run_monitor(_monitor_args(
        "--capture", str(root / "capture"), "--ground-truth", str(root / "groundtruth"), "--output", str(root / "out"),
        "--problem-type", "MulticlassClassification", *attributes, "--constraints", str(constraints),
        "--metrics-dir", str(root / "metrics"),
        "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")))


def test_multiclass_baseline_keeps_per_class_calibrations_and_macro_reference_metrics(tmp_path: Path):
    constraints = _baseline(tmp_path, np.random.default_rng(29))
    block = json.loads(constraints.read_text())[ESTIMATION_KEY]
    calibration = block["calibration"]
    assert calibration["method"] == "one_vs_rest_isotonic"
    assert calibration["classes"] == NAMES.tolist()
    assert all(entry["method"] == "isotonic" for entry in calibration["per_class"])  # p ** 2 is miscalibrated
    statistics = json.loads((tmp_path / "baseline" / "statistics.json").read_text())
    assert block["reference_metrics"]["accuracy"]["value"] == pytest.approx(
        statistics["multiclass_classification_metrics"]["accuracy"]["value"], abs=1e-12)
    assert set(block["reference_metrics"]) == {"accuracy", "precision", "recall", "f1", "auc"}


@pytest.mark.parametrize("json_payload", [False, True], ids=["csv-column-range", "json-list"])
def test_multiclass_window_without_labels_is_estimated_within_its_interval(tmp_path: Path, json_payload: bool):
    rng = np.random.default_rng(31)
    constraints = _baseline(tmp_path, rng)
    p = _softmax_probabilities(rng, 4_000, shift=0.6)  # covariate shift: P(y | x) unchanged
    _write_window(tmp_path, p**2, None, json_payload=json_payload)
    outcome = _monitor(tmp_path, constraints, json_payload=json_payload)
    assert outcome.status in (RunStatus.COMPLETED, RunStatus.COMPLETED_WITH_VIOLATIONS), outcome.message
    assert outcome.summary["performance_estimation"] == "estimated only: no labels in the window"
    block = json.loads((tmp_path / "out" / "statistics.json").read_text())[ESTIMATION_KEY]
    assert block["item_count"] == 4_000
    # what the true probabilities say (numpy, scikit-learn-free): the expected confusion matrix of the window
    predicted = np.argmax(p, axis=1)
    matrix = np.zeros((CLASSES, CLASSES))
    np.add.at(matrix.T, predicted, p)
    tp = np.diag(matrix)
    truth = {"estimated_accuracy": tp.sum() / p.shape[0],
             "estimated_recall": np.mean(tp / matrix.sum(axis=1)),
             "estimated_precision": np.mean(tp / matrix.sum(axis=0))}
    for name, value in truth.items():
        entry = block["estimated"][name]
        assert abs(entry["value"] - value) < 3 * entry["standard_error"] + 0.01, name
    lines = [json.loads(line) for line in (tmp_path / "metrics" / "model_quality_metrics.jsonl").read_text().splitlines()]
    assert {line["MetricName"] for line in lines} >= {"estimated_accuracy", "estimated_f1", "estimated_auc"}


def test_multiclass_labelled_window_compares_realised_macro_metrics_and_reports_a_concept_shift(tmp_path: Path):
    rng = np.random.default_rng(37)
    constraints = _baseline(tmp_path, rng)
    p = _softmax_probabilities(rng, 3_000, shift=0.3)
    _write_window(tmp_path / "same", p**2, _draw_labels(rng, p)[0], json_payload=True)
    same = _monitor(tmp_path / "same", constraints, json_payload=True)
    block = json.loads((tmp_path / "same" / "out" / "statistics.json").read_text())[ESTIMATION_KEY]
    assert block["mode"] == "estimated_and_realised"
    labelled = block["labelled_rows"]
    assert labelled["concept_shift"]["flagged"] == [], same.message
    statistics = json.loads((tmp_path / "same" / "out" / "statistics.json").read_text())
    assert labelled["realised"]["accuracy"] == pytest.approx(
        statistics["multiclass_classification_metrics"]["accuracy"]["value"], abs=1e-12)
    # P(y | x) changes: the same scores, labels drawn uniformly
    _write_window(tmp_path / "shifted", p**2, rng.integers(0, CLASSES, p.shape[0]), json_payload=True)
    _monitor(tmp_path / "shifted", constraints, json_payload=True)
    violations = json.loads((tmp_path / "shifted" / "out" / "constraint_violations.json").read_text())["violations"]
    assert "conceptShift" in {v["metric_name"] for v in violations}


def test_a_single_probability_of_a_multiclass_model_is_read_as_before_without_an_estimate(tmp_path: Path):
    rng = np.random.default_rng(41)
    p = _softmax_probabilities(rng, 1_000)
    actual = _draw_labels(rng, p)[0]
    dataset = tmp_path / "reference.csv"
    dataset.write_text("predicted,confidence,label\n" + "".join(
        f"{NAMES[np.argmax(row)]},{float(row.max())!r},{NAMES[y]}\n" for row, y in zip(p, actual, strict=True)))
    outcome = job.run_baseline(_baseline_args(
        "--dataset", str(dataset), "--problem-type", "MulticlassClassification", "--inference-attribute", "predicted",
        "--probability-attribute", "confidence", "--ground-truth-attribute", "label", "--output", str(tmp_path / "b")))
    assert outcome.status is RunStatus.COMPLETED, outcome.message
    assert "calibration" not in json.loads((tmp_path / "b" / "constraints.json").read_text())[ESTIMATION_KEY]


def _merged(output: dict, label: str) -> dict:
    return {"captureData": {"endpointOutput": output}, "groundTruthData": {"data": label, "encoding": "CSV"},
            "eventMetadata": {"eventId": "e1"}}


def test_per_class_probabilities_read_from_a_csv_range_alike_on_columns_and_record_by_record():
    from model_monitor_analyzer.io import merge

    attributes = merge.ValueAttributes(inference_attribute="0", probability_attribute="1-3", class_probabilities=True)
    plain = [_merged({"data": "dog,0.2,0.7,0.1", "encoding": "CSV"}, "dog"),
             _merged({"data": "cat,0.6,0.3,0.1\n", "encoding": "CSV"}, "emu")]
    quoted = [*plain, _merged({"data": '"emu",0.1,0.1,0.8', "encoding": "CSV"}, "emu")]  # forces the per-record reader
    fast = merge.labelled_columns(plain, attributes)
    slow = merge.labelled_columns(quoted, attributes)
    assert fast.probabilities.to_pylist() == ["[0.2,0.7,0.1]", "[0.6,0.3,0.1]"]
    assert slow.probabilities.to_pylist() == [*fast.probabilities.to_pylist(), "[0.1,0.1,0.8]"]


def test_per_class_probabilities_of_a_json_batch_are_one_list_per_row():
    from model_monitor_analyzer.io import merge

    rows = merge.labelled_predictions(
        [{"captureData": {"endpointOutput": {"data": json.dumps({"predictions": [
            {"label": "cat", "p": [0.9, 0.1]}, {"label": "dog", "p": [0.2, 0.8]}]}), "encoding": "JSON"}},
          "groundTruthData": {"data": "cat\ndog", "encoding": "CSV"}, "eventMetadata": {"eventId": "e1"}}],
        inference_attribute="predictions[*].label", probability_attribute="predictions[*].p", class_probabilities=True)
    assert rows.probabilities == [[0.9, 0.1], [0.2, 0.8]]


def test_the_container_environment_names_per_class_probabilities_alike(tmp_path: Path):
    from model_monitor_analyzer.contract.entrypoint import run_container

    rng = np.random.default_rng(43)
    constraints = _baseline(tmp_path, rng)
    _write_window(tmp_path, _softmax_probabilities(rng, 1_500) ** 2, None, json_payload=False)
    opt_ml = tmp_path / "opt-ml"
    processing = opt_ml / "processing"
    processing.mkdir(parents=True)
    (tmp_path / "capture").rename(processing / "input_data")
    (tmp_path / "groundtruth").rename(processing / "groundtruth")
    (processing / "baseline" / "constraints").mkdir(parents=True)
    (processing / "baseline" / "constraints" / "constraints.json").write_bytes(constraints.read_bytes())
    assert run_container({
        "MODEL_MONITOR_OPT_ML_ROOT": str(opt_ml), "analysis_type": "MODEL_QUALITY",
        "problem_type": "MulticlassClassification", "inference_attribute": "0", "probability_attribute": "1-4",
        "dataset_source": "/opt/ml/processing/input_data", "output_path": "/opt/ml/processing/output",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
        "start_time": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}) == 0
    block = json.loads((processing / "output" / "statistics.json").read_text())[ESTIMATION_KEY]
    assert block["item_count"] == 1_500
    assert set(block["estimated"]) == set(me.MULTICLASS_ESTIMATED_METRICS)


def test_a_baseline_whose_probability_columns_cannot_be_matched_to_classes_is_refused(tmp_path: Path):
    from model_monitor_analyzer.errors import AnalyzerInputError

    # the model never predicts "emu", and the labels are not 0..K-1: which column is emu's cannot be told
    rows = "".join(f"{name},0.6,0.2,0.1,0.1,{name}\n" for name in ("cat", "dog", "fox") * 10)
    dataset = tmp_path / "reference.csv"
    dataset.write_text("predicted,p_cat,p_dog,p_emu,p_fox,label\n" + rows)
    with pytest.raises(AnalyzerInputError, match="which class each of the 4 per-class probabilities"):
        job.run_baseline(_baseline_args(
            "--dataset", str(dataset), "--problem-type", "MulticlassClassification", "--inference-attribute",
            "predicted", "--probability-attribute", "1-4", "--ground-truth-attribute", "label",
            "--output", str(tmp_path / "baseline")))
