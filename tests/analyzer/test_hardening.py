"""Careless input gets one line and exit 2, never a silently wrong result or an overwritten input."""

from __future__ import annotations

import hashlib
import json

import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp
from model_monitor_analyzer.jobs.requests import checked_number
from model_monitor_analyzer.report.documents import DocumentKind, document_kind


@pytest.fixture()
def baseline(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("age,city\n" + "".join(f"{20 + i % 50},{'ab'[i % 2]}\n" for i in range(200)))
    out = tmp_path / "baseline"
    assert main(["baseline", "--dataset", str(data), "--output", str(out), "--quiet"]) == 0
    return out


def _capture(folder, when="2024-01-01T10:15:00Z", rows=50):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"captureData": {"endpointInput": {"data": f"{30 + i % 5},a", "encoding": "CSV"}},
                         "eventMetadata": {"inferenceTime": when}}) for i in range(rows)]
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def _monitor(capture, statistics, constraints, output, *extra):
    return main(["monitor", "--capture", str(capture), "--statistics", str(statistics), "--constraints", str(constraints),
                 "--output", str(output), "--quiet", "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z",
                 *extra])


def _one_error_line(capsys):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def test_swapped_statistics_and_constraints_are_refused_saying_which_is_which(tmp_path, baseline, capsys):
    code = _monitor(_capture(tmp_path / "cap"), baseline / "constraints.json", baseline / "statistics.json", tmp_path / "o")
    assert code == 2
    line = _one_error_line(capsys)
    assert "--constraints expects the data-quality constraints" in line and "pass it with --type data-quality --statistics" in line


def test_output_into_the_baseline_folder_is_refused_and_the_baseline_is_untouched(tmp_path, baseline, capsys):
    before = hashlib.sha256((baseline / "statistics.json").read_bytes()).hexdigest()
    code = _monitor(_capture(tmp_path / "cap"), baseline / "statistics.json", baseline / "constraints.json", baseline)
    assert code == 2 and "would overwrite the input" in _one_error_line(capsys)
    assert hashlib.sha256((baseline / "statistics.json").read_bytes()).hexdigest() == before


def test_output_inside_the_dataset_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n2\n")
    assert main(["baseline", "--dataset", str(folder), "--output", str(folder / "out"), "--quiet"]) == 2
    assert "lies inside the input folder" in _one_error_line(capsys)


@pytest.mark.parametrize("ratio", ["nan", "inf", "5", "-1"])
def test_a_bad_record_ratio_outside_zero_to_one_is_refused(tmp_path, baseline, capsys, ratio):
    code = _monitor(_capture(tmp_path / "cap"), baseline / "statistics.json", baseline / "constraints.json",
                    tmp_path / "o", "--max-bad-record-ratio", ratio)
    assert code == 2 and "give a number from 0 to 1" in _one_error_line(capsys)


def test_a_window_that_ends_before_it_starts_is_refused(tmp_path, baseline, capsys):
    code = main(["monitor", "--capture", str(_capture(tmp_path / "cap")), "--statistics", str(baseline / "statistics.json"),
                 "--constraints", str(baseline / "constraints.json"), "--output", str(tmp_path / "o"), "--quiet",
                 "--start", "2024-01-01T12:00:00Z", "--end", "2024-01-01T11:00:00Z"])
    assert code == 2 and "give a start earlier than the end" in _one_error_line(capsys)


@pytest.mark.parametrize("output", ["file", "missing-parent"])
def test_an_output_that_cannot_be_written_is_one_line(tmp_path, capsys, output):
    data = tmp_path / "train.csv"
    data.write_text("x\n1\n")
    target = data if output == "file" else tmp_path / "nope.txt" / "sub"
    if output == "missing-parent":
        (tmp_path / "nope.txt").write_text("a file where a folder should be")
    assert main(["baseline", "--dataset", str(data), "--output", str(target), "--quiet"]) == 2
    _one_error_line(capsys)


def test_impossible_capture_times_are_bad_records_not_counted_in_the_window(tmp_path, baseline):
    capture = _capture(tmp_path / "cap", when="2024-01-01T10:99:99Z", rows=5)
    with (capture / "a.jsonl").open("a") as handle:
        for i in range(45):
            handle.write(json.dumps({"captureData": {"endpointInput": {"data": f"{i},b", "encoding": "CSV"}},
                                     "eventMetadata": {"inferenceTime": "2024-01-01T10:20:00Z"}}) + "\n")
    assert _monitor(capture, baseline / "statistics.json", baseline / "constraints.json", tmp_path / "o") == 0
    statistics = json.loads((tmp_path / "o" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 45


def test_a_time_of_the_capture_shape_with_impossible_fields_is_not_compared_as_text():
    window = TimeWindow(start=parse_timestamp("2024-01-01T10:00:00Z"), end=parse_timestamp("2024-01-01T11:00:00Z"))
    assert window.contains_text("2024-01-01T10:30:00Z")
    with pytest.raises(ValueError):
        window.contains_text("2024-01-01T10:99:99Z")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.1, 1.5])
def test_probabilities_must_be_finite_and_between_zero_and_one(value):
    with pytest.raises(AnalyzerInputError, match="give a number from 0 to 1"):
        checked_number(value, name="--probability-threshold")


def test_real_sagemaker_documents_are_recognised_by_their_content(reference_examples):
    expected = {
        "statistics.json": {DocumentKind.DATA_QUALITY_STATISTICS, DocumentKind.MODEL_QUALITY_STATISTICS},
        "constraints.json": {DocumentKind.DATA_QUALITY_CONSTRAINTS, DocumentKind.MODEL_QUALITY_CONSTRAINTS},
        "analysis.json": {DocumentKind.BIAS_ANALYSIS},
        "analysis_config.json": {DocumentKind.BIAS_ANALYSIS_CONFIG},
    }
    seen = 0
    for name, kinds in expected.items():
        for path in reference_examples.rglob(name):
            document = json.loads(path.read_text())
            if isinstance(document, dict) and "explanations" not in document:  # explainability: not ours to read
                assert document_kind(document) in kinds, path
                seen += 1
    assert seen >= 8


def test_bias_and_model_quality_inputs_given_in_the_wrong_place_say_what_they_are(tmp_path, reference_examples):
    from model_monitor_analyzer.checks import model_quality as mq
    from model_monitor_analyzer.monitors.bias.config import read_analysis_config
    from model_monitor_analyzer.monitors.model_quality.run import read_constraints
    from model_monitor_analyzer.report.bias import read_analysis

    statistics = next(reference_examples.rglob("statistics.json"))
    analysis = next(p for p in reference_examples.rglob("analysis.json") if "explanations" not in p.read_text())
    with pytest.raises(AnalyzerInputError, match="--baseline expects the bias analysis"):
        read_analysis(statistics)
    with pytest.raises(AnalyzerInputError, match="--analysis-config expects the bias analysis config"):
        read_analysis_config(analysis)
    with pytest.raises(AnalyzerInputError, match="--constraints expects the model-quality constraints"):
        read_constraints(analysis, mq.ProblemType.BINARY_CLASSIFICATION)


def _bias_files(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("age,sex,y,score\n" + "".join(f"{20 + i % 50},{'FM'[i % 2]},{i % 2},{(i % 7) / 7}\n" for i in range(200)))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"dataset_type": "text/csv", "label": "y", "label_values_or_threshold": [1],
                                  "predicted_label": "score", "probability_threshold": 0.5,
                                  "facet": [{"name_or_index": "sex"}]}))
    return data, config


def test_a_corrupt_bias_baseline_is_refused_even_when_the_window_is_empty(tmp_path, capsys):
    data, config = _bias_files(tmp_path)
    assert main(["baseline", "--type", "bias", "--analysis-config", str(config), "--dataset", str(data),
                 "--output", str(tmp_path / "baseline"), "--quiet"]) == 0  # fmt: skip
    (tmp_path / "baseline" / "analysis.json").write_text("{corrupt")
    (tmp_path / "capture").mkdir()
    (tmp_path / "labels").mkdir()
    capsys.readouterr()
    assert main(["monitor", "--type", "bias", "--analysis-config", str(config), "--capture", str(tmp_path / "capture"),
                 "--ground-truth", str(tmp_path / "labels"), "--baseline", str(tmp_path / "baseline" / "analysis.json"),
                 "--output", str(tmp_path / "window"), "--quiet"]) == 2  # fmt: skip
    assert "baseline analysis.json is not valid JSON" in _one_error_line(capsys)
    assert not (tmp_path / "window").exists()


@pytest.mark.parametrize(("flag", "value"), [("--probability-threshold", "nan"), ("--probability-threshold", "1.5"),
                                             ("--drift-tolerance", "nan"), ("--drift-tolerance", "-1.0")])
def test_bias_numbers_out_of_range_are_refused_naming_the_option(tmp_path, capsys, flag, value):
    data, config = _bias_files(tmp_path)
    assert main(["monitor", "--type", "bias", "--analysis-config", str(config), "--dataset", str(data),
                 "--output", str(tmp_path / "window"), "--quiet", flag, value]) == 2  # fmt: skip
    assert _one_error_line(capsys).startswith(f"error: {flag} {value}: give")


def test_a_probability_threshold_out_of_range_in_the_analysis_config_is_refused(tmp_path, capsys):
    data, config = _bias_files(tmp_path)
    config.write_text(config.read_text().replace('"probability_threshold": 0.5', '"probability_threshold": NaN'))
    assert main(["baseline", "--type", "bias", "--analysis-config", str(config), "--dataset", str(data),
                 "--output", str(tmp_path / "baseline"), "--quiet"]) == 2  # fmt: skip
    assert "must be a number from 0 to 1" in _one_error_line(capsys)


@pytest.mark.parametrize("which", ["--analysis-config", "--baseline"])
def test_a_folder_given_as_a_bias_document_is_one_line(tmp_path, capsys, which):
    data, config = _bias_files(tmp_path)
    (tmp_path / "folder").mkdir()
    documents = {"--analysis-config": str(config), which: str(tmp_path / "folder")}  # a folder where a file goes
    argv = ["monitor", "--type", "bias", "--dataset", str(data), "--output", str(tmp_path / "window"), "--quiet"]
    assert main([*argv, *(part for item in documents.items() for part in item)]) == 2
    assert "Is a directory" in _one_error_line(capsys)


def test_a_clarify_analysis_with_bare_infinity_is_read_as_python_wrote_it(tmp_path, reference_examples):
    from model_monitor_analyzer.report.bias import read_analysis

    source = next(p for p in reference_examples.rglob("analysis.json") if "explanations" not in p.read_text())
    document = json.loads(source.read_text())
    metric = document["post_training_bias_metrics"]["facets"]
    first = next(iter(metric.values()))[0]["metrics"][0]
    first["value"] = float("inf")
    written = tmp_path / "analysis.json"
    written.write_text(json.dumps(document))  # Python's json writes a bare Infinity, as Clarify does
    assert "Infinity" in written.read_text()
    values = [metric.value for _, result in read_analysis(written).stages() for facet in result.facets
              for value in facet.values for metric in value.metrics]
    assert float("inf") in values


@pytest.mark.parametrize("value", ['"nan"', "1e999", "-1", '"x"'])
def test_a_drift_threshold_override_that_is_no_threshold_is_refused(tmp_path, baseline, capsys, value):
    overrides = '{"age": {"distribution_constraints": {"comparison_threshold": ' + value + "}}}"
    code = _monitor(_capture(tmp_path / "cap"), baseline / "statistics.json", baseline / "constraints.json",
                    tmp_path / "o", "--feature-overrides", overrides)
    assert code == 2 and "comparison_threshold must be a finite number of at least 0" in _one_error_line(capsys)


@pytest.mark.parametrize(("key", "value"), [("comparison_threshold", -5), ("datatype_check_threshold", 1.5)])
def test_a_negative_or_out_of_range_threshold_in_constraints_is_refused(tmp_path, baseline, capsys, key, value):
    document = json.loads((baseline / "constraints.json").read_text())
    config = document.setdefault("monitoring_config", {})
    (config.setdefault("distribution_constraints", {}) if key == "comparison_threshold" else config)[key] = value
    (tmp_path / "c.json").write_text(json.dumps(document))
    code = _monitor(_capture(tmp_path / "cap"), baseline / "statistics.json", tmp_path / "c.json", tmp_path / "o")
    assert code == 2 and f"monitoring_config.{key} must be" in _one_error_line(capsys)


def test_numbers_beyond_float64_are_present_but_stay_out_of_the_numeric_statistics(tmp_path):
    import warnings

    import numpy as np

    data = tmp_path / "train.csv"
    data.write_text("x\n1.5\n1e309\n2.5\n-1e400\n3.25\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning leaks to the user
        assert main(["baseline", "--dataset", str(data), "--output", str(tmp_path / "b"), "--quiet"]) == 0
    feature = json.loads((tmp_path / "b" / "statistics.json").read_text())["features"][0]
    numbers = feature["numerical_statistics"]
    assert feature["inferred_type"] == "Fractional" and numbers["common"]["num_present"] == 5
    assert numbers["mean"] == pytest.approx(np.mean([1.5, 2.5, 3.25])) and numbers["max"] == 3.25
    assert all(bucket["count"] >= 0 for bucket in numbers["distribution"]["kll"]["buckets"])
    from model_monitor_analyzer.report.statistics import statistics_problem  # the monitor reads it back

    assert statistics_problem(json.loads((tmp_path / "b" / "statistics.json").read_text())) is None


def _bias_baseline_and_config(tmp_path, facets):
    data, config = _bias_files(tmp_path)
    assert main(["baseline", "--type", "bias", "--analysis-config", str(config), "--dataset", str(data),
                 "--output", str(tmp_path / "baseline"), "--quiet"]) == 0  # fmt: skip
    window_config = tmp_path / "window-config.json"
    document = json.loads(config.read_text())
    window_config.write_text(json.dumps({**document, "facet": facets}))
    return data, window_config


def _bias_window(tmp_path, data, config):
    return main(["monitor", "--type", "bias", "--analysis-config", str(config), "--dataset", str(data),
                 "--baseline", str(tmp_path / "baseline" / "analysis.json"), "--output", str(tmp_path / "window"),
                 "--quiet"])  # fmt: skip


def test_a_bias_window_sharing_no_facet_group_with_its_baseline_is_refused_not_passed(tmp_path, capsys):
    data, config = _bias_baseline_and_config(tmp_path, [{"name_or_index": "age", "value_or_threshold": [40]}])
    capsys.readouterr()
    assert _bias_window(tmp_path, data, config) == 2
    line = _one_error_line(capsys)
    assert "the baseline has none of this window's facet groups (age=" in line and "nothing could be compared" in line
    assert not (tmp_path / "window").exists()


def test_a_bias_window_with_an_extra_facet_checks_the_shared_ones_and_names_the_rest(tmp_path, capsys):
    data, config = _bias_baseline_and_config(
        tmp_path, [{"name_or_index": "sex"}, {"name_or_index": "age", "value_or_threshold": [40]}])
    capsys.readouterr()
    assert _bias_window(tmp_path, data, config) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert any("the baseline has no metrics for age=" in note for note in notes)
    assert not any("sex=" in note for note in notes)
