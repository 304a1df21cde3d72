"""A capture window mixing records without a model output (captureData with endpointInput only) with records that
have one (found by a new user): every record is read by the same rule, whichever kind the shape look meets first
and whether a chunk is read column-wise or record by record. A baseline of the input's columns reads every record's
input (its output, if any, left out); a baseline of output + input columns gives a record without an output missing
output columns, its input in the input's columns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.io.capture import CaptureShape, capture_shape, match_capture_columns
from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp

WINDOW = ["--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"]
FEATURES = [f"f{i}" for i in range(7)]


def _values(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` rows of seven features: integers and decimals of several ranges."""
    columns = [rng.integers(18, 90, count), np.round(rng.normal(5, 2, count), 3), rng.integers(0, 5, count),
               np.round(rng.normal(0, 1, count), 3), rng.integers(100, 200, count), np.round(rng.uniform(0, 1, count), 3),
               rng.integers(0, 2, count)]
    return np.column_stack(columns).astype(float)


def _text(value: float) -> str:
    return str(int(value)) if value == int(value) else str(float(value))


def _baseline(tmp_path: Path, *, output: str | None) -> Path:
    """A baseline of the seven features, with a ``score`` column first or last when ``output`` says so."""
    rows = _values(np.random.default_rng(1), 600)
    scores = np.round(np.random.default_rng(2).uniform(0, 1, 600), 4)
    header = FEATURES if output is None else (["score", *FEATURES] if output == "START" else [*FEATURES, "score"])
    lines = []
    for row, score in zip(rows, scores, strict=True):
        fields = [_text(v) for v in row]
        fields = fields if output is None else ([str(score), *fields] if output == "START" else [*fields, str(score)])
        lines.append(",".join(fields))
    (tmp_path / "train.csv").write_text(",".join(header) + "\n" + "\n".join(lines) + "\n")
    folder = tmp_path / f"baseline-{output}"
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(folder), "--quiet"]) == 0
    return folder


def _capture(root: Path, *, sizes: list[int], input_only: list[bool], blank_lines: bool,
             keep_outputs: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Capture files of one hour, file ``i`` holding ``sizes[i]`` records, without a model output where
    ``input_only[i]`` (or everywhere unless ``keep_outputs``); a blank line in each file makes the reader take its
    chunk record by record. Returns every record's features, its score and whether it has an output."""
    rng = np.random.default_rng(7)
    folder = root / "ep" / "AllTraffic" / "2024" / "01" / "01" / "10"
    folder.mkdir(parents=True)
    all_rows, all_scores, has_output = [], [], []
    for index, (size, no_output) in enumerate(zip(sizes, input_only, strict=True)):
        rows, scores = _values(rng, size), np.round(rng.uniform(0, 1, size), 4)
        lines = []
        for number, (row, score) in enumerate(zip(rows, scores, strict=True)):
            data = {"endpointInput": {"data": ",".join(_text(v) for v in row), "encoding": "CSV",
                                      "mode": "INPUT", "observedContentType": "text/csv"}}
            if keep_outputs and not no_output:
                data["endpointOutput"] = {"data": f"{score}\n", "encoding": "CSV", "mode": "OUTPUT",
                                          "observedContentType": "text/csv"}
            second = index * 600 + number
            lines.append(orjson.dumps({"captureData": data, "eventMetadata": {
                "eventId": f"{index}-{number}", "inferenceTime": f"2024-01-01T10:{second // 60 % 60:02d}:{second % 60:02d}Z"},
                "eventVersion": "0"}))
        if blank_lines:
            lines.insert(size // 2, b"")
        (folder / f"capture-{index}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        all_rows.append(rows)
        all_scores.append(scores)
        has_output.append(np.full(size, keep_outputs and not no_output))
    return np.vstack(all_rows), np.concatenate(all_scores), np.concatenate(has_output)


def _monitor(tmp_path: Path, capture: Path, baseline: Path, out: str, *extra: str) -> dict[str, dict]:
    code = main(["monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
                 "--constraints", str(baseline / "constraints.json"), "--output", str(tmp_path / out), "--quiet",
                 *WINDOW, *extra])
    assert code == 0
    return {name: json.loads((tmp_path / out / name).read_text())
            for name in ("statistics.json", "constraint_violations.json")}


def _features(statistics: dict) -> dict[str, dict]:
    return {feature["name"]: feature for feature in statistics["features"]}


def _assert_numpy_statistics(feature: dict, values: np.ndarray, missing: int) -> None:
    stats = feature["numerical_statistics"]
    assert (stats["common"]["num_present"], stats["common"]["num_missing"]) == (len(values), missing)
    assert (stats["min"], stats["max"]) == (values.min(), values.max())
    assert stats["sum"] == pytest.approx(values.sum(), rel=1e-12)
    assert stats["mean"] == pytest.approx(values.mean(), rel=1e-12)


LAYOUTS = {  # sizes, input_only per file
    "input-only files first": ([75, 75, 75, 75], [True, False, True, False]),
    "input+output files first": ([75, 75, 75, 75], [False, True, False, True]),
    # the shape look (the first 200 records of the window) meets no record with an output
    "long input-only head": ([260, 60, 60], [True, False, True]),
}


@pytest.mark.parametrize("blank_lines", [False, True], ids=["column-wise", "record-by-record"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_an_input_only_baseline_reads_every_records_input_as_without_the_outputs(tmp_path, layout, blank_lines):
    baseline = _baseline(tmp_path, output=None)
    sizes, input_only = LAYOUTS[layout]
    rows, _, _ = _capture(tmp_path / "mixed", sizes=sizes, input_only=input_only, blank_lines=blank_lines)
    same_rows, _, _ = _capture(tmp_path / "inputs", sizes=sizes, input_only=input_only, blank_lines=blank_lines,
                               keep_outputs=False)
    assert np.array_equal(rows, same_rows)
    mixed = _monitor(tmp_path, tmp_path / "mixed", baseline, "out-mixed")
    inputs = _monitor(tmp_path, tmp_path / "inputs", baseline, "out-inputs")
    assert mixed == inputs
    features = _features(mixed["statistics.json"])
    assert list(features) == FEATURES
    for index, name in enumerate(FEATURES):
        _assert_numpy_statistics(features[name], rows[:, index], 0)
    assert [v for v in mixed["constraint_violations.json"]["violations"]
            if v["constraint_check_type"] in ("extra_column_check", "missing_column_check", "data_type_check",
                                              "completeness_check")] == []


@pytest.mark.parametrize("blank_lines", [False, True], ids=["column-wise", "record-by-record"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("position", ["START", "END"])
def test_an_output_and_input_baseline_reads_a_record_without_output_as_a_missing_output(
        tmp_path, layout, blank_lines, position):
    baseline = _baseline(tmp_path, output=position)
    sizes, input_only = LAYOUTS[layout]
    rows, scores, has_output = _capture(tmp_path / "mixed", sizes=sizes, input_only=input_only,
                                        blank_lines=blank_lines)
    documents = _monitor(tmp_path, tmp_path / "mixed", baseline, "out", "--output-columns-position", position)
    features = _features(documents["statistics.json"])
    assert documents["statistics.json"]["dataset"]["item_count"] == len(rows)
    assert sorted(features) == sorted(["score", *FEATURES])
    _assert_numpy_statistics(features["score"], scores[has_output], int((~has_output).sum()))
    for index, name in enumerate(FEATURES):
        _assert_numpy_statistics(features[name], rows[:, index], 0)
    checks = {(v["feature_name"], v["constraint_check_type"]) for v in documents["constraint_violations.json"]["violations"]}
    assert not {check for check in checks if check[1] in ("extra_column_check", "missing_column_check",
                                                          "data_type_check")}
    assert {name for name, check in checks if check == "completeness_check"} == {"score"}


def test_the_shape_of_a_mixed_window_says_the_usual_output_and_that_some_records_lack_it(tmp_path):
    _capture(tmp_path, sizes=[60, 60, 60], input_only=[True, False, True], blank_lines=False)
    window = TimeWindow(start=parse_timestamp(WINDOW[1]), end=parse_timestamp(WINDOW[3]))
    shape = capture_shape(tmp_path, window=window)
    assert shape == CaptureShape(input_fields=7, output_fields=1, some_without_output=True)
    both = ("endpointInput", "endpointOutput")
    as_inputs = match_capture_columns(features=7, shape=shape, capture_index_names=both, output_first=True)
    assert (as_inputs.capture_index_names, as_inputs.missing_output_fields) == (("endpointInput",), None)
    as_both = match_capture_columns(features=8, shape=shape, capture_index_names=both, output_first=True)
    assert (as_both.capture_index_names, as_both.missing_output_fields) == (both, 1)
    assert "no model output" in as_both.note
    # only records without an output looked at: the baseline's extra columns are the output's
    unseen = match_capture_columns(features=9, shape=CaptureShape(input_fields=7, output_fields=None),
                                   capture_index_names=both, output_first=False)
    assert (unseen.capture_index_names, unseen.missing_output_fields) == (both, 2)
    # the input alone asked for: no output column at all
    asked = match_capture_columns(features=8, shape=shape, capture_index_names=("endpointInput",), output_first=True)
    assert (asked.capture_index_names, asked.missing_output_fields) == (("endpointInput",), None)
