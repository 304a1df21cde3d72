"""Labels, predictions and probabilities as users write them, decided on whole columns."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as sk

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.merge import LabelledColumns
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.monitors.model_quality import metrics as mq_metrics
from model_monitor_analyzer.monitors.model_quality import values as mq_values
from model_monitor_analyzer.monitors.model_quality.request import ModelSettings


def _text(values: list[str | None]) -> pa.Array:
    return pa.array(values, pa.string())


def _settings(kind: mq.ProblemType, *, positive_label: str | None = None, threshold: float | None = None):
    return ModelSettings(
        problem_type=kind,
        inference_attribute="prediction",
        probability_attribute="probability" if threshold is not None else None,
        probability_threshold=threshold,
        ground_truth_attribute="label",
        positive_label=positive_label,
    )


def _rows(predictions: list[str], labels: list[str], probabilities: list[str] | None = None) -> LabelledColumns:
    return LabelledColumns(
        predictions=_text(predictions),
        probabilities=None if probabilities is None else _text(probabilities),
        labels=_text(labels),
    )


def test_every_spelling_of_one_and_zero_is_a_binary_label():
    values = _text(["1", "1.0", "1e0", "+1", "1.", " 1 ", "True", "true", "TRUE", "0", "0.0", "-0", "0e5", "false", "False"])
    positive = mq_values.binary_values(values, positive_label=None, what="labels")
    assert positive.tolist() == [True] * 9 + [False] * 6


def test_a_positive_label_compares_as_a_number_when_both_are_numbers():
    values = _text(["1", "1.0", "+1", "1e0", "true", "2", "0", "01"])
    assert mq_values.binary_values(values, positive_label="1", what="labels").tolist() == [
        True, True, True, True, True, False, False, True,
    ]  # fmt: skip
    assert mq_values.binary_values(values, positive_label="1.0", what="labels").tolist() == [
        True, True, True, True, True, False, False, True,
    ]  # fmt: skip


def test_a_text_positive_label_compares_ignoring_case_and_blanks():
    values = _text(["Yes", " yes", "YES", "no", "yesterday"])
    assert mq_values.binary_values(values, positive_label="yes", what="labels").tolist() == [True, True, True, False, False]


def test_multiclass_labels_written_differently_are_one_class():
    texts = mq_values.label_text(_text(["1", "1.0", "+1", "1e0", " 1 ", "2.50", "2.5", "True", "true", "cat", " cat"]))
    assert texts.to_pylist() == ["1", "1", "1", "1", "1", "2.5", "2.5", "true", "true", "cat", "cat"]


def test_integers_too_large_for_a_double_stay_distinct_classes():
    texts = mq_values.label_text(_text(["12345678901234567890", "12345678901234567891", "9007199254740991"]))
    assert texts.to_pylist() == ["12345678901234567890", "12345678901234567891", "9007199254740991"]


def test_binary_metrics_of_mixed_spellings_match_scikit_learn_on_the_numbers():
    rng = np.random.default_rng(5)
    actual = rng.random(400) < 0.4
    predicted = np.where(rng.random(400) < 0.8, actual, ~actual)
    spell_true = np.array(["1", "1.0", "true", "+1", "1e0"])
    spell_false = np.array(["0", "0.0", "false", "-0", "0e0"])

    def spelled(flags: np.ndarray) -> list[str]:
        picks = rng.integers(0, 5, flags.size)
        return np.where(flags, spell_true[picks], spell_false[picks]).tolist()

    metrics = mq_metrics.compute_metrics(
        _settings(mq.ProblemType.BINARY_CLASSIFICATION), _rows(spelled(predicted), spelled(actual))
    )
    assert metrics["accuracy"].value == pytest.approx(sk.accuracy_score(actual, predicted), abs=1e-12)
    assert metrics["f1"].value == pytest.approx(sk.f1_score(actual, predicted), abs=1e-12)
    assert metrics["recall"].value == pytest.approx(sk.recall_score(actual, predicted), abs=1e-12)


def test_regression_numbers_with_a_sign_or_an_exponent_match_scikit_learn():
    labels = ["+2", "1e1", "3.", ".5", "-1.5E0"]
    predictions = ["2.5", "9", "+3", "0.25", "-1"]
    metrics = mq_metrics.compute_metrics(_settings(mq.ProblemType.REGRESSION), _rows(predictions, labels))
    y = [2.0, 10.0, 3.0, 0.5, -1.5]
    y_hat = [2.5, 9.0, 3.0, 0.25, -1.0]
    assert metrics["mse"].value == pytest.approx(sk.mean_squared_error(y, y_hat), abs=1e-12)
    assert metrics["mae"].value == pytest.approx(sk.mean_absolute_error(y, y_hat), abs=1e-12)


def test_a_regression_value_that_is_not_a_number_is_named():
    with pytest.raises(AnalyzerInputError, match="inference values must be numbers, found '1,5'"):
        mq_values.number_values(_text(["1.0", "1,5"]), what="inference values")


def test_numbers_that_are_not_finite_are_read_as_what_they_are():
    values = mq_values.number_values(_text(["1.0", "inf", " -Infinity", "NaN", "1e400", "+inf"]), what="values")
    assert values[0] == 1.0 and np.isnan(values[3])
    assert values[[1, 2, 4, 5]].tolist() == [np.inf, -np.inf, np.inf, np.inf]


def test_regression_rows_with_a_value_that_is_not_finite_are_left_out_and_counted():
    labels = ["1.5", "2", "inf", "4", "5", "-1"]
    predictions = ["1", "nan", "3", "4.5", "1e400", "0"]
    rows = LabelledColumns(predictions=_text(predictions), probabilities=None, labels=_text(labels),
                           event_ids=_text(["e0", "e1", "e2", "e3", "e4", "e5"]))
    state = mq_metrics.part_state(_settings(mq.ProblemType.REGRESSION), rows)
    assert (state.non_finite.rows, state.non_finite.first) == (3, "inference value 'nan' (event e1)")
    metrics = mq_metrics.state_metrics(_settings(mq.ProblemType.REGRESSION), state).metrics
    y, y_hat = [1.5, 4.0, -1.0], [1.0, 4.5, 0.0]
    assert metrics["mae"].value == pytest.approx(sk.mean_absolute_error(y, y_hat), abs=1e-12)
    assert metrics["r2"].value == pytest.approx(sk.r2_score(y, y_hat), abs=1e-12)


def test_a_label_that_is_not_finite_is_named_as_the_label():
    rows = _rows(["1", "2", "3"], ["1", "-inf", "3"])
    state = mq_metrics.part_state(_settings(mq.ProblemType.REGRESSION), rows)
    assert (state.non_finite.rows, state.non_finite.first) == (1, "ground-truth value '-inf'")


def test_a_probability_that_is_not_finite_leaves_its_row_out_of_thresholded_binary_metrics():
    labels = ["1", "0", "1", "0", "1"]
    probabilities = ["0.9", "nan", "0.2", "inf", "0.7"]
    state = mq_metrics.part_state(_settings(mq.ProblemType.BINARY_CLASSIFICATION, threshold=0.5),
                                  _rows(probabilities, labels, probabilities))
    assert (state.quality.rows, state.non_finite.rows, state.non_finite.first) == (3, 2, "probability 'nan'")
    metrics = mq_metrics.state_metrics(_settings(mq.ProblemType.BINARY_CLASSIFICATION, threshold=0.5), state).metrics
    assert metrics["recall"].value == pytest.approx(sk.recall_score([1, 1, 1], [1, 0, 1]), abs=1e-12)


def test_a_finite_probability_outside_zero_to_one_is_still_an_error():
    rows = _rows(["0.9", "1.5"], ["1", "0"], ["0.9", "1.5"])
    with pytest.raises(AnalyzerInputError, match=r"must lie in \[0, 1\]; 1 do not \(e.g. 1.5\)"):
        mq_metrics.part_state(_settings(mq.ProblemType.BINARY_CLASSIFICATION, threshold=0.5), rows)


def test_a_positive_label_that_no_label_holds_is_an_error_not_zero_metrics():
    rows = _rows(["1", "0", "1"], ["1", "0", "0"])
    with pytest.raises(AnalyzerInputError, match=r"no ground-truth label equals the positive label 'yes' \(found 0, 1\)"):
        mq_metrics.compute_metrics(_settings(mq.ProblemType.BINARY_CLASSIFICATION, positive_label="yes"), rows)


def test_predictions_in_another_vocabulary_than_the_labels_are_an_error():
    rows = _rows(["0", "0", "0"], ["yes", "no", "no"])
    with pytest.raises(AnalyzerInputError, match="no predicted label equals the positive label 'yes'"):
        mq_metrics.compute_metrics(_settings(mq.ProblemType.BINARY_CLASSIFICATION, positive_label="yes"), rows)


def test_a_window_without_a_positive_case_is_measured_not_refused():
    labels = ["no", "no", "no", "no"]
    predictions = ["yes", "no", "no", "yes"]
    metrics = mq_metrics.compute_metrics(
        _settings(mq.ProblemType.BINARY_CLASSIFICATION, positive_label="yes"), _rows(predictions, labels)
    )
    actual = [0, 0, 0, 0]
    predicted = [1, 0, 0, 1]
    assert metrics["accuracy"].value == sk.accuracy_score(actual, predicted)
    assert metrics["false_positive_rate"].value == 0.5
    assert metrics["recall"].value == sk.recall_score(actual, predicted, zero_division=0)


def test_thresholded_probabilities_need_only_the_labels_to_hold_the_positive_label():
    labels = ["good", "bad", "bad", "good"]
    probabilities = ["0.9", "0.2", "0.7", "0.4"]
    rows = _rows(probabilities, labels, probabilities)
    metrics = mq_metrics.compute_metrics(
        _settings(mq.ProblemType.BINARY_CLASSIFICATION, positive_label="good", threshold=0.5), rows
    )
    actual = [1, 0, 0, 1]
    assert metrics["auc"].value == pytest.approx(sk.roc_auc_score(actual, [0.9, 0.2, 0.7, 0.4]), abs=1e-12)
    assert metrics["precision"].value == sk.precision_score(actual, [1, 0, 1, 0])


def test_rows_with_an_empty_label_or_prediction_are_skipped_and_counted():
    rows, skipped = mq_metrics.complete_rows(_rows(["1", "", "0", "1"], ["1", "0", None, " "]))
    assert skipped == 3
    assert rows.predictions.to_pylist() == ["1"]
    assert rows.labels.to_pylist() == ["1"]


# --------------------------------------------------------------------------------------------
# baseline datasets through io.datasets
# --------------------------------------------------------------------------------------------


def _baseline(*argv: str):
    parser = argparse.ArgumentParser()
    job.add_baseline_arguments(parser)
    return job.run_baseline(job.baseline_request(parser.parse_args(list(argv))))


def _binary_data(n: int = 300, seed: int = 9) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < 0.4
    scores = np.round(np.clip(0.3 * labels + rng.uniform(0.0, 0.7, n), 0.0, 1.0), 4)
    return labels, scores


def _binary_statistics(output: Path) -> dict:
    return json.loads((output / "statistics.json").read_text())["binary_classification_metrics"]


def test_header_less_csv_baseline_reads_columns_by_index(tmp_path: Path):
    labels, scores = _binary_data()
    dataset = tmp_path / "data.csv"
    dataset.write_text("".join(f"{float(s)!r},{int(y)}\n" for s, y in zip(scores, labels, strict=True)))
    _baseline("--dataset", str(dataset), "--no-header", "--problem-type", "BinaryClassification",
              "--probability-attribute", "0", "--probability-threshold", "0.5", "--ground-truth-attribute", "1",
              "--output", str(tmp_path / "out"))  # fmt: skip
    body = _binary_statistics(tmp_path / "out")
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels, scores), abs=1e-12)
    assert body["f1"]["value"] == pytest.approx(sk.f1_score(labels, scores > 0.5), abs=1e-12)


def test_json_lines_baseline_reads_numbers_and_booleans(tmp_path: Path):
    labels, scores = _binary_data(seed=4)
    dataset = tmp_path / "data.jsonl"
    dataset.write_text(
        "".join(
            json.dumps({"label": bool(y), "out": {"score": float(s), "label": int(s > 0.5)}}) + "\n"
            for s, y in zip(scores, labels, strict=True)
        )
    )
    outcome = _baseline("--dataset", str(dataset), "--problem-type", "BinaryClassification",
                        "--inference-attribute", "out.label", "--probability-attribute", "out.score",
                        "--ground-truth-attribute", "label", "--output", str(tmp_path / "out"))  # fmt: skip
    body = _binary_statistics(tmp_path / "out")
    assert outcome.summary["item_count"] == 300
    assert body["accuracy"]["value"] == pytest.approx(sk.accuracy_score(labels, scores > 0.5), abs=1e-12)
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels, scores), abs=1e-12)


def test_parquet_baseline_is_read_like_csv(tmp_path: Path):
    import pyarrow.parquet as pq

    labels, scores = _binary_data(seed=6)
    pq.write_table(pa.table({"label": labels.astype(np.int64), "probability": scores}), tmp_path / "data.parquet")
    _baseline("--dataset", str(tmp_path / "data.parquet"), "--problem-type", "BinaryClassification",
              "--probability-attribute", "probability", "--probability-threshold", "0.5",
              "--ground-truth-attribute", "label", "--output", str(tmp_path / "out"))  # fmt: skip
    body = _binary_statistics(tmp_path / "out")
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels, scores), abs=1e-12)


def test_csv_baseline_rows_with_a_wrong_field_count_are_skipped_within_the_tolerance(tmp_path: Path):
    labels, scores = _binary_data(n=100, seed=2)
    lines = [f"{int(y)},{float(s)!r}\n" for y, s in zip(labels, scores, strict=True)]
    lines[10] = "1,0.5,extra\n"
    (tmp_path / "data.csv").write_text("label,probability\n" + "".join(lines))
    outcome = _baseline("--dataset", str(tmp_path / "data.csv"), "--problem-type", "BinaryClassification",
                        "--probability-attribute", "probability", "--probability-threshold", "0.5",
                        "--ground-truth-attribute", "label", "--output", str(tmp_path / "out"))  # fmt: skip
    keep = np.ones(100, dtype=bool)
    keep[10] = False
    body = _binary_statistics(tmp_path / "out")
    assert outcome.summary["item_count"] == 99
    assert outcome.summary["malformed_records"] == 1
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels[keep], scores[keep]), abs=1e-12)


def test_csv_baseline_with_too_many_bad_rows_names_the_first_one(tmp_path: Path):
    (tmp_path / "data.csv").write_text("label,probability\n1,0.9\n0,0.1,x\n1,0.8,y\n")
    with pytest.raises(AnalyzerInputError, match=r"data\.csv:3: expected 2 fields, found 3"):
        _baseline("--dataset", str(tmp_path / "data.csv"), "--problem-type", "BinaryClassification",
                  "--probability-attribute", "probability", "--probability-threshold", "0.5",
                  "--ground-truth-attribute", "label", "--output", str(tmp_path / "out"))  # fmt: skip


def test_an_attribute_that_is_not_a_column_lists_the_columns(tmp_path: Path):
    (tmp_path / "data.csv").write_text("label,score\n1,0.9\n")
    with pytest.raises(AnalyzerInputError, match="probability attribute 'probability' is not a column; columns: label, score"):
        _baseline("--dataset", str(tmp_path / "data.csv"), "--problem-type", "BinaryClassification",
                  "--probability-attribute", "probability", "--probability-threshold", "0.5",
                  "--ground-truth-attribute", "label", "--output", str(tmp_path / "out"))  # fmt: skip


def _classes(count: int) -> LabelledColumns:
    """Rows whose labels and predictions together hold ``count`` distinct classes, each as label and prediction."""
    names = [f"class-{i}" for i in range(count)]
    return _rows(names[1:] + names[:1], names)


def test_a_multiclass_window_of_one_hundred_classes_is_measured():
    metrics = mq_metrics.compute_metrics(_settings(mq.ProblemType.MULTICLASS_CLASSIFICATION), _classes(100))
    assert len(metrics["confusion_matrix"]) == 100 and metrics["accuracy"].value == 0.0


def test_a_multiclass_window_of_more_than_one_hundred_classes_is_refused_naming_the_count():
    with pytest.raises(AnalyzerInputError, match=r"^a MulticlassClassification with 101 distinct labels and predictions "
                                                 r".*more than the 100 classes this analyzer judges .*check that the "
                                                 r"attributes point at the class labels"):
        mq_metrics.compute_metrics(_settings(mq.ProblemType.MULTICLASS_CLASSIFICATION), _classes(101))


def test_regression_values_run_as_multiclass_are_refused_saying_to_run_them_as_a_regression():
    rng = np.random.default_rng(4)
    truth = rng.normal(size=250)
    rows = _rows([repr(float(v)) for v in truth + rng.normal(0, 0.1, 250)], [repr(float(v)) for v in truth])
    with pytest.raises(AnalyzerInputError, match=r"with 500 distinct labels .* probably a Regression run as multiclass: "
                                                 r"run it with --problem-type Regression$"):
        mq_metrics.compute_metrics(_settings(mq.ProblemType.MULTICLASS_CLASSIFICATION), rows)
