"""The Spark runner of bias drift against the local engine on the same window, at several partitionings.

Each split's records give their values and type evidence on its executor (CSV requests as text cells, JSON ones value
by value); the driver types the splits by the merged evidence (the whole window's records where that does not cover
the window: rows of different widths, a record the local engine refuses) and plans; the group
counts and FlipTest's queries are split over the partitions (``SparkBiasRunner``), which gives the same numbers for
any number of partitions, so every field is identical: the analysis, the join's counts, the violations and the
metric lines.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from demo import data
from model_monitor_analyzer import cli
from model_monitor_analyzer.checks import bias_posttraining as post
from model_monitor_analyzer.checks.bias import analyze_bias, placed_metrics, plan_bias
from model_monitor_analyzer.monitors import bias
from model_monitor_analyzer.monitors.bias.config import read_analysis_config
from model_monitor_analyzer.monitors.bias.run import _window_records
from model_monitor_analyzer.monitors.bias.window_records import LabelledTable, merged_columns
from model_monitor_analyzer.spark.bias import SparkBiasRunner, SparkWindowRecords
from model_monitor_analyzer.spark.locations import HadoopFiles
from model_monitor_analyzer.spark.staging import RunFiles
from tests.analyzer.test_bias_states import ANALYSIS
from tests.analyzer.test_bias_states import _table as bias_states_table
from tests.analyzer.test_bias_summary import PLANS as SUMMARY_PLANS
from tests.analyzer.test_bias_summary import _table as summary_table
from tests.analyzer.test_bias_typing_parts import _same
from tests.conftest import REPO_ROOT

BASELINE = REPO_ROOT / "demo" / "baseline-bias"


def _argv(capture: Path, labels: Path, output: Path, *extra: str) -> list[str]:
    return ["monitor", "--type", "bias", "--analysis-config", str(BASELINE / "analysis_config.json"),
            "--baseline", str(BASELINE / "analysis.json"), "--capture", str(capture), "--ground-truth", str(labels),
            "--probability-attribute", "0", "--start", "2026-11-25T09:00:00Z", "--end", "2026-11-25T10:00:00Z",
            "--ground-truth-lookback", "PT1H", "--metric-time", "2026-11-25T10:00:00Z", "--output", str(output),
            "--quiet", *extra]


def _documents(folder: Path) -> dict[str, object]:
    found: dict[str, object] = {name: json.loads((folder / name).read_text())
                                for name in ("analysis.json", "constraint_violations.json")}
    (lines,) = (folder / "metrics").glob("*.jsonl")
    found["metrics"] = lines.read_text()
    return found


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    """Two demo hours, the first hour's labels uploaded an hour late, and the local engine's run of the window."""
    root = tmp_path_factory.mktemp("bias-window")
    hours = data.demo_hours(datetime(2026, 11, 25, 8))[:2]
    capture = data.write_capture(root / "capture", hours, ground_truth=root / "gt")
    shutil.move(root / "gt/2026/11/25/08/labels-0.jsonl", root / "gt/2026/11/25/09/labels-0.jsonl")
    argv = _argv(capture, root / "gt", root / "local")
    outcome = bias.run_monitor(bias.monitor_request(cli.build_parser("bias").parse_args(argv)))
    return capture, root / "gt", _documents(root / "local"), outcome.summary


@pytest.mark.parametrize("split_bytes", [None, 32 << 10])
def test_spark_analyses_a_window_as_the_local_engine_does(spark, split_files, window, split_bytes, tmp_path):
    capture, labels, local, summary = window
    with split_files(split_bytes):
        cli.main(_argv(capture, labels, tmp_path / "spark", "--engine", "spark"))
    assert _documents(tmp_path / "spark") == local
    assert json.loads((tmp_path / "spark" / "outcome.json").read_text())["summary"] == json.loads(json.dumps(summary))
    assert summary["matched"] == 1180 and summary["labels_without_capture"] == 0


@pytest.mark.parametrize("split_bytes", [None, 64 << 10, 16 << 10])
def test_the_splits_typed_by_their_merged_evidence_are_the_whole_windows_columns(spark, split_files, window,
                                                                                 split_bytes):
    """The CSV window is typed in parts (no record comes back to the driver): the table equals ``merged_columns`` of
    the local engine's records, column by column, type and value, however many splits the captures make."""
    capture, labels, _, _ = window
    request = bias.monitor_request(cli.build_parser("bias").parse_args(_argv(capture, labels, Path("unused"))))
    records, join = _window_records(request)
    whole = merged_columns(records, read_analysis_config(request.analysis_config), features_attribute=None,
                           inference_attribute=None, probability_attribute="0", probability_threshold=None)
    with split_files(split_bytes), RunFiles(files=HadoopFiles(spark)) as staged:
        table, spark_join = SparkWindowRecords(HadoopFiles(spark), staged)(request)
    assert isinstance(table, LabelledTable)
    assert (table.label, table.predicted_label, list(table.columns)) == \
        (whole.label, whole.predicted_label, list(whole.columns))
    for name, column in whole.columns.items():
        _same(table.columns[name], column)
    assert {column.dtype.kind for column in whole.columns.values()} >= {"i", "f", "O"}
    assert spark_join["matched"] == join["matched"] == len(records)


def _json_requests(capture: Path, root: Path, *, every_file: bool = False) -> Path:
    """The window's captures with the first file's requests (or every file's) sent as JSON rows (numbers as JSON
    numbers); with ``every_file``, three requests of the last file carry a rare value each (a number as text, a
    null, a word): their columns' types are decided by one split's evidence."""
    copy = root / "capture"
    shutil.copytree(capture, copy)
    files = sorted(copy.rglob("*.jsonl"))
    for file in files if every_file else files[:1]:
        lines = []
        for line in file.read_text().splitlines():
            record = json.loads(line)
            request = record["captureData"]["endpointInput"]
            values = [json.loads(cell) if cell.lstrip("-").replace(".", "", 1).isdigit() else cell
                      for cell in request["data"].split(",")]
            if every_file and file == files[-1] and len(lines) in (5, 6, 7):
                column = {5: 4, 6: 1, 7: 2}[len(lines)]  # intl_calls as text, day_minutes null, eve_minutes a word
                values[column] = {5: str(values[column]), 6: None, 7: "unknown"}[len(lines)]
            request.update(data=json.dumps([values]), encoding="JSON", observedContentType="application/json")
            lines.append(json.dumps(record))
        file.write_text("\n".join(lines) + "\n")
    return copy


@pytest.mark.parametrize(("every_file", "split_bytes"), [(False, 16 << 10), (True, None), (True, 12 << 10)])
def test_a_window_of_json_requests_is_typed_in_parts_as_the_local_engine_types_it(spark, split_files, window,
                                                                                 every_file, split_bytes, tmp_path):
    """JSON requests (every file's, or the first file's beside CSV ones) are typed in parts too: each split's values
    and their evidence, merged on the driver, give the whole window's ``merged_columns``, column by column, type
    and value, however many splits the captures make; no record comes back to the driver."""
    capture, labels, _, _ = window
    mixed = _json_requests(capture, tmp_path, every_file=every_file)
    request = bias.monitor_request(cli.build_parser("bias").parse_args(_argv(mixed, labels, tmp_path / "unused")))
    records, join = _window_records(request)
    whole = merged_columns(records, read_analysis_config(request.analysis_config), features_attribute=None,
                           inference_attribute=None, probability_attribute="0", probability_threshold=None)
    with split_files(split_bytes), RunFiles(files=HadoopFiles(spark)) as staged:
        table, spark_join = SparkWindowRecords(HadoopFiles(spark), staged)(request)
    assert isinstance(table, LabelledTable)
    assert (table.label, table.predicted_label, list(table.columns)) == \
        (whole.label, whole.predicted_label, list(whole.columns))
    for name, column in whole.columns.items():
        _same(table.columns[name], column)
    kinds = {name: column.dtype.kind for name, column in whole.columns.items()}
    assert set(kinds.values()) >= {"i", "f", "O"}
    if every_file:  # the rare values decided their columns' types
        assert (kinds["intl_calls"], kinds["day_minutes"], kinds["eve_minutes"]) == ("i", "f", "O")
    assert spark_join["matched"] == join["matched"] == len(records)


@pytest.mark.parametrize("split_bytes", [None, 32 << 10])
def test_a_window_mixing_csv_and_json_requests_is_analysed_as_the_local_engine_does(spark, split_files, window,
                                                                                  split_bytes, tmp_path):
    capture, labels, _, _ = window
    mixed = _json_requests(capture, tmp_path)
    bias.run_monitor(bias.monitor_request(cli.build_parser("bias").parse_args(
        _argv(mixed, labels, tmp_path / "local"))))
    with split_files(split_bytes):
        assert cli.main(_argv(mixed, labels, tmp_path / "spark", "--engine", "spark")) == 0
    assert _documents(tmp_path / "spark") == _documents(tmp_path / "local")


def test_spark_refuses_merged_records(spark, window, tmp_path, capsys):
    capture = window[0]
    assert cli.main(["monitor", "--type", "bias", "--engine", "spark", "--analysis-config",
                     str(BASELINE / "analysis_config.json"), "--merged", str(capture), "--output",
                     str(tmp_path / "m")]) == 2
    assert "joins --capture with --ground-truth only" in capsys.readouterr().err


def _table(seed: int) -> dict[str, np.ndarray]:
    """``test_bias_states``' table, with a feature of few values: ties among the neighbours' distances."""
    table = bias_states_table(seed)
    table["x1"] = np.random.default_rng(seed).integers(0, 4, len(table["x1"])).astype(np.float64)
    return table


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_counts_and_flip_test_split_over_partitions_equal_the_local_engine(spark, partitions):
    table = _table(partitions)
    local = analyze_bias(table, **ANALYSIS)
    on_spark = analyze_bias(table, **ANALYSIS, runner=SparkBiasRunner(spark, partitions=partitions))
    assert on_spark == local
    assert on_spark.state.to_dict() == local.state.to_dict()
    flip_tests = [m.metric.value for m in placed_metrics(on_spark) if m.metric.name == "FT"]
    assert len([value for value in flip_tests if value is not None]) == 4  # F, M, X of sex and F again: computed
    # the flips of each part add up to those of the whole: group d queried part by part against a's tree
    features = np.column_stack([table["x0"], table["x1"], table["age"]])
    facet, predicted = table["sex"] == "M", table["p"].astype(bool)
    runner = SparkBiasRunner(spark, partitions=partitions)
    k = post.flip_test_neighbours(int((~facet).sum()))
    assert runner.flip_counts(features[~facet], predicted[~facet], features[facet], predicted[facet], k) == \
        post.flip_counts(features[~facet], predicted[~facet], features[facet], predicted[facet], k)


def test_more_partitions_than_rows_count_every_row_once(spark):
    table = {name: values[:5] for name, values in _table(1).items()}
    assert analyze_bias(table, **ANALYSIS, runner=SparkBiasRunner(spark, partitions=9)).state.to_dict() == \
        analyze_bias(table, **ANALYSIS).state.to_dict()


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_the_plan_from_summaries_on_executors_equals_the_whole_columns_plan(spark, partitions):
    """Each partition summarises its slice (two passes: present values counted, then distinct values capped at what the
    5 % rule needs) and flags its rows; merged on the driver they plan as the whole columns do: the kinds, the groups
    of a value-less integer facet in first-seen order, a continuous label's maximum, the problems."""
    table = summary_table()
    runner = SparkBiasRunner(spark, partitions=partitions)
    for config in SUMMARY_PLANS.values():
        assert plan_bias(table, **config, runner=runner) == plan_bias(table, **config)
