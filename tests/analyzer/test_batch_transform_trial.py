"""What a new user of batch-transform monitoring and label-free estimation ran into, each said in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model_monitor_analyzer.cli import main as analyzer
from tests.conftest import REPO_ROOT

BIAS_BASELINE = REPO_ROOT / "demo" / "baseline-bias"
IDS = [f"order-{k}" for k in range(1, 7)]
SCORES = [0.9, 0.2, 0.7, 0.4, 0.8, 0.1]


def _job(folder: Path, *, inputs: bool = True) -> Path:
    """A small transform job: CSV requests and their scores with the inference id and time."""
    (folder / "output").mkdir(parents=True)
    if inputs:
        (folder / "input").mkdir()
        (folder / "input" / "part1.csv").write_text("".join(f"{k},{k * 2}\n" for k in range(len(IDS))))
    (folder / "output" / "part1.csv.out").write_text(
        "".join(f"{score},{inference_id},2025-03-01T10:0{k}:00Z\n"
                for k, (score, inference_id) in enumerate(zip(SCORES, IDS, strict=True))))
    return folder


def _labels(folder: Path, ids: list[str] = IDS) -> Path:
    folder.mkdir(parents=True)
    (folder / "labels.jsonl").write_text("".join(json.dumps(
        {"groundTruthData": {"data": str(k % 2), "encoding": "CSV"}, "eventMetadata": {"eventId": i},
         "eventVersion": "0"}) + "\n" for k, i in enumerate(ids)))
    return folder


def _model_quality(capture: Path, labels: Path | None, output: Path, *extra: str) -> list[str]:
    return ["monitor", "--type", "model-quality", "--capture", str(capture),
            *(["--ground-truth", str(labels)] if labels is not None else []),
            "--problem-type", "BinaryClassification", "--probability-threshold", "0.5",
            "--probability-attribute", "0", "--output", str(output), *extra]


@pytest.fixture(scope="module")
def dq_baseline(tmp_path_factory) -> list[str]:
    """The baseline options of a data-quality monitor, from a two-column dataset."""
    root = tmp_path_factory.mktemp("dq")
    (root / "data.csv").write_text("a,b\n" + "".join(f"{k},{k * 2}\n" for k in range(20)))
    assert analyzer(["baseline", "--type", "data-quality", "--dataset", str(root / "data.csv"), "--output",
                     str(root / "b"), "--quiet"]) == 0
    return ["--statistics", str(root / "b" / "statistics.json"), "--constraints", str(root / "b" / "constraints.json")]


def _error(capsys, arguments: list[str]) -> str:
    assert analyzer(arguments) == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


# ---------------------------------------------------------------- 1: the job folder is an input folder
@pytest.mark.parametrize("monitor_type", ["data-quality", "model-quality", "bias"])
def test_an_output_inside_the_transform_job_folder_is_refused(tmp_path, capsys, monitor_type):
    job = _job(tmp_path / "job")
    labels = _labels(tmp_path / "gt")
    common = ["--capture", str(job), "--capture-format", "batch", "--output", str(job / "report")]
    by_type = {
        "data-quality": ["--statistics", str(tmp_path / "statistics.json"), "--constraints",
                         str(tmp_path / "constraints.json")],
        "model-quality": ["--ground-truth", str(labels), "--problem-type", "BinaryClassification",
                          "--probability-threshold", "0.5", "--probability-attribute", "0"],
        "bias": ["--analysis-config", str(BIAS_BASELINE / "analysis_config.json"), "--ground-truth", str(labels),
                 "--probability-attribute", "0"],
    }
    message = _error(capsys, ["monitor", "--type", monitor_type, *common, *by_type[monitor_type]])
    assert "lies inside the input folder" in message and str(job) in message
    assert not (job / "report").exists()


def test_merged_records_inside_the_transform_job_folder_are_refused(tmp_path, capsys):
    job = _job(tmp_path / "job")
    message = _error(capsys, _model_quality(job, _labels(tmp_path / "gt"), tmp_path / "out", "--capture-format",
                                            "batch", "--merged-output", str(job / "output" / "merged")))
    assert "--merged-output" in message and "lies inside the input folder" in message


def test_files_beside_the_transform_outputs_are_skipped_with_a_note(tmp_path, capsys):
    job = _job(tmp_path / "job")
    (job / "output" / "README.md").write_text("# scores of the March run\n")
    (job / "output" / "_SUCCESS").write_text("")
    (job / "output" / "part1.csv.out.crc").write_bytes(b"crc\x00\x01")
    assert analyzer(_model_quality(job, _labels(tmp_path / "gt"), tmp_path / "out", "--capture-format",
                                   "batch")) == 0
    err = capsys.readouterr().err
    assert "README.md: skipped, not a data file (.md)" in err and "_SUCCESS: skipped, a job marker file" in err
    assert "part1.csv.out.crc: skipped" in err
    statistics = json.loads((tmp_path / "out" / "statistics.json").read_text())
    assert statistics["binary_classification_metrics"]["confusion_matrix"]  # the six rows were judged
    merged = [line for file in (tmp_path / "out" / "merge").glob("*.jsonl") for line in file.read_text().splitlines()]
    assert len(merged) == len(IDS)


def test_a_readme_beside_outputs_without_inputs_is_not_read_as_rows(tmp_path, capsys):
    job = _job(tmp_path / "job", inputs=False)
    (job / "output" / "README.md").write_text("scores, one a line\n")
    assert analyzer(_model_quality(job, _labels(tmp_path / "gt"), tmp_path / "out", "--capture-format",
                                   "batch")) == 0
    assert "malformed" not in capsys.readouterr().err


# ---------------------------------------------------------------- 2: data that is not what the folder holds
@pytest.mark.parametrize("monitor_type", ["data-quality", "model-quality"])
def test_a_transform_job_folder_read_as_captures_asks_for_the_batch_capture_format(tmp_path, capsys, monitor_type,
                                                                                   dq_baseline):
    job = _job(tmp_path / "job")
    (job / "output" / "part2.parquet").write_bytes(b"PAR1")
    arguments = _model_quality(job, _labels(tmp_path / "gt"), tmp_path / "out") if monitor_type == "model-quality" \
        else ["monitor", "--type", "data-quality", "--capture", str(job), "--output", str(tmp_path / "out"), *dq_baseline]
    analyzer(arguments)
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    said = [line for line in notes if str(job) in line]
    assert len(said) == 1, notes
    assert "batch transform job" in said[0] and "read it as one (--capture-format batch" in said[0]
    assert "3 data file(s)" in said[0] and "name it *.jsonl" not in said[0]


def test_other_files_of_a_capture_folder_are_still_told_to_be_renamed(tmp_path, capsys, dq_baseline):
    (tmp_path / "capture" / "2025" / "03").mkdir(parents=True)
    (tmp_path / "capture" / "2025" / "03" / "records.txt").write_text("{}\n")
    analyzer(["monitor", "--type", "data-quality", "--capture", str(tmp_path / "capture"), "--output",
              str(tmp_path / "out"), *dq_baseline])
    err = capsys.readouterr().err
    assert "records.txt: skipped, not a JSON Lines file (.txt); name it *.jsonl" in err
    assert "--capture-format batch" not in err


def test_a_csv_label_file_is_told_labels_are_ground_truth_records(tmp_path, capsys):
    job = _job(tmp_path / "job")
    (tmp_path / "gt").mkdir()
    (tmp_path / "gt" / "labels.csv").write_text("inference_id,label\n" + "".join(f"{i},1\n" for i in IDS))
    analyzer(_model_quality(job, tmp_path / "gt", tmp_path / "out", "--capture-format", "batch"))
    (note,) = [line for line in capsys.readouterr().err.splitlines() if "labels.csv" in line]
    assert "not ground-truth records (.csv)" in note and "put-ground-truth" in note and "Ground truth" in note
    assert "name it *.jsonl" not in note


# ---------------------------------------------------------------- 3: no id matches
@pytest.mark.parametrize("monitor_type", ["model-quality", "bias"])
def test_a_window_where_no_id_matches_shows_one_id_of_each_side(tmp_path, capsys, monitor_type):
    job = _job(tmp_path / "job")
    labels = _labels(tmp_path / "gt", ids=[f"label-{k}" for k in range(4)])
    arguments = _model_quality(job, labels, tmp_path / "out", "--capture-format", "batch") \
        if monitor_type == "model-quality" else [
            "monitor", "--type", "bias", "--analysis-config", str(BIAS_BASELINE / "analysis_config.json"),
            "--capture", str(job), "--capture-format", "batch", "--ground-truth", str(labels),
            "--probability-attribute", "0", "--output", str(tmp_path / "out")]
    assert analyzer(arguments) == 0
    out = capsys.readouterr().out
    (status,) = [line for line in out.splitlines() if "No data to analyze" in line]
    assert "ids probably do not match" in status and "'order-1'" in status and "'label-0'" in status
    assert "longer --ground-truth-lookback" not in status
    assert "id_samples" not in out  # the samples are not a count of the summary


def test_a_window_with_labels_of_older_inferences_still_points_at_the_lookback(tmp_path, capsys):
    job = _job(tmp_path / "job")
    labels = _labels(tmp_path / "gt", ids=IDS[:2] + ["older-1", "older-2", "older-3"])
    assert analyzer(_model_quality(job, labels, tmp_path / "out", "--capture-format", "batch")) == 0
    err = capsys.readouterr().err
    assert "longer --ground-truth-lookback" in err and "ids probably do not match" not in err


@pytest.fixture(scope="module")
def label_free_baseline(tmp_path_factory) -> Path:
    """A model-quality baseline of a calibrated binary classifier: its constraints keep the label-free estimation."""
    root = tmp_path_factory.mktemp("mq")
    rng = np.random.default_rng(7)
    scores = rng.uniform(size=400)
    labels = (rng.uniform(size=400) < scores).astype(int)
    (root / "reference.csv").write_text("score,label\n" + "".join(f"{s:.4f},{y}\n" for s, y in zip(scores, labels,
                                                                                                    strict=True)))
    assert analyzer(["baseline", "--type", "model-quality", "--dataset", str(root / "reference.csv"), "--problem-type",
                     "BinaryClassification", "--probability-attribute", "score", "--ground-truth-attribute", "label",
                     "--probability-threshold", "0.5", "--output", str(root / "b"), "--quiet"]) == 0
    assert "cdk_model_monitor_performance_estimation" in json.loads((root / "b" / "constraints.json").read_text())
    return root / "b" / "constraints.json"


# ---------------------------------------------------------------- 4: an attribute beyond the payload's columns
@pytest.mark.parametrize("labelled", [True, False])
def test_a_probability_attribute_beyond_the_columns_names_itself_and_the_record(tmp_path, capsys, labelled,
                                                                              label_free_baseline):
    job = _job(tmp_path / "job")
    labels = _labels(tmp_path / "gt") if labelled else tmp_path / "gt"
    labels.mkdir(exist_ok=True)
    arguments = _model_quality(job, labels, tmp_path / "out", "--capture-format", "batch", "--constraints",
                               str(label_free_baseline))
    arguments[arguments.index("--probability-attribute") + 1] = "1"
    message = _error(capsys, arguments)
    assert "probability attribute 1 is beyond the columns" in message and "order-1" in message, message
    assert "None" not in message


# ---------------------------------------------------------------- 5: the options model quality takes
def test_statistics_given_to_model_quality_says_it_takes_only_constraints(tmp_path, capsys, label_free_baseline):
    message = _error(capsys, _model_quality(_job(tmp_path / "job"), _labels(tmp_path / "gt"), tmp_path / "out",
                                            "--capture-format", "batch", "--constraints", str(label_free_baseline),
                                            "--statistics", str(label_free_baseline.parent / "statistics.json")))
    assert message.startswith("error: --type model-quality takes only --constraints") and "--statistics" in message
    assert not (tmp_path / "out").exists()


def test_a_label_free_baseline_allows_leaving_the_ground_truth_out(tmp_path, capsys, label_free_baseline):
    job = _job(tmp_path / "job")
    assert analyzer(_model_quality(job, None, tmp_path / "out", "--capture-format", "batch", "--constraints",
                                   str(label_free_baseline))) == 0
    (tmp_path / "empty").mkdir()
    assert analyzer(_model_quality(job, tmp_path / "empty", tmp_path / "with-empty-folder", "--capture-format",
                                   "batch", "--constraints", str(label_free_baseline))) == 0
    estimated, with_empty_folder = (json.loads((tmp_path / folder / "statistics.json").read_text())
                                    for folder in ("out", "with-empty-folder"))
    block = estimated["cdk_model_monitor_performance_estimation"]
    assert block["mode"] == "estimated_only_no_labels" and block["item_count"] == len(IDS)
    assert {k: v for k, v in estimated.items() if k != "dataset"} == \
        {k: v for k, v in with_empty_folder.items() if k != "dataset"}


@pytest.mark.parametrize("constraints", [False, True])
def test_without_ground_truth_or_a_label_free_baseline_the_error_says_what_allows_it(tmp_path, capsys, constraints,
                                                                                     label_free_baseline):
    extra = []
    if constraints:  # a baseline without the estimation block
        document = json.loads(label_free_baseline.read_text())
        document.pop("cdk_model_monitor_performance_estimation")
        (tmp_path / "constraints.json").write_text(json.dumps(document))
        extra = ["--constraints", str(tmp_path / "constraints.json")]
    message = _error(capsys, _model_quality(_job(tmp_path / "job"), None, tmp_path / "out", "--capture-format",
                                            "batch", *extra))
    assert "--ground-truth are required" in message and "label-free estimation" in message
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- 6: what the summaries say
def test_the_summary_of_a_window_without_labels_says_its_rows_are_estimated(tmp_path, capsys, label_free_baseline):
    assert analyzer(_model_quality(_job(tmp_path / "job"), None, tmp_path / "out", "--capture-format", "batch",
                                   "--constraints", str(label_free_baseline))) == 0
    out = capsys.readouterr().out.splitlines()
    (line,) = [text for text in out if "labelled" in text]
    assert f"labelled 0, estimated {len(IDS)} (no labels yet)" in line
    assert "item_count" not in line and "estimated_item_count" not in line


@pytest.mark.parametrize(("power", "method"), [(1, "none"), (3, "isotonic")])
def test_a_model_quality_baseline_says_whether_it_kept_the_calibration(tmp_path, capsys, power, method):
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=400)
    labels = (rng.uniform(size=400) < scores ** power).astype(int)  # power 3: the scores overstate the positives
    (tmp_path / "reference.csv").write_text("score,label\n" + "".join(
        f"{s:.4f},{y}\n" for s, y in zip(scores, labels, strict=True)))
    assert analyzer(["baseline", "--type", "model-quality", "--dataset", str(tmp_path / "reference.csv"),
                     "--problem-type", "BinaryClassification", "--probability-attribute", "score",
                     "--ground-truth-attribute", "label", "--probability-threshold", "0.5",
                     "--output", str(tmp_path / "b")]) == 0
    (note,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: calibration:")]
    block = json.loads((tmp_path / "b" / "constraints.json").read_text())[
        "cdk_model_monitor_performance_estimation"]["calibration"]
    assert block["method"] == method
    raw = np.mean((np.round(scores, 4) - labels) ** 2)  # the raw scores' Brier score, as written to the dataset
    assert block["cross_fitted_brier_score"]["raw"] == pytest.approx(raw, rel=1e-12)
    calibrated = block["cross_fitted_brier_score"]["calibrated"]
    if method == "isotonic":
        assert note == f"note: calibration: isotonic (cross-fitted Brier {calibrated:.3f} vs {raw:.3f} raw)"
    else:
        assert note == ("note: calibration: none: raw scores are calibrated as well (cross-fitted Brier "
                        f"{raw:.3f} raw vs {calibrated:.3f} isotonic)")
