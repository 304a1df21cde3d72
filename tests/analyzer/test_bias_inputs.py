"""Bias datasets and captured requests are read by the readers every monitor type uses (``io``):
the same numbers whatever the file format, and the same policy for bad records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model_monitor_analyzer.contract.paths import container_paths
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import json_fields
from model_monitor_analyzer.monitors import bias
from model_monitor_analyzer.monitors.bias import dataset as bias_dataset
from model_monitor_analyzer.monitors.bias.config import parse_analysis_config
from model_monitor_analyzer.monitors.bias.values import number_texts
from model_monitor_analyzer.monitors.bias.window_records import merged_columns

ROWS = 400


def _data(seed: int = 3) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=ROWS).round(3).tolist(), "sex": rng.choice(["F", "M"], ROWS).tolist(),
            "age": rng.integers(18, 80, ROWS).tolist(), "y": rng.integers(0, 2, ROWS).tolist(),
            "p": rng.integers(0, 2, ROWS).tolist()}  # fmt: skip


def _config(folder: Path, dataset_type: str) -> Path:
    path = folder / f"config-{dataset_type.split('/')[-1]}.json"
    path.write_text(json.dumps({
        "dataset_type": dataset_type, "label": "y", "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "sex", "value_or_threshold": ["F"]}, {"name_or_index": "age", "value_or_threshold": [40]}],
        "predicted_label": "p",
    }))  # fmt: skip
    return path


def _baseline(folder: Path, config: Path, dataset: Path) -> dict:
    output = folder / f"out-{dataset.suffix[1:]}"
    bias.run_baseline(bias.BiasBaselineRequest(analysis_config=config, dataset=dataset, output=output))
    return json.loads((output / "analysis.json").read_text())


def _write(folder: Path, data: dict[str, list]) -> dict[str, Path]:
    names = list(data)
    csv_file = folder / "d.csv"
    csv_file.write_text("\n".join([",".join(names)] + [",".join(map(str, row)) for row in zip(*data.values())]) + "\n")
    jsonl_file = folder / "d.jsonl"
    jsonl_file.write_text("".join(json.dumps(dict(zip(names, row))) + "\n" for row in zip(*data.values())))
    parquet_file = folder / "d.parquet"
    pq.write_table(pa.table(data), parquet_file)
    return {"text/csv": csv_file, "application/jsonlines": jsonl_file, "application/x-parquet": parquet_file}


def test_csv_json_lines_and_parquet_of_the_same_rows_give_the_same_analysis(tmp_path):
    files = _write(tmp_path, _data())
    documents = [_baseline(tmp_path, _config(tmp_path, kind), path) for kind, path in files.items()]
    assert documents[0] == documents[1] == documents[2]
    assert documents[0]["post_training_bias_metrics"]["facets"]["age"][0]["value_or_threshold"].startswith("(40, ")


def test_a_json_lines_line_that_is_not_json_is_skipped_and_counted_within_the_tolerance(tmp_path):
    files = _write(tmp_path, _data())
    whole = _baseline(tmp_path, _config(tmp_path, "application/jsonlines"), files["application/jsonlines"])
    broken = tmp_path / "broken" / "d.jsonl"
    broken.parent.mkdir()
    lines = files["application/jsonlines"].read_text().splitlines(keepends=True)
    broken.write_text("".join(lines) + "{not json\n")
    config = _config(tmp_path, "application/jsonlines")
    outcome = bias.run_baseline(bias.BiasBaselineRequest(analysis_config=config, dataset=broken, output=tmp_path / "b"))
    assert outcome.summary["bad_records"] == 1
    assert json.loads((tmp_path / "b" / "analysis.json").read_text()) == whole


def test_a_json_lines_dataset_mostly_not_json_is_refused(tmp_path):
    dataset = tmp_path / "d.jsonl"
    dataset.write_text('{"y": 1, "sex": "F", "p": 1}\n' + "oops\n" * 5)
    with pytest.raises(AnalyzerInputError, match="records are malformed"):
        bias.run_baseline(bias.BiasBaselineRequest(analysis_config=_config(tmp_path, "application/jsonlines"),
                                                   dataset=dataset, output=tmp_path / "out"))


def _merged(features: list[str], predicted: list[int], labels: list[int]) -> list[dict]:
    return [{"captureData": {"endpointInput": {"data": text, "encoding": "CSV"},
                             "endpointOutput": {"data": str(p), "encoding": "CSV"}},
             "groundTruthData": {"data": str(y), "encoding": "CSV"},
             "eventMetadata": {"eventId": f"e{i}"}}
            for i, (text, p, y) in enumerate(zip(features, predicted, labels, strict=True))]  # fmt: skip


def test_captured_csv_requests_keep_quoted_commas_in_one_feature():
    config = parse_analysis_config({"label": "y", "label_values_or_threshold": [1], "headers": ["city", "n", "y"],
                                    "facet": [{"name_or_index": "city"}]})  # fmt: skip
    table = merged_columns(_merged(['"Paris, FR",1', '"Lyon, FR",2'], [1, 0], [1, 1]), config,
                           features_attribute=None, inference_attribute="0", probability_attribute=None,
                           probability_threshold=None)  # fmt: skip
    assert table.columns["city"].tolist() == ["Paris, FR", "Lyon, FR"]
    assert table.columns["n"].tolist() == [1, 2]


def test_captured_requests_of_different_widths_are_refused():
    config = parse_analysis_config({"label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": 0}]})
    with pytest.raises(AnalyzerInputError, match="different numbers of features"):
        merged_columns(_merged(["1,2", "1,2,3"], [1, 0], [1, 1]), config, features_attribute=None,
                       inference_attribute="0", probability_attribute=None, probability_threshold=None)


def test_a_jmespath_that_is_no_expression_is_one_line_naming_it():
    with pytest.raises(AnalyzerInputError, match=r"'instances\[' is not a valid JMESPath expression"):
        json_fields.search("instances[", {"instances": []})


def test_feature_rows_found_by_jmespath_give_one_row_per_instance():
    documents = [{"instances": [{"features": [1, 2]}, {"features": [3, 4]}]}]
    assert json_fields.feature_rows(documents, "instances[*].features", many_per_document=True, path="d") == [[1, 2], [3, 4]]


def test_json_lines_files_whose_columns_differ_are_read_as_one_table(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    rows = [{"y": i % 2, "sex": "FM"[i % 3 == 0], "p": (i // 2) % 2, "x": i} for i in range(60)]
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:30]))
    # the second file: x has fractions and z is new
    (folder / "b.jsonl").write_text("".join(json.dumps({**r, "x": r["x"] + 0.5, "z": 1}) + "\n" for r in rows[30:]))
    config = _config(tmp_path, "application/jsonlines")
    columns = bias_dataset.read_bias_columns(folder, parse_analysis_config(json.loads(config.read_text())))
    assert columns["x"].dtype == np.float64 and columns["x"][29] == 29.0 and columns["x"][30] == 30.5
    assert np.isnan(columns["z"][:30]).all() and (columns["z"][30:] == 1).all()  # missing in the first file
    (folder / "c.jsonl").write_text(json.dumps({**rows[0], "x": "many"}) + "\n")
    mixed = bias_dataset.read_bias_columns(folder, parse_analysis_config(json.loads(config.read_text())))
    assert mixed["x"].dtype == object and mixed["x"][-1] == "many" and len(mixed["y"]) == 61


def test_texts_read_as_numbers_on_the_whole_column_as_python_reads_each_one():
    texts = ["1", " 2.5 ", ".5", "5.", "1e5", "5.e3", "-inf", "Infinity", "NaN", "+nan", "1_000", "1__0", "_1",
             "abc", "", " ", "1.2.3", "e5", "1e", "0x10", "error: timeout"]  # fmt: skip

    def python_reads(text: str) -> bool:
        try:
            float(text)
        except ValueError:
            return False
        return True

    column = np.array([*texts, None, float("nan")], dtype=object)
    assert number_texts(column).tolist() == [python_reads(t) for t in texts] + [True, True]  # missing is no word


def _mostly_good_json_lines(tmp_path: Path) -> Path:
    rows = [{"y": i % 2, "sex": "FM"[i % 3 == 0], "p": (i // 2) % 2, "age": 20 + i} for i in range(40)]
    dataset = tmp_path / "data" / "d.jsonl"
    dataset.parent.mkdir()
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows) + "oops\n" * 8)  # 8 of 48 lines: 17 %
    return dataset


def test_the_tolerated_share_of_bad_records_is_the_users_and_the_message_says_how_to_raise_it(tmp_path):
    dataset, config = _mostly_good_json_lines(tmp_path), _config(tmp_path, "application/jsonlines")
    with pytest.raises(AnalyzerInputError, match=r"8 of 48 records are malformed.*raise --max-bad-record-ratio"):
        bias.run_baseline(bias.BiasBaselineRequest(analysis_config=config, dataset=dataset, output=tmp_path / "a"))
    outcome = bias.run_baseline(bias.BiasBaselineRequest(analysis_config=config, dataset=dataset,
                                                         output=tmp_path / "b", max_bad_record_ratio=0.2))
    assert outcome.summary["bad_records"] == 8


def test_a_container_run_reads_the_tolerated_share_from_its_environment_key(tmp_path):
    dataset, config = _mostly_good_json_lines(tmp_path), _config(tmp_path, "application/jsonlines")
    env = {"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), "analysis_config": str(config),
           "dataset_source": str(dataset.parent), "output_path": str(tmp_path / "out")}
    with pytest.raises(AnalyzerInputError, match="raise max_bad_record_ratio"):
        bias.run_baseline(bias.baseline_request_from_environment(env, container_paths(env)))
    env["max_bad_record_ratio"] = "0.2"
    assert bias.run_baseline(bias.baseline_request_from_environment(env, container_paths(env))).summary["bad_records"] == 8
