"""Bias runs on data as real exporters write it: numbers written as floats or in exponent
notation, facet and label values that match nothing, ragged rows.

Expected counts come from numpy on the generated data, not from our own analysis.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import bias as bias_job
from model_monitor_analyzer.monitors.bias import dataset as bias_dataset

ROWS = 300


def _data(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "y": rng.integers(0, 2, ROWS),
        "f": rng.integers(0, 3, ROWS),
        "g": rng.integers(0, 4, ROWS),
        "x": rng.normal(size=ROWS).round(3),
        "p": rng.integers(0, 2, ROWS),
    }


def _write_csv(path: Path, columns: dict[str, list[str]]) -> Path:
    names = list(columns)
    lines = [",".join(names)] + [",".join(row) for row in zip(*columns.values(), strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _texts(values: np.ndarray, form: str = "{}") -> list[str]:
    return [form.format(v) for v in values.tolist()]


def _config(folder: Path, **changes: object) -> Path:
    config = {
        "dataset_type": "text/csv",
        "label": "y",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "f", "value_or_threshold": [2]}],
        "group_variable": "g",
        "predicted_label": "p",
        "methods": {"pre_training_bias": {"methods": "all"}, "post_training_bias": {"methods": "all"}},
    }
    config.update(changes)
    path = folder / "analysis_config.json"
    path.write_text(json.dumps(config))
    return path


def _args(config: Path, dataset: Path, output: Path) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bias_job.add_baseline_arguments(parser)
    return parser.parse_args(["--analysis-config", str(config), "--dataset", str(dataset), "--output", str(output)])


def _metrics(output: Path, stage: str = "pre_training_bias_metrics") -> dict[str, dict]:
    document = json.loads((output / "analysis.json").read_text())
    (facet_value,) = document[stage]["facets"]["f"]
    return {m["name"]: m for m in facet_value["metrics"]}


def _class_imbalance(facet: np.ndarray) -> float:
    n_d = np.count_nonzero(facet)
    n_a = facet.size - n_d
    return (n_a - n_d) / (n_a + n_d)


def test_float_written_facet_matches_integer_facet_value(tmp_path):
    data = _data()
    dataset = _write_csv(
        tmp_path / "d.csv",
        {"y": _texts(data["y"]), "f": _texts(data["f"], "{}.0"), "g": _texts(data["g"]), "x": _texts(data["x"]),
         "p": _texts(data["p"])},
    )  # fmt: skip
    outcome = bias_job.run_baseline(bias_job.baseline_request(_args(_config(tmp_path), dataset, tmp_path / "out")))
    assert outcome.status is RunStatus.COMPLETED
    metrics = _metrics(tmp_path / "out")
    assert metrics["CI"]["value"] == pytest.approx(_class_imbalance(data["f"] == 2), abs=1e-12)
    assert all(m["value"] is not None for m in metrics.values())


def test_float_written_columns_give_the_same_analysis_as_integer_written_ones(tmp_path):
    data = _data(1)
    as_integers = {name: _texts(values) for name, values in data.items()}
    as_floats = {**as_integers, **{n: _texts(data[n], "{}.0") for n in ("y", "f", "g", "p")}}
    for name, columns in (("ints", as_integers), ("floats", as_floats)):
        bias_job.run_baseline(bias_job.baseline_request(_args(_config(tmp_path), _write_csv(tmp_path / f"{name}.csv", columns), tmp_path / name)))
    assert (tmp_path / "floats" / "analysis.json").read_text() == (tmp_path / "ints" / "analysis.json").read_text()


def test_exponent_written_label_matches_its_label_value(tmp_path):
    data = _data(2)
    columns = {name: _texts(values) for name, values in data.items()}
    columns["y"] = _texts(data["y"], "{}e0")
    dataset = _write_csv(tmp_path / "d.csv", columns)
    bias_job.run_baseline(bias_job.baseline_request(_args(_config(tmp_path), dataset, tmp_path / "out")))
    facet, positive = data["f"] == 2, data["y"] == 1
    expected = positive[~facet].mean() - positive[facet].mean()
    assert _metrics(tmp_path / "out")["DPL"]["value"] == pytest.approx(expected, abs=1e-12)


def test_numeric_texts_in_a_text_facet_compare_as_numbers_and_words_as_words(tmp_path):
    data = _data(3)
    # A text column (it holds words): "2" and "2.0" are the value 2; "two" is not, nor is "TWO" "two".
    words = np.array(["2", "2.0", "two", "TWO", "1"])[np.arange(ROWS) % 5]
    columns = {name: _texts(values) for name, values in data.items()}
    columns["f"] = words.tolist()
    dataset = _write_csv(tmp_path / "d.csv", columns)
    bias_job.run_baseline(bias_job.baseline_request(_args(_config(tmp_path), dataset, tmp_path / "numbers")))
    assert _metrics(tmp_path / "numbers")["CI"]["value"] == pytest.approx(
        _class_imbalance(np.isin(words, ["2", "2.0"])), abs=1e-12
    )
    config = _config(tmp_path, facet=[{"name_or_index": "f", "value_or_threshold": ["two"]}])
    bias_job.run_baseline(bias_job.baseline_request(_args(config, dataset, tmp_path / "words")))
    assert _metrics(tmp_path / "words")["CI"]["value"] == pytest.approx(_class_imbalance(words == "two"), abs=1e-12)


def test_group_values_written_as_2_and_2_0_are_one_subgroup(tmp_path):
    data = _data(4)
    columns = {name: _texts(values) for name, values in data.items()}
    columns["g"] = ["n/a-group" if v == 3 else str(v) for v in data["g"].tolist()]
    bias_job.run_baseline(bias_job.baseline_request(_args(_config(tmp_path), _write_csv(tmp_path / "a.csv", columns), tmp_path / "a")))
    columns["g"] = [v + ".0" if v == "2" and i % 2 else v for i, v in enumerate(columns["g"])]
    bias_job.run_baseline(bias_job.baseline_request(_args(_config(tmp_path), _write_csv(tmp_path / "b.csv", columns), tmp_path / "b")))
    assert _metrics(tmp_path / "b")["CDDL"] == _metrics(tmp_path / "a")["CDDL"]


def test_a_facet_value_that_matches_no_row_fails_the_run_naming_the_facet_and_its_values(tmp_path):
    data = _data(5)
    dataset = _write_csv(tmp_path / "d.csv", {name: _texts(values) for name, values in data.items()})
    config = _config(tmp_path, facet=[{"name_or_index": "f", "value_or_threshold": [7]}])
    with pytest.raises(AnalyzerInputError) as raised:
        bias_job.run_baseline(bias_job.baseline_request(_args(config, dataset, tmp_path / "out")))
    # The values the data has, in order of first appearance.
    seen = ", ".join(str(v) for v in dict.fromkeys(data["f"].tolist()))
    assert f"facet 'f' value_or_threshold 7 matches no row (the column's values: {seen})" in raised.value.describe()
    assert not (tmp_path / "out" / "analysis.json").exists()  # a failed baseline must not pass for one


def _window_of_a_facet_matching_no_row(tmp_path, *, seed: int, baseline: Path | None = None) -> argparse.Namespace:
    """The arguments of a monitor run over ``_data(seed)`` whose facet value 7 matches no row."""
    data = _data(seed)
    dataset = _write_csv(tmp_path / "d.csv", {name: _texts(values) for name, values in data.items()})
    config = _config(tmp_path, facet=[{"name_or_index": "f", "value_or_threshold": [7]}])
    parser = argparse.ArgumentParser()
    bias_job.add_monitor_arguments(parser)
    against = ["--baseline", str(baseline)] if baseline is not None else []
    return parser.parse_args(["--analysis-config", str(config), "--dataset", str(dataset),
                              "--output", str(tmp_path / "out"), "--inference-attribute", "p", *against])


def test_a_monitor_window_whose_facet_matches_no_row_writes_clarifys_errors_and_completes(tmp_path):
    args = _window_of_a_facet_matching_no_row(tmp_path, seed=5)
    outcome = bias_job.run_monitor(bias_job.monitor_request(args))
    assert outcome.status is RunStatus.COMPLETED
    # every metric of the one group but GE, which does not depend on the facet
    assert outcome.summary["not_computable"] == 8 + 13 - 1
    metrics = _metrics(tmp_path / "out")
    # The texts Clarify writes for an empty facet group, with a null value.
    assert metrics["CI"] == {
        "name": "CI",
        "description": "Class Imbalance (CI)",
        "value": None,
        "error": "CI: facet set is empty. Check that x[facet] has non-zero length.",
    }
    assert _metrics(tmp_path / "out", "post_training_bias_metrics")["DI"]["error"] == "Facet set is empty"


def test_a_facet_value_the_baseline_lacks_fails_a_monitor_run_instead_of_no_violations(tmp_path):
    data = _data(6)
    dataset = _write_csv(tmp_path / "base.csv", {name: _texts(values) for name, values in data.items()})
    bias_job.run_baseline(bias_job.baseline_request(_args(_config(tmp_path), dataset, tmp_path / "baseline")))
    args = _window_of_a_facet_matching_no_row(tmp_path, seed=6, baseline=tmp_path / "baseline" / "analysis.json")
    with pytest.raises(AnalyzerInputError, match=r"the baseline has none of this window's facet groups \(f=7\)"):
        bias_job.run_monitor(bias_job.monitor_request(args))


def test_a_label_value_that_matches_no_row_fails_the_run_naming_the_label_values(tmp_path):
    data = _data(7)
    dataset = _write_csv(tmp_path / "d.csv", {name: _texts(values) for name, values in data.items()})
    config = _config(tmp_path, label_values_or_threshold=["yes"], predicted_label=None,
                     methods={"pre_training_bias": {"methods": "all"}})  # fmt: skip
    with pytest.raises(AnalyzerInputError, match=r"label value\(s\) yes match no row of column 'y' \(its values: [01], [01]\)"):
        bias_job.run_baseline(bias_job.baseline_request(_args(config, dataset, tmp_path / "out")))


def test_a_csv_row_with_a_missing_field_is_skipped_and_counted(tmp_path):
    data = _data(8)
    columns = {name: _texts(values) for name, values in data.items()}
    dataset = _write_csv(tmp_path / "d.csv", columns)
    lines = dataset.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0]  # one field short
    dataset.write_text("\n".join(lines) + "\n")
    outcome = bias_job.run_baseline(bias_job.baseline_request(_args(_config(tmp_path), dataset, tmp_path / "out")))
    assert outcome.summary["bad_records"] == 1
    kept = np.ones(ROWS, dtype=bool)
    kept[4] = False  # line 6 of the file is data row 4
    assert _metrics(tmp_path / "out")["CI"]["value"] == pytest.approx(
        _class_imbalance(data["f"][kept] == 2), abs=1e-12
    )


def test_csv_columns_are_typed_as_pandas_types_them(tmp_path):
    path = _write_csv(
        tmp_path / "d.csv",
        {"i": ["1", "-2", "+3"], "m": ["1", "", "3"], "e": ["1e0", "2.5", "inf"], "b": ["True", "false", "TRUE"],
         "t": ["a", "NA", " b"], "x": ["1", "two", "3"]},
    )  # fmt: skip
    columns = bias_dataset.read_csv_columns([path], None)
    assert columns["i"].dtype == np.int64 and columns["i"].tolist() == [1, -2, 3]
    assert columns["m"].dtype == np.float64 and np.isnan(columns["m"][1])
    assert columns["e"].tolist() == [1.0, 2.5, float("inf")]
    assert columns["b"].dtype == bool and columns["b"].tolist() == [True, False, True]
    assert columns["t"].tolist() == ["a", None, " b"]
    assert columns["x"].tolist() == ["1", "two", "3"]


def test_a_second_csv_file_without_a_header_row_is_all_data(tmp_path):
    (tmp_path / "data").mkdir()
    _write_csv(tmp_path / "data" / "a.csv", {"y": ["1", "0"], "f": ["2", "1"]})
    (tmp_path / "data" / "b.csv").write_text("0,2\n1,1\n")
    files = sorted((tmp_path / "data").iterdir())
    columns = bias_dataset.read_csv_columns(files, None)
    assert columns["y"].tolist() == [1, 0, 0, 1]
    assert columns["f"].tolist() == [2, 1, 2, 1]


def test_a_label_value_that_matches_no_row_is_reported_as_such_with_predictions_configured(tmp_path):
    data = _data(7)
    dataset = _write_csv(tmp_path / "d.csv", {name: _texts(values) for name, values in data.items()})
    config = _config(tmp_path, label_values_or_threshold=["yes"])
    with pytest.raises(AnalyzerInputError, match=r"label value\(s\) yes match no row of column 'y'") as raised:
        bias_job.run_baseline(bias_job.baseline_request(_args(config, dataset, tmp_path / "out")))
    assert raised.value.path == str(config)


def test_a_label_read_as_continuous_says_so_when_its_value_matches_no_row(tmp_path):
    # 40 distinct whole numbers in 40 rows are continuous, so [40] is a threshold no label exceeds
    rows = ["f,y,p,g"] + [f"{i % 2},{i},{i},{i % 3}" for i in range(40)]
    dataset = tmp_path / "small.csv"
    dataset.write_text("\n".join(rows) + "\n")
    config = _config(tmp_path, facet=[{"name_or_index": "f", "value_or_threshold": [0]}], label_values_or_threshold=[40])
    with pytest.raises(AnalyzerInputError, match="read as continuous") as raised:
        bias_job.run_baseline(bias_job.baseline_request(_args(config, dataset, tmp_path / "out")))
    assert "label value(s) (40, 40] match no row of column 'y'" in raised.value.describe()
