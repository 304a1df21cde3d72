"""The Spark runner's bias baseline against the local engine on the same files, at several partitionings.

Each split of the dataset is read on an executor by the local run's readers and its rows come back; the driver types
them as the whole dataset's columns and plans, and the group counts and FlipTest's queries are split over the
partitions (``SparkBiasRunner``), so analysis.json and the run's summary are identical to the local engine's for any
number of splits and partitions: every metric, its value exactly, the facet groups, the standard errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from demo import data
from model_monitor_analyzer import cli
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import bias
from model_monitor_analyzer.monitors.bias import run as local_run
from model_monitor_analyzer.spark.bias import SparkBiasRunner, SparkDatasetReader
from model_monitor_analyzer.spark.locations import HadoopFiles
from model_monitor_analyzer.spark.staging import RunFiles

COLUMNS = data.LABELLED_COLUMNS


def _rows(seed: int, n: int = 1_200) -> dict[str, np.ndarray]:
    """The demo's labelled rows, with a few values missing (a float column with NaN, a text column with None)."""
    rows = data.generate(n, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 100)
    rows["eve_minutes"] = np.where(rng.random(n) < 0.02, np.nan, rows["eve_minutes"])
    rows["state"] = np.where(rng.random(n) < 0.02, None, rows["state"]).astype(object)
    return rows


def _cell(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _csv_lines(rows: dict[str, np.ndarray]) -> list[str]:
    return [",".join(_cell(rows[column][i]) for column in COLUMNS) for i in range(len(rows["churn"]))]


def _csv(folder: Path) -> Path:
    """Three files: the first with the header, the second repeating it, the third without; a row with a field too
    many in the second (a malformed record)."""
    folder.mkdir(parents=True)
    header = ",".join(COLUMNS)
    for index in range(3):
        lines = _csv_lines(_rows(20 + index))
        if index == 1:
            lines[300] += ",7"
        (folder / f"part-{index}.csv").write_text("\n".join([header, *lines] if index < 2 else lines) + "\n")
    return folder


def _json_lines(folder: Path) -> Path:
    """Two files of JSON objects (numbers as JSON numbers, missing values as null) and a malformed line."""
    folder.mkdir(parents=True)
    for index in range(2):
        rows = _rows(30 + index)
        lines = [orjson.dumps({column: (None if _cell(rows[column][i]) == "" else rows[column][i].item()
                                        if isinstance(rows[column][i], np.generic) else rows[column][i])
                               for column in COLUMNS}) for i in range(len(rows["churn"]))]
        if index == 0:
            lines[500] = b'{"account_length": 12, '
        (folder / f"part-{index}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return folder


def _parquet(folder: Path) -> Path:
    """Two files of small row groups (Spark splits them by row groups)."""
    folder.mkdir(parents=True)
    for index in range(2):
        rows = _rows(40 + index)
        table = pa.table({column: pa.array(rows[column].tolist(), from_pandas=True) for column in COLUMNS})
        pq.write_table(table, folder / f"part-{index}.parquet", row_group_size=150)
    return folder


def _config(dataset_type: str, *, headers: bool) -> dict:
    """Every pre- and post-training metric (FlipTest too): a binary facet, a categorical one of text values with
    missing ones, a continuous one cut at a threshold, and a group variable (CDDL)."""
    config = {
        "dataset_type": dataset_type, "label": "churn", "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "senior", "value_or_threshold": [1]}, {"name_or_index": "state"},
                  {"name_or_index": "day_minutes", "value_or_threshold": [200]}],
        "group_variable": "plan", "predicted_label": "churn_score", "probability_threshold": 0.5,
    }
    if headers:
        config["headers"] = list(COLUMNS)
    return config


CASES = {
    "csv-headers": (_csv, _config("text/csv", headers=True)),
    "csv-header-row": (_csv, _config("text/csv", headers=False)),
    "jsonlines": (_json_lines, _config("application/jsonlines", headers=False)),
    "parquet": (_parquet, _config("application/x-parquet", headers=False)),
}


def _argv(config: Path, dataset: Path | str, output: Path | str, *extra: str) -> list[str]:
    return ["baseline", "--type", "bias", "--analysis-config", str(config), "--dataset", str(dataset),
            "--output", str(output), "--max-bad-record-ratio", "0.01", "--quiet", *extra]


@pytest.fixture(scope="module")
def local_baselines(tmp_path_factory):
    """Each case's dataset, config and the local engine's analysis.json and run summary."""
    made = {}
    for case, (write, config) in CASES.items():
        root = tmp_path_factory.mktemp(f"bias-baseline-{case}")
        dataset = write(root / "dataset")
        config_file = root / "analysis_config.json"
        config_file.write_text(json.dumps(config))
        outcome = bias.run_baseline(bias.baseline_request(cli.build_parser("bias").parse_args(
            _argv(config_file, dataset, root / "local"))))
        assert outcome.status is RunStatus.COMPLETED, outcome.message
        made[case] = (config_file, dataset, json.loads((root / "local" / "analysis.json").read_text()),
                      json.loads(json.dumps(outcome.summary)))
    return made


@pytest.mark.parametrize(("case", "split_bytes", "partitions"), [
    *((case, split_bytes, partitions) for case in ("csv-headers", "jsonlines", "parquet")
      for split_bytes, partitions in [(None, 1), (24 << 10, 3), (8 << 10, 8)]),
    ("csv-header-row", 8 << 10, 3)])
def test_spark_baseline_equals_the_local_engine(spark, split_files, local_baselines, case, split_bytes, partitions,
                                                tmp_path):
    """Whole files, or files cut into splits read by several tasks; the counts and FlipTest over 1, 3 or 8
    partitions."""
    config_file, dataset, analysis, summary = local_baselines[case]
    request = bias.baseline_request(cli.build_parser("bias").parse_args(
        _argv(config_file, dataset, tmp_path / "spark", "--engine", "spark")))
    with split_files(split_bytes), RunFiles(files=HadoopFiles(spark)) as staged:
        outcome = local_run.run_baseline(request, reader=SparkDatasetReader(HadoopFiles(spark), staged.folder),
                                         runner=SparkBiasRunner(spark, partitions=partitions))
    assert json.loads((tmp_path / "spark" / "analysis.json").read_text()) == analysis
    found = json.loads(json.dumps(outcome.summary))
    examples, local_examples = found.pop("bad_record_examples", []), summary.get("bad_record_examples", [])
    assert found == {key: value for key, value in summary.items() if key != "bad_record_examples"}
    if split_bytes is None:  # a whole file's line (a split names its byte and its line within it): the same record
        assert [example.split(".csv", 1)[-1].split(".jsonl", 1)[-1] for example in examples] == \
            [example.split(".csv", 1)[-1].split(".jsonl", 1)[-1] for example in local_examples]
    # what the comparison covers: both stages, FlipTest computed, the malformed records counted
    metrics = {metric["name"]: metric for stage in ("pre_training_bias_metrics", "post_training_bias_metrics")
               for facet in analysis[stage]["facets"].values() for group in facet for metric in group["metrics"]}
    assert {"CI", "DPL", "CDDL", "DPPL", "FT", "AD"} <= set(metrics)
    assert len(analysis["pre_training_bias_metrics"]["facets"]["state"]) == 5
    assert summary.get("bad_records", 0) == (1 if case.startswith(("csv", "jsonlines")) else 0)


def test_the_command_line_runs_it_on_spark_with_uris(spark, local_baselines, tmp_path):
    """``baseline --type bias --engine spark`` with the dataset and the output as URIs writes the local engine's
    analysis.json, and outcome.json with its summary."""
    config_file, dataset, analysis, summary = local_baselines["csv-headers"]
    out = tmp_path / "spark"
    assert cli.main(_argv(config_file, dataset.as_uri(), out.as_uri(), "--engine", "spark")) == 0
    assert json.loads((out / "analysis.json").read_text()) == analysis
    assert json.loads((out / "outcome.json").read_text())["summary"]["bad_records"] == summary["bad_records"] == 1
    assert (out / "report.html").is_file()


def _errors(capsys, argv: list[str]) -> tuple[str, str]:
    """The error line of the local engine's run and of the Spark runner's (both exit 2)."""
    assert cli.main(argv) == 2
    local = capsys.readouterr().err.strip()
    assert cli.main([*argv, "--engine", "spark"]) == 2
    on_spark = capsys.readouterr().err.strip()
    assert "Traceback" not in on_spark and len(on_spark.splitlines()) == 1, on_spark
    return local, on_spark


def test_a_missing_dataset_or_a_bad_config_is_said_as_locally(spark, local_baselines, tmp_path, capsys):
    config_file, dataset, _, _ = local_baselines["csv-headers"]
    local, on_spark = _errors(capsys, _argv(config_file, tmp_path / "nowhere", tmp_path / "out"))
    assert on_spark == local and "dataset not found" in local
    broken = tmp_path / "broken.json"
    broken.write_text('{"dataset_type": "text/csv", "facet": [')
    local, on_spark = _errors(capsys, _argv(broken, dataset, tmp_path / "out"))
    assert on_spark == local and "broken.json" in local
    no_label = tmp_path / "no_label.json"
    no_label.write_text(json.dumps({key: value for key, value in CASES["csv-headers"][1].items() if key != "label"}))
    local, on_spark = _errors(capsys, _argv(no_label, dataset, tmp_path / "out"))
    assert on_spark == local and "label" in local
    no_features = tmp_path / "json.json"
    no_features.write_text(json.dumps({**CASES["csv-headers"][1], "dataset_type": "application/json"}))
    local, on_spark = _errors(capsys, _argv(no_features, dataset, tmp_path / "out"))
    assert on_spark == local and '"features"' in local
    assert not (tmp_path / "out" / "analysis.json").exists()


def test_the_csv_files_mistakes_are_said_as_locally(spark, local_baselines, tmp_path, capsys):
    """A file whose first row has another width than the config's headers, one whose header names the columns in
    another order, and too many malformed records: the same message, naming the file (as a path or a file: URI)."""
    config_file, dataset, _, _ = local_baselines["csv-headers"]
    cases = {
        "narrow": lambda text: "1,2,3\n" + text,
        "shuffled": lambda text: ",".join(reversed(COLUMNS)) + "\n" + text.split("\n", 1)[1],
        "malformed": lambda text: "\n".join(line + ",9" if i % 3 == 0 and i else line
                                            for i, line in enumerate(text.split("\n"))),
    }
    for name, change in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        for file in sorted(dataset.iterdir()):
            text = file.read_text()
            (folder / file.name).write_text(change(text) if file.name == "part-1.csv" else text)
        local, on_spark = _errors(capsys, _argv(config_file, folder, tmp_path / f"out-{name}"))
        assert "part-1.csv" in local
        assert on_spark.split("part-1.csv", 1)[1] == local.split("part-1.csv", 1)[1], name


def test_spark_refuses_a_dataset_read_through_features_naming_the_local_engine(spark, tmp_path, capsys):
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text('{"features": [1, 2], "label": 1}\n')
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"dataset_type": "application/jsonlines", "features": "features", "label": "label",
                                  "label_values_or_threshold": [1], "headers": ["a", "b", "label"],
                                  "facet": [{"name_or_index": "a"}]}))
    assert cli.main(_argv(config, dataset, tmp_path / "out", "--engine", "spark")) == 2
    error = capsys.readouterr().err
    assert "use --engine local" in error and len(error.strip().splitlines()) == 1
