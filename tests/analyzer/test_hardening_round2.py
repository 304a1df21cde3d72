"""Second hardening round: each case a hostile or careless input found, named after it."""

from __future__ import annotations

import pytest

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.problems import InputProblems


def _bad(problems: InputProblems, count: int) -> None:
    for line in range(count):
        problems.record_bad("capture.jsonl", line + 1, "not a JSON record")


def test_all_records_bad_with_a_tolerance_of_one_says_none_could_be_read():
    problems = InputProblems(max_bad_record_ratio=1.0)
    _bad(problems, 50)
    with pytest.raises(AnalyzerInputError) as raised:
        problems.check()
    assert "none of the 50 records could be read" in str(raised.value)
    assert "more than the tolerated" not in str(raised.value)


@pytest.mark.parametrize(("ratio", "shown"), [(0.1, "10%"), (0.001, "0.1%"), (0.125, "12.5%")])
def test_the_tolerance_is_never_shown_rounded_onto_the_observed_share(ratio, shown):
    problems = InputProblems(max_bad_record_ratio=ratio)
    problems.record_good(999)
    _bad(problems, 200)
    with pytest.raises(AnalyzerInputError) as raised:
        problems.check()
    assert f"more than the tolerated {shown}" in str(raised.value)


@pytest.mark.parametrize("when", [1704104100, 1704104100.5, ["2024-01-01T10:15:00Z"]])
def test_a_numeric_inference_time_is_counted_as_what_it_is_not_as_missing(tmp_path, when):
    import json

    from model_monitor_analyzer.io.capture import read_capture_batches
    from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp

    lines = [{"captureData": {"endpointInput": {"data": "1,a", "encoding": "CSV"}},
              "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}] * 9
    lines.append({"captureData": {"endpointInput": {"data": "1,a", "encoding": "CSV"}},
                  "eventMetadata": {"inferenceTime": when}})
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    window = TimeWindow(start=parse_timestamp("2024-01-01T10:00:00Z"), end=parse_timestamp("2024-01-01T11:00:00Z"))
    problems = InputProblems()
    assert sum(b.num_rows for b in read_capture_batches(tmp_path, window=window, problems=problems)) == 9
    [problem] = problems.examples
    assert problem.line == 10 and f"inferenceTime {when!r} is not a time text" in problem.problem
    assert "has no" not in problem.problem


# -- CSV headers as people write them ---------------------------------------------------------------


def _baseline(tmp_path, data: bytes, capsys):
    from model_monitor_analyzer.cli import main

    (tmp_path / "train.csv").write_bytes(data)
    code = main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(tmp_path / "out"), "--quiet"])
    return code, capsys.readouterr().err


def _features(tmp_path):
    import json

    return [f["name"] for f in json.loads((tmp_path / "out" / "statistics.json").read_text())["features"]]


def test_a_header_with_a_leading_space_keeps_it_as_pandas_and_spark_do(tmp_path, capsys):
    code, _ = _baseline(tmp_path, b" lead space,b\n1,2\n3,4\n", capsys)
    assert code == 0 and _features(tmp_path) == [" lead space", "b"]


def test_a_utf16_csv_is_refused_saying_to_save_it_as_utf8(tmp_path, capsys):
    code, err = _baseline(tmp_path, "a,b\n1,2\n3,4\n".encode("utf-16"), capsys)
    assert code == 2 and "UTF-16" in err and "save it as UTF-8" in err
    assert not (tmp_path / "out" / "statistics.json").exists()


def test_a_latin1_header_is_refused_not_turned_into_replacement_characters(tmp_path, capsys):
    code, err = _baseline(tmp_path, "café,b\n1,2\n3,4\n".encode("latin-1"), capsys)
    assert code == 2 and "not UTF-8 text" in err and "\ufffd" not in err


def test_a_quoted_line_break_in_the_header_is_no_phantom_bad_record(tmp_path, capsys):
    import json

    code, err = _baseline(tmp_path, b'"first\nname",b\n1,2\n3,4\n', capsys)
    assert code == 0, err
    assert _features(tmp_path) == ["first\nname", "b"]
    assert json.loads((tmp_path / "out" / "statistics.json").read_text())["dataset"]["item_count"] == 2
    assert "malformed" not in err and "bad" not in err


@pytest.mark.parametrize("rows", [3, 400_000])
def test_a_header_quote_never_closed_is_one_error_line(tmp_path, capsys, rows):
    code, err = _baseline(tmp_path, b'"a,b\n' + b"1,2\n" * rows, capsys)
    assert code == 2 and "never closes" in err and len(err.strip().splitlines()) == 1


# -- values at the edges of their types ----------------------------------------------------------------


def _statistics(tmp_path, name: str, capsys):
    import json

    from model_monitor_analyzer.cli import main

    code = main(["baseline", "--dataset", str(tmp_path / name), "--output", str(tmp_path / f"out-{name}"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    document = json.loads((tmp_path / f"out-{name}" / "statistics.json").read_text())
    return {f["name"]: f for f in document["features"]}, err


def test_a_parquet_uint64_at_its_maximum_is_profiled(tmp_path, capsys):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    values = [2**64 - 1, 1, 2]
    pq.write_table(pa.table({"u": pa.array(values, pa.uint64())}), tmp_path / "u.parquet")
    features, _ = _statistics(tmp_path, "u.parquet", capsys)
    numbers = features["u"]["numerical_statistics"]
    assert features["u"]["inferred_type"] == "Integral"
    assert numbers["max"] == float(2**64 - 1) and numbers["mean"] == np.mean(np.array(values, dtype=np.float64))


def test_a_parquet_binary_column_of_raw_bytes_is_profiled_as_strings_with_a_note(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    column = pa.array([b"\xff\xfe\x00\x81", b"ab", b"ab", None], pa.binary())
    pq.write_table(pa.table({"b": column}), tmp_path / "b.parquet")
    features, err = _statistics(tmp_path, "b.parquet", capsys)
    common = features["b"]["string_statistics"]["common"]
    assert features["b"]["inferred_type"] == "String" and common == {"num_present": 3, "num_missing": 1}
    assert "column 'b' holds bytes that are not UTF-8 text" in err


def test_infinities_are_present_fractional_values_in_parquet_and_csv_alike(tmp_path, capsys):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    values = [float("inf"), -float("inf"), 1.0, 2.5, float("nan")]
    pq.write_table(pa.table({"f": values, "k": list(range(5))}), tmp_path / "f.parquet")
    # as DataFrame.to_csv writes them: inf, -inf, and nothing for NaN
    (tmp_path / "f.csv").write_text("f,k\n" + "".join(f"{v if v == v else ''},{k}\n" for k, v in enumerate(values)))
    for name in ("f.parquet", "f.csv"):
        features, err = _statistics(tmp_path, name, capsys)
        assert "column 'f': 2 of its 4 values are not finite numbers" in err, name  # said, never silently
        numbers = features["f"]["numerical_statistics"]
        assert features["f"]["inferred_type"] == "Fractional", name
        assert numbers["common"] == {"num_present": 4, "num_missing": 1}, name
        assert (numbers["mean"], numbers["min"], numbers["max"]) == (np.mean([1.0, 2.5]), 1.0, 2.5), name


# -- statistics and constraints of different baselines -------------------------------------------------


@pytest.fixture()
def drifted(tmp_path):
    """A baseline of a, b and a window where b has drifted far."""
    import json

    from model_monitor_analyzer.cli import main

    (tmp_path / "train.csv").write_text("a,b\n" + "".join(f"{i % 7},{i % 11}\n" for i in range(500)))
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(tmp_path / "base"), "--quiet"]) == 0
    capture = tmp_path / "cap"
    capture.mkdir()
    (capture / "a.jsonl").write_text("".join(
        json.dumps({"captureData": {"endpointInput": {"data": f"{i % 7},{100 + i % 11}", "encoding": "CSV"}},
                    "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) + "\n" for i in range(500)))
    return tmp_path


def _monitor_with(tmp_path, statistics, constraints, capsys):
    import json

    from model_monitor_analyzer.cli import main

    (tmp_path / "s.json").write_text(json.dumps(statistics))
    (tmp_path / "c.json").write_text(json.dumps(constraints))
    code = main(["monitor", "--capture", str(tmp_path / "cap"), "--statistics", str(tmp_path / "s.json"),
                 "--constraints", str(tmp_path / "c.json"), "--output", str(tmp_path / "out"), "--quiet",
                 "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("change", ["renamed in the constraints", "missing from the statistics"])
def test_statistics_without_a_feature_the_constraints_compare_are_refused(drifted, capsys, change):
    import json

    statistics = json.loads((drifted / "base" / "statistics.json").read_text())
    constraints = json.loads((drifted / "base" / "constraints.json").read_text())
    if change == "renamed in the constraints":
        constraints["features"][1]["name"] = "b_renamed"
    else:
        statistics["features"] = statistics["features"][:1]
    code, err = _monitor_with(drifted, statistics, constraints, capsys)
    assert code == 2 and "the baseline statistics have no feature" in err and len(err.strip().splitlines()) == 1
    assert not (drifted / "out" / "constraint_violations.json").exists()


def test_a_feature_not_compared_may_be_absent_from_the_statistics(drifted, capsys):
    import json

    statistics = json.loads((drifted / "base" / "statistics.json").read_text())
    constraints = json.loads((drifted / "base" / "constraints.json").read_text())
    statistics["features"] = statistics["features"][1:]  # 'a' gone; its comparison is off
    constraints["features"][0]["monitoring_config_overrides"] = {"distribution_constraints": {"perform_comparison": "Disabled"}}
    code, err = _monitor_with(drifted, statistics, constraints, capsys)
    assert code == 0, err
    violations = json.loads((drifted / "out" / "constraint_violations.json").read_text())["violations"]
    assert any(v["feature_name"] == "b" for v in violations)  # the drift of b is still found


def test_an_output_only_capture_against_a_three_feature_baseline_is_said(tmp_path, capsys):
    import json

    from model_monitor_analyzer.cli import main

    (tmp_path / "train.csv").write_text("a,b,c\n" + "".join(f"{i % 7},{i % 3},{i % 5}\n" for i in range(100)))
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(tmp_path / "base"), "--quiet"]) == 0
    (tmp_path / "cap").mkdir()
    (tmp_path / "cap" / "a.jsonl").write_text("".join(
        json.dumps({"captureData": {"endpointOutput": {"data": "0.7", "encoding": "CSV"}},
                    "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) + "\n" for _ in range(50)))
    capsys.readouterr()
    main(["monitor", "--capture", str(tmp_path / "cap"), "--statistics", str(tmp_path / "base" / "statistics.json"),
          "--constraints", str(tmp_path / "base" / "constraints.json"), "--output", str(tmp_path / "out"), "--quiet",
          "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"])
    err = capsys.readouterr().err
    assert "note: the capture holds only the model output (1 field(s) a record) but the baseline has 3 features" in err


@pytest.mark.parametrize("huge", ["1e308", "1e200", "-3e160"])
def test_a_regression_value_whose_square_overflows_is_refused_before_anything_is_written(tmp_path, capsys, huge):
    from model_monitor_analyzer.cli import main

    rows = "".join(f"{i % 10},{i % 10 + 0.5}\n" for i in range(200))
    (tmp_path / "reg.csv").write_text("label,pred\n" + rows + f"5,{huge}\n")
    code = main(["baseline", "--type", "model-quality", "--dataset", str(tmp_path / "reg.csv"), "--problem-type",
                 "Regression", "--inference-attribute", "pred", "--ground-truth-attribute", "label",
                 "--output", str(tmp_path / "out"), "--quiet"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and line.startswith("error: inference values reach") and "would overflow" in line
    assert not (tmp_path / "out").exists()


def test_regression_data_run_as_multiclass_is_refused_saying_what_it_may_be(tmp_path, capsys):
    from model_monitor_analyzer.cli import main

    rows = "".join(f"{i * 0.37:.2f},{i * 0.37 + 0.1:.2f}\n" for i in range(1200))
    (tmp_path / "reg.csv").write_text("label,pred\n" + rows)
    code = main(["baseline", "--type", "model-quality", "--dataset", str(tmp_path / "reg.csv"), "--problem-type",
                 "MulticlassClassification", "--inference-attribute", "pred", "--ground-truth-attribute", "label",
                 "--output", str(tmp_path / "out"), "--quiet"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "2,400 distinct labels and predictions" in line and "--problem-type Regression" in line
    assert not (tmp_path / "out").exists()


def test_one_huge_captured_value_leaves_outputs_of_ordinary_size(tmp_path, capsys):
    import json

    from model_monitor_analyzer.cli import main

    (tmp_path / "train.csv").write_text("a,b\n" + "".join(f"{i % 7},{'xy'[i % 2]}\n" for i in range(300)))
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(tmp_path / "base"), "--quiet"]) == 0
    (tmp_path / "cap").mkdir()
    huge = "z" * 2_000_000
    (tmp_path / "cap" / "a.jsonl").write_text("".join(
        json.dumps({"captureData": {"endpointInput": {"data": f"{i % 7},{huge if i == 0 else 'xy'[i % 2]}",
                                                      "encoding": "CSV"}},
                    "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) + "\n" for i in range(100)))
    code = main(["monitor", "--capture", str(tmp_path / "cap"), "--statistics", str(tmp_path / "base" / "statistics.json"),
                 "--constraints", str(tmp_path / "base" / "constraints.json"), "--output", str(tmp_path / "out"),
                 "--quiet", "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"])
    assert code == 0, capsys.readouterr().err
    for name in ("statistics.json", "constraint_violations.json", "report.html"):
        assert (tmp_path / "out" / name).stat().st_size < 100_000, name
    statistics = json.loads((tmp_path / "out" / "statistics.json").read_text())
    [b] = [f for f in statistics["features"] if f["name"] == "b"]
    assert b["string_statistics"]["common"]["num_present"] == 100
    assert any("(2,000,000 characters)" in json.dumps(bucket) for bucket in
               b["string_statistics"]["distribution"]["categorical"]["buckets"])


def test_bias_scores_with_a_word_among_them_are_refused_naming_it(tmp_path, capsys):
    import json

    from model_monitor_analyzer.cli import main

    rows = "".join(f"{i % 2},{'FM'[i % 3 == 0]},{'abc' if i == 7 else (i % 7) / 7}\n" for i in range(200))
    (tmp_path / "d.csv").write_text("y,sex,score\n" + rows)
    (tmp_path / "c.json").write_text(json.dumps({
        "dataset_type": "text/csv", "label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "sex"}],
        "predicted_label": "score", "probability_threshold": 0.5, "methods": {"post_training_bias": {"methods": "all"}}}))
    code = main(["baseline", "--type", "bias", "--analysis-config", str(tmp_path / "c.json"), "--dataset",
                 str(tmp_path / "d.csv"), "--output", str(tmp_path / "out"), "--quiet"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "1 of its 200 values are not numbers (e.g. 'abc', row 8)" in line
    assert not (tmp_path / "out" / "analysis.json").exists()


# -- reading results back ------------------------------------------------------------------------------


def _window_folder(tmp_path, files: dict[str, str]):
    folder = tmp_path / "results" / "2024" / "01" / "01" / "10"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    from model_monitor_analyzer.results import MonitoringResults

    [execution] = MonitoringResults.open(tmp_path / "results").list_executions()
    return execution


STATISTICS = '{"version": 0.0, "dataset": {"item_count": 3}, "features": []}'


def test_a_truncated_violations_file_makes_the_window_incomplete_not_a_guess(tmp_path):
    execution = _window_folder(tmp_path, {"statistics.json": STATISTICS,
                                          "constraint_violations.json": '{"violations": [{"feature_name": "a", "constr'})
    assert execution.status == "Incomplete"


def test_the_outcome_file_decides_the_status(tmp_path):
    from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE
    from model_monitor_analyzer.results import OUTCOME_FILE as READ

    assert READ == OUTCOME_FILE
    execution = _window_folder(tmp_path, {"statistics.json": STATISTICS, "constraint_violations.json": '{"violations": []}',
                                          OUTCOME_FILE: '{"status": "NoData", "message": "Completed: no data"}'})
    assert execution.status == "NoData"


def test_an_unreadable_outcome_file_makes_the_window_incomplete(tmp_path):
    execution = _window_folder(tmp_path, {"statistics.json": STATISTICS, "constraint_violations.json": '{"violations": []}',
                                          "outcome.json": '{"status": "Compl'})
    assert execution.status == "Incomplete"


@pytest.mark.parametrize(("code", "text"), [(13, "Permission denied"), (28, "No space left on device")])
def test_a_path_the_machine_refuses_is_one_error_line(tmp_path, capsys, monkeypatch, code, text):
    import pathlib

    from model_monitor_analyzer.cli import main

    (tmp_path / "train.csv").write_text("a\n1\n2\n")
    real = pathlib.Path.exists

    def refused(self, *args, **kwargs):
        if self.name == "out":
            raise OSError(code, text, str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "exists", refused)
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(tmp_path / "out"), "--quiet"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == f"error: {tmp_path / 'out'}: {text}: check the path and its permissions, or the disk"


# -- the container's job configuration -------------------------------------------------------------------


def _container_job(tmp_path, config: dict):
    import json

    root = tmp_path / "opt" / "ml"
    (root / "config").mkdir(parents=True)
    (root / "config" / "processingjobconfig.json").write_text(json.dumps(config))
    data = root / "processing" / "input" / "baseline_dataset_input"
    data.mkdir(parents=True)
    (data / "train.csv").write_text("a,b\n" + "".join(f"{i % 7},{i % 3}\n" for i in range(100)))
    return root


BASELINE_ENV = {"dataset_format": '{"csv": {"header": true}}', "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
                "output_path": "/opt/ml/processing/output"}


@pytest.mark.parametrize("value", ["ENABLED_PLEASE", "on", "Enable"])
def test_a_misspelt_publish_cloudwatch_metrics_fails_the_job_naming_it(tmp_path, value):
    from model_monitor_analyzer.contract.entrypoint import run_container

    root = _container_job(tmp_path, {"Environment": {**BASELINE_ENV, "publish_cloudwatch_metrics": value}})
    assert run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root)}) == 255
    message = (root / "output" / "message").read_text()
    assert f"publish_cloudwatch_metrics {value!r} is neither Enabled nor Disabled" in message
    assert not (root / "processing" / "output" / "statistics.json").exists()


@pytest.mark.parametrize("value", ["Enabled", "disabled", "TRUE", "0", ""])
def test_publish_cloudwatch_metrics_takes_the_usual_spellings(tmp_path, value):
    from model_monitor_analyzer.contract.entrypoint import run_container

    root = _container_job(tmp_path, {"Environment": {**BASELINE_ENV, "publish_cloudwatch_metrics": value}})
    assert run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root)}) == 0


def test_a_job_config_whose_environment_is_a_list_fails_instead_of_running_a_baseline(tmp_path):
    from model_monitor_analyzer.contract.entrypoint import run_container

    root = _container_job(tmp_path, {"Environment": [{"Name": k, "Value": v} for k, v in BASELINE_ENV.items()]})
    assert run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root)}) == 255
    assert "Environment is a JSON list" in (root / "output" / "message").read_text()
    assert not (root / "processing" / "output").exists() or not any((root / "processing" / "output").iterdir())


@pytest.mark.parametrize("header", ["sex,score,y", "Y,Sex,Score"])
def test_a_bias_header_in_another_order_or_case_than_the_configs_is_refused(tmp_path, capsys, header):
    import json

    from model_monitor_analyzer.cli import main

    columns = header.lower().split(",")
    values = {"y": lambda i: str(i % 2), "sex": lambda i: "FM"[i % 3 == 0], "score": lambda i: str((i % 7) / 7)}
    (tmp_path / "d.csv").write_text(header + "\n" + "".join(",".join(values[c](i) for c in columns) + "\n"
                                                             for i in range(200)))
    (tmp_path / "c.json").write_text(json.dumps({
        "dataset_type": "text/csv", "headers": ["y", "sex", "score"], "label": "y", "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "sex"}], "predicted_label": "score", "probability_threshold": 0.5}))
    code = main(["baseline", "--type", "bias", "--analysis-config", str(tmp_path / "c.json"), "--dataset",
                 str(tmp_path / "d.csv"), "--output", str(tmp_path / "out"), "--quiet"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and 'in another order or case than the config\'s "headers"' in line


@pytest.mark.parametrize("stray", [1, 2, 3])
def test_a_quote_never_closed_on_its_line_costs_that_line_only_and_is_counted(tmp_path, capsys, stray):
    import json

    from model_monitor_analyzer.cli import main

    lines = [f"{i % 50},{i * 0.37:.2f},plain" for i in range(10_000)]
    broken = [1_000 + 3_000 * k for k in range(stray)]
    for row in broken:
        lines[row] = f'{row % 50},{row * 0.37:.2f},"best deal'
    (tmp_path / "d.csv").write_text("age,price,note\n" + "\n".join(lines) + "\n")
    code = main(["baseline", "--dataset", str(tmp_path / "d.csv"), "--output", str(tmp_path / "out"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    statistics = json.loads((tmp_path / "out" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 10_000 - stray  # two stray quotes used to swallow the rows between


def test_a_captured_bias_score_that_is_a_word_is_one_error_line(tmp_path, capsys):
    import json

    from model_monitor_analyzer.cli import main

    (tmp_path / "c.json").write_text(json.dumps({
        "dataset_type": "text/csv", "headers": ["age", "sex", "y"], "label": "y", "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "sex"}], "probability_threshold": 0.5}))
    capture = tmp_path / "cap" / "ep" / "AllTraffic" / "2024" / "01" / "01" / "10"
    labels = tmp_path / "gt" / "2024" / "01" / "01" / "10"
    capture.mkdir(parents=True)
    labels.mkdir(parents=True)
    records, truths = [], []
    for i in range(40):
        score = "abc" if i == 7 else f"{(i % 7) / 7:.3f}"
        records.append({"captureData": {"endpointInput": {"data": f"{20 + i},{'FM'[i % 2]}", "encoding": "CSV"},
                                        "endpointOutput": {"data": score, "encoding": "CSV"}},
                        "eventMetadata": {"eventId": f"e{i}", "inferenceId": f"id-{i}",
                                          "inferenceTime": "2024-01-01T10:15:00Z"}, "eventVersion": "0"})
        truths.append({"groundTruthData": {"data": str(i % 2), "encoding": "CSV"},
                       "eventMetadata": {"eventId": f"id-{i}"}, "eventVersion": "0"})
    (capture / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (labels / "g.jsonl").write_text("".join(json.dumps(t) + "\n" for t in truths))
    code = main(["monitor", "--type", "bias", "--analysis-config", str(tmp_path / "c.json"),
                 "--capture", str(tmp_path / "cap"), "--ground-truth", str(tmp_path / "gt"),
                 "--probability-attribute", "0", "--output", str(tmp_path / "out"), "--quiet",
                 "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "is 'abc', not a score to cut at the probability threshold" in line


def test_one_cut_violations_file_leaves_the_other_windows_readable(tmp_path):
    from model_monitor_analyzer.history_command import history_windows
    from model_monitor_analyzer.results import MonitoringResults

    for hour, violations in (("10", '{"violations": []}'), ("11", '{"violations": [{"feature_name": "a", "constr')):
        folder = tmp_path / "results" / "2024" / "01" / "01" / hour
        folder.mkdir(parents=True)
        (folder / "statistics.json").write_text(STATISTICS)
        (folder / "constraint_violations.json").write_text(violations)
    results = MonitoringResults.open(tmp_path / "results")
    assert [e.status for e in results.list_executions()] == ["Completed", "Incomplete"]
    assert [e.violation_count() for e in results.list_executions()] == [0, None]
    frame = results.executions_frame()
    assert list(frame["status"]) == ["Completed", "Incomplete"]
    assert [w.violations for w in history_windows(results, tmp_path / "history.html")] == [0, None]


def test_a_failing_container_run_leaves_no_earlier_verdict_in_its_output_folder(tmp_path):
    import json

    from model_monitor_analyzer.contract.entrypoint import run_container

    root = _container_job(tmp_path, {"Environment": {**BASELINE_ENV, "publish_cloudwatch_metrics": "Disabled"}})
    output = root / "processing" / "output"
    output.mkdir(parents=True)
    (output / "outcome.json").write_text(json.dumps({"status": "Completed", "message": "Completed: earlier run"}))
    (root / "processing" / "input" / "baseline_dataset_input" / "train.csv").write_bytes("a,b\n".encode("utf-16"))
    assert run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root)}) == 255
    assert not (output / "outcome.json").exists()  # the publisher would have read the earlier run's Completed


def test_long_values_in_a_baseline_written_whole_match_the_same_values_in_a_window(tmp_path, capsys):
    import json

    from model_monitor_analyzer.cli import main

    urls = [f"https://example.com/{'x' * 280}/{i}" for i in range(5)]  # longer than the profile keeps whole
    (tmp_path / "train.csv").write_text("url,n\n" + "".join(f"{urls[i % 5]},{i}\n" for i in range(200)))
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(tmp_path / "base"), "--quiet"]) == 0
    constraints = json.loads((tmp_path / "base" / "constraints.json").read_text())
    for feature in constraints["features"]:  # as SageMaker's built-in writes them: the whole values
        if feature["name"] == "url":
            feature.setdefault("string_constraints", {})["domains"] = urls
    (tmp_path / "base" / "constraints.json").write_text(json.dumps(constraints))
    (tmp_path / "cap").mkdir()
    (tmp_path / "cap" / "a.jsonl").write_text("".join(
        json.dumps({"captureData": {"endpointInput": {"data": f"{urls[i % 5]},{i}", "encoding": "CSV"}},
                    "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) + "\n" for i in range(100)))
    code = main(["monitor", "--capture", str(tmp_path / "cap"), "--statistics", str(tmp_path / "base" / "statistics.json"),
                 "--constraints", str(tmp_path / "base" / "constraints.json"), "--output", str(tmp_path / "out"),
                 "--quiet", "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"])
    assert code == 0, capsys.readouterr().err
    violations = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())["violations"]
    assert [v for v in violations if v["feature_name"] == "url"] == []


def test_a_metric_line_without_a_finite_value_is_left_out_with_a_note(tmp_path, capsys):
    import json

    from model_monitor_analyzer.report.metrics import write_metric_lines

    lines = [{"MetricName": "feature_baseline_drift_a", "Value": 0.2},
             {"MetricName": "feature_std_dev_b", "Value": None},
             {"MetricName": "feature_sum_c", "Value": float("inf")},
             {"MetricName": "feature_data_d", "StatisticValues": {"Sum": 3.0, "SampleCount": 2.0, "Minimum": 1.0,
                                                                  "Maximum": 2.0}}]
    path = write_metric_lines(tmp_path, lines)
    written = [json.loads(line)["MetricName"] for line in path.read_text().splitlines()]
    assert written == ["feature_baseline_drift_a", "feature_data_d"]
    assert "2 metric line(s) without a finite value left out (feature_std_dev_b, feature_sum_c)" in capsys.readouterr().err


def test_a_job_config_that_is_a_list_fails_instead_of_running_a_baseline(tmp_path):
    import json

    from model_monitor_analyzer.contract.entrypoint import run_container

    root = _container_job(tmp_path, {})
    (root / "config" / "processingjobconfig.json").write_text(json.dumps([{"Environment": BASELINE_ENV}]))
    assert run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root)}) == 255
    assert "the processing job config is a JSON list" in (root / "output" / "message").read_text()


def test_a_linked_folder_in_a_capture_tree_is_named_not_skipped_in_silence(tmp_path, capsys):
    from model_monitor_analyzer.io.capture import capture_files

    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "a.jsonl").write_text("{}\n")
    (tmp_path / "cap").mkdir()
    (tmp_path / "cap" / "10").symlink_to(real, target_is_directory=True)
    assert capture_files(tmp_path / "cap") == []
    assert "10: skipped, a link to a folder, not followed" in capsys.readouterr().err


def test_control_bytes_of_a_binary_column_stay_out_of_the_report(tmp_path, capsys):
    import re

    import pyarrow as pa
    import pyarrow.parquet as pq

    column = pa.array([b"a\x00b\x01c", b"plain", b"a\x00b\x01c"] * 20, pa.binary())
    pq.write_table(pa.table({"b": column, "n": list(range(60))}), tmp_path / "b.parquet")
    _statistics(tmp_path, "b.parquet", capsys)
    page = (tmp_path / "out-b.parquet" / "report.html").read_text(encoding="utf-8")
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", page)


def test_a_column_name_with_a_line_break_is_published_under_a_printable_metric_name(tmp_path, capsys):
    import json

    from model_monitor_analyzer.cli import main
    from model_monitor_analyzer.report.metrics import cloudwatch_metric_name

    (tmp_path / "train.csv").write_text('"price\nin euros",b\n' + "".join(f"{i % 7},{i % 3}\n" for i in range(200)))
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(tmp_path / "base"), "--quiet"]) == 0
    (tmp_path / "cap").mkdir()
    (tmp_path / "cap" / "a.jsonl").write_text("".join(
        json.dumps({"captureData": {"endpointInput": {"data": f"{i % 7},{i % 3}", "encoding": "CSV"}},
                    "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) + "\n" for i in range(200)))
    assert main(["monitor", "--capture", str(tmp_path / "cap"), "--statistics", str(tmp_path / "base" / "statistics.json"),
                 "--constraints", str(tmp_path / "base" / "constraints.json"), "--output", str(tmp_path / "out"),
                 "--metrics-dir", str(tmp_path / "metrics"), "--quiet",
                 "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"]) == 0
    names = [json.loads(line)["MetricName"] for line in (tmp_path / "metrics" / "cloudwatch_metrics.jsonl").open()]
    assert cloudwatch_metric_name("feature_non_null_price\nin euros") in names
    assert all(all(32 <= ord(c) <= 126 for c in name) for name in names)
