"""Bias runs end to end: CLI, merged records, captures + ground truth, and the container entrypoint."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.contract.entrypoint import run_container
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.monitors import bias as bias_job
from model_monitor_analyzer.monitors.bias import dataset as bias_dataset
from model_monitor_analyzer.monitors.bias import values as bias_values

ADULT = "ase-model-bias-monitor-adult"
FEATURES = "instances[*].features"
PREDICTED = "predictions[*].predicted_label"


def _adult_headers(reference_examples: Path) -> list[str]:
    names = (reference_examples / ADULT / "derived" / "validation-predictions.csv").read_text().split("\n")[0]
    target, *features = names.split(",")[:15]
    return [*features, target]  # the label's header comes last, as Clarify expects for JSON


def _monitor_config(reference_examples: Path, folder: Path) -> Path:
    """The example's monitor config: headers (features, then the label), label JMESPath, facet Sex=0, group Age."""
    path = folder / "analysis_config.json"
    path.write_text(
        json.dumps(
            {
                "headers": _adult_headers(reference_examples),
                "label": "instances[*].label",
                "label_values_or_threshold": [1],
                "facet": [{"name_or_index": "Sex", "value_or_threshold": [0]}],
                "group_variable": "Age",
            }
        )
    )
    return path


def _ten_invocations(reference_examples: Path) -> list[dict]:
    """The real merged record as the monitoring run saw it: the same payload with InferenceId 0..9."""
    record = json.loads((reference_examples / ADULT / "notebook-output" / "merged-record.json").read_text())
    records = []
    for inference_id in range(10):
        copy_ = copy.deepcopy(record)
        copy_["eventMetadata"]["inferenceId"] = str(inference_id)
        copy_["eventMetadata"]["eventId"] = f"event-{inference_id}"
        records.append(copy_)
    return records


def _write_lines(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _violations(path: Path) -> dict[str, str]:
    document = json.loads(path.read_text())
    return {v["metric_name"]: v["description"] for v in document["violations"]}


def test_merged_records_give_the_real_bias_drift_violations(reference_examples, tmp_path):
    merged = _write_lines(tmp_path / "merged" / "part-00000.jsonl", _ten_invocations(reference_examples))
    code = main(
        [
            "monitor",
            "--type",
            "bias",
            "--analysis-config",
            str(_monitor_config(reference_examples, tmp_path)),
            "--merged",
            str(merged.parent),
            "--features-attribute",
            FEATURES,
            "--inference-attribute",
            PREDICTED,
            "--baseline",
            str(reference_examples / ADULT / "notebook-output" / "analysis.json"),
            "--output",
            str(tmp_path / "out"),
        ]
    )
    real = _violations(reference_examples / ADULT / "notebook-output" / "constraint_violations.json")
    ours = _violations(tmp_path / "out" / "constraint_violations.json")
    assert code == 0
    assert sorted(ours) == sorted(real)
    assert ours["TE"] == real["TE"]
    assert ours["DCA"] == real["DCA"]


def test_captures_joined_with_their_ground_truth_give_the_same_analysis_as_merged_records(
    reference_examples, tmp_path
):
    records = _ten_invocations(reference_examples)
    captures = [{k: r[k] for k in ("eventVersion", "captureData", "eventMetadata")} for r in records]
    truths = [
        {
            "groundTruthData": r["groundTruthData"],
            "eventMetadata": {"eventId": r["eventMetadata"]["inferenceId"]},
            "eventVersion": "0",
        }
        for r in records
    ]
    _write_lines(
        tmp_path / "capture" / "ep" / "AllTraffic" / "2024" / "01" / "19" / "20" / "c.jsonl", captures
    )
    _write_lines(tmp_path / "gt" / "2024" / "01" / "19" / "20" / "g.jsonl", truths)
    _write_lines(tmp_path / "merged" / "m.jsonl", records)
    config = str(_monitor_config(reference_examples, tmp_path))
    common = ["--features-attribute", FEATURES, "--inference-attribute", PREDICTED]
    main(["monitor", "--type", "bias", "--analysis-config", config, "--merged", str(tmp_path / "merged"),
          "--output", str(tmp_path / "a"), *common])  # fmt: skip
    main(["monitor", "--type", "bias", "--analysis-config", config, "--capture", str(tmp_path / "capture"),
          "--ground-truth", str(tmp_path / "gt"), "--output", str(tmp_path / "b"), *common])  # fmt: skip
    assert (tmp_path / "a" / "analysis.json").read_text() == (tmp_path / "b" / "analysis.json").read_text()


def test_a_bias_window_judges_each_inputs_bad_records_with_the_users_tolerance(reference_examples, tmp_path, capsys):
    records = _ten_invocations(reference_examples)
    captures = [{k: r[k] for k in ("eventVersion", "captureData", "eventMetadata")} for r in records]
    truths = [{"groundTruthData": r["groundTruthData"], "eventMetadata": {"eventId": r["eventMetadata"]["inferenceId"]},
               "eventVersion": "0"} for r in records]
    capture_file = tmp_path / "capture" / "ep" / "AllTraffic" / "2024" / "01" / "19" / "20" / "c.jsonl"
    _write_lines(capture_file, captures)
    with capture_file.open("a") as handle:  # 3 bad captures of 13: 23 %
        handle.write("{not json\n" * 3)
    _write_lines(tmp_path / "gt" / "2024" / "01" / "19" / "20" / "g.jsonl", truths)
    config = str(_monitor_config(reference_examples, tmp_path))
    command = ["monitor", "--type", "bias", "--analysis-config", config, "--capture", str(tmp_path / "capture"),
               "--ground-truth", str(tmp_path / "gt"), "--features-attribute", FEATURES,
               "--inference-attribute", PREDICTED, "--no-metrics"]
    assert main([*command, "--output", str(tmp_path / "strict")]) == 2
    error = capsys.readouterr().err
    assert "3 of 13 capture records are malformed" in error and "--max-bad-record-ratio" in error
    assert main([*command, "--output", str(tmp_path / "tolerant"), "--max-bad-record-ratio", "0.3"]) == 0
    assert (tmp_path / "tolerant" / "analysis.json").exists()


def test_the_container_entrypoint_runs_a_scheduled_bias_job_and_publishes_metrics(
    reference_examples, tmp_path
):
    root = tmp_path / "opt_ml"
    _write_lines(root / "processing" / "input_data" / "merged.jsonl", _ten_invocations(reference_examples))
    config = root / "processing" / "input" / "config" / "analysis_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(_monitor_config(reference_examples, tmp_path).read_text())
    baseline = root / "processing" / "baseline" / "constraints" / "analysis.json"
    baseline.parent.mkdir(parents=True)
    baseline.write_text((reference_examples / ADULT / "notebook-output" / "analysis.json").read_text())
    env = {
        "MODEL_MONITOR_OPT_ML_ROOT": str(root),
        "analysis_type": "MODEL_BIAS",
        "dataset_format": '{"sagemakerMergeJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}',
        "dataset_source": "/opt/ml/processing/input_data",
        "output_path": "/opt/ml/processing/output",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/analysis.json",
        "start_time": "2024-01-19T20:00:00Z",
        "end_time": "2024-01-19T21:00:00Z",
        "metric_time": "2024-01-19T20:00:00Z",
        "sagemaker_endpoint_name": "adult-ep",
        "sagemaker_monitoring_schedule_name": "adult-bias",
        "publish_cloudwatch_metrics": "Enabled",
        "features_attribute": FEATURES,
        "inference_attribute": PREDICTED,
    }
    assert run_container(env) == 0
    assert (root / "output" / "message").read_text().startswith("CompletedWithViolations: ")
    assert len(_violations(root / "processing" / "output" / "constraint_violations.json")) == 9
    lines = [
        json.loads(line)
        for line in (root / "output" / "metrics" / "cloudwatch" / "bias_metrics.jsonl").open()
    ]
    te = next(line for line in lines if line["MetricName"] == "bias_metric_TE")
    assert te["Value"] == 2.348543e108
    assert te["Timestamp"] == "2024-01-19T20:00:00Z"
    assert len(lines) == 21


def test_an_empty_window_reports_no_data(reference_examples, tmp_path):
    (tmp_path / "merged").mkdir()
    code = main(["monitor", "--type", "bias", "--analysis-config", str(_monitor_config(reference_examples, tmp_path)),
                 "--merged", str(tmp_path / "merged"), "--inference-attribute", PREDICTED,
                 "--output", str(tmp_path / "out")])  # fmt: skip
    assert code == 0
    assert not (tmp_path / "out" / "analysis.json").exists()


def test_a_jsonlines_dataset_of_flat_objects_with_scores_is_a_baseline(tmp_path, capsys):
    rows = [
        {"age": 20 + i % 50, "sex": "F" if i % 3 else "M", "y": i % 2, "score": (i % 7) / 7}
        for i in range(200)
    ]
    dataset = _write_lines(tmp_path / "data.jsonl", rows)
    config = tmp_path / "c.json"
    config.write_text(json.dumps({
        "dataset_type": "application/jsonlines", "label": "y", "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "sex"}], "predicted_label": "score", "probability_threshold": 0.5,
    }))  # fmt: skip
    assert main(["baseline", "--type", "bias", "--analysis-config", str(config), "--dataset", str(dataset),
                 "--output", str(tmp_path / "out")]) == 0  # fmt: skip
    document = json.loads((tmp_path / "out" / "analysis.json").read_text())
    assert [v["value_or_threshold"] for v in document["post_training_bias_metrics"]["facets"]["sex"]] == [
        "M",
        "F",
    ]
    # score > 0.5 is positive: i % 7 in (4, 5, 6)
    dppl = document["post_training_bias_metrics"]["facets"]["sex"][1]["metrics"][6]
    predicted = [r["score"] > 0.5 for r in rows]

    def share(group):
        return sum(p for p, r in zip(predicted, rows, strict=True) if group(r)) / sum(
            1 for r in rows if group(r)
        )

    assert dppl["name"] == "DPPL"
    assert dppl["value"] == pytest.approx(share(lambda r: r["sex"] != "F") - share(lambda r: r["sex"] == "F"))


def test_a_csv_whose_first_row_repeats_the_headers_is_read_once(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("y,sex\n1,F\n0,M\n")
    columns = bias_dataset.read_csv_columns([path], ["y", "sex"])
    assert columns["y"].tolist() == [1, 0]


def test_post_training_asked_for_without_predictions_is_an_input_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("y,sex\n" + "".join(f"{i % 2},{'FM'[i % 3 == 0]}\n" for i in range(100)))
    config = tmp_path / "c.json"
    config.write_text(json.dumps({
        "label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "sex"}],
        "methods": {"post_training_bias": {"methods": "all"}},
    }))  # fmt: skip
    parser = __import__("argparse").ArgumentParser()
    bias_job.add_baseline_arguments(parser)
    args = parser.parse_args(
        ["--analysis-config", str(config), "--dataset", str(path), "--output", str(tmp_path)]
    )
    with pytest.raises(AnalyzerInputError, match='set "predicted_label"'):
        bias_job.run_baseline(bias_job.baseline_request(args))


def test_typed_columns_follow_pandas_integer_float_and_text_rules():
    assert bias_values.typed_column(["1", "2"]).dtype.kind == "i"
    floats = bias_values.typed_column(["1", ""])
    assert floats.dtype.kind == "f" and math.isnan(floats[1])
    assert bias_values.typed_column(["a", "NA"]).tolist() == ["a", None]


def test_a_bias_window_without_a_baseline_says_nothing_was_compared(reference_examples, tmp_path, capsys):
    merged = _write_lines(tmp_path / "merged" / "part.jsonl", _ten_invocations(reference_examples))
    assert main(["monitor", "--type", "bias", "--analysis-config", str(_monitor_config(reference_examples, tmp_path)),
                 "--merged", str(merged.parent), "--features-attribute", FEATURES, "--inference-attribute", PREDICTED,
                 "--output", str(tmp_path / "out"), "--no-metrics"]) == 0
    assert "note: no baseline (--baseline): the window's bias metrics are computed" in capsys.readouterr().err


def test_modules_imported_ahead_are_imported_with_the_collector_back_on_and_their_objects_left_out_of_its_passes():
    """The import-ahead thread imports what the run needs later; meanwhile the garbage collector is paused, after it
    runs again, and the objects made until then are frozen (left out of its later passes)."""
    import gc
    import sys

    from model_monitor_analyzer.jobs import parallel

    name = "colorsys"  # a module no test imports: the import is done here
    sys.modules.pop(name, None)
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        parallel.import_quietly([name])
        assert name in sys.modules and gc.isenabled()
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
