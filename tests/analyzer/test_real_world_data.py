"""Data as users write it: pandas' to_csv, exponent notation, BOMs, bad bytes, odd headers, folders
with more than data in them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import datasets
from model_monitor_analyzer.io.datasets import dataset_files, read_csv_file
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.profile.dataset import DatasetProfile
from model_monitor_analyzer.profile.datatypes import ValueKind, classify, kind_of_text


def _features(statistics_file):
    return {f["name"]: f for f in json.loads(statistics_file.read_text())["features"]}


def _pandas_frame(rows=5000, seed=7):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "tiny": rng.normal(0, 1e-4, rows),  # to_csv writes many of these as 1.2345e-05
        "huge": rng.normal(0, 1, rows) * 1e20,  # and these as 1.2345e+20
        "plain": rng.normal(50, 10, rows),
        "count": rng.integers(0, 100, rows),
        "city": rng.choice(["Lyon", "Oslo", "Lima"], rows),
    })
    frame.loc[::97, "plain"] = np.nan  # written as empty fields
    return frame


def test_pandas_floats_in_exponent_notation_are_fractional_with_exact_statistics(tmp_path):
    frame = _pandas_frame()
    dataset = tmp_path / "train.csv"
    frame.to_csv(dataset, index=False)
    assert "e-05" in dataset.read_text() and "e+20" in dataset.read_text()
    assert main(["baseline", "--dataset", str(dataset), "--output", str(tmp_path / "out"), "--quiet"]) == 0
    features = _features(tmp_path / "out" / "statistics.json")
    assert {name: f["inferred_type"] for name, f in features.items()} == {
        "tiny": "Fractional", "huge": "Fractional", "plain": "Fractional", "count": "Integral", "city": "String",
    }
    for name in ("tiny", "huge", "plain"):
        stats = features[name]["numerical_statistics"]
        expected = frame[name].dropna()
        assert stats["min"] == expected.min() and stats["max"] == expected.max()
        assert stats["mean"] == pytest.approx(expected.mean(), rel=1e-12)
        assert stats["std_dev"] == pytest.approx(expected.std(ddof=0), rel=1e-12)
    assert features["plain"]["numerical_statistics"]["common"]["num_missing"] == frame["plain"].isna().sum()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="0123456789.+-eE a\u0663infxp_", max_size=6)), min_size=1, max_size=30))
def test_fast_path_distinct_path_and_single_values_classify_alike(texts):
    array = pa.array([None if t == "" else t for t in texts], pa.string())
    fast, detailed = classify(array), classify(array, detailed=True)
    expected = [0, 0, 0, 0]
    for text in array.to_pylist():
        if text is not None:
            expected[kind_of_text(text)] += 1
    assert list(fast.kind_counts) == list(detailed.kind_counts) == expected
    assert sorted(fast.numbers.tolist()) == sorted(detailed.numbers.tolist())


@pytest.mark.parametrize("odd", ["inf", "-inf", "nan", "NaN", "Infinity", "1e400", "0x1p3", "1_000", " 5", "5 "])
def test_words_and_forms_a_float_parser_may_take_are_classified_as_the_patterns_say(odd):
    values = classify(pa.array(["1.5", odd, "2"]))
    expected = [0, 0, 0, 0]
    for text in ("1.5", odd, "2"):
        expected[kind_of_text(text)] += 1
    assert list(values.kind_counts) == expected


def test_non_ascii_digits_are_strings_even_where_python_reads_them_as_numbers():
    assert float("\u0663\u0664") == 34.0  # what a naive parser would do
    values = classify(pa.array(["\u0663\u0664", "12"]))
    assert values.kind_counts[ValueKind.STRING] == 1 and values.numbers.tolist() == [12.0]


def test_byte_order_mark_is_dropped_from_the_first_column(tmp_path):
    for header in (True, False):
        file = tmp_path / f"bom-{header}.csv"
        file.write_bytes(b"\xef\xbb\xbf" + (b"age,city\n" if header else b"") + b"31,Oslo\n42,Lima\n")
        problems = InputProblems()
        table = pa.Table.from_batches(list(read_csv_file(file, header=header, problems=problems)))
        first = "age" if header else "_c0"
        assert table.column_names[0] == first
        assert table.column(first).to_pylist() == ["31", "42"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (",age,city", "no name for column 1 (pandas writes its index so: use DataFrame.to_csv(index=False))"),
        ("age,,city", "no name for column 2"),
        ("age,city,age", "names 'age' more than once"),
    ],
)
def test_empty_or_repeated_header_names_are_refused_with_the_fix(tmp_path, header, message):
    file = tmp_path / "data.csv"
    file.write_text(f"{header}\n1,2,3\n")
    with pytest.raises(AnalyzerInputError, match="line|name") as caught:
        list(read_csv_file(file, header=True, problems=InputProblems()))
    assert message in caught.value.message and caught.value.line == 1


def test_one_bad_byte_in_a_large_file_drops_only_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", 4096)  # many chunks, the bad one in the middle
    rows = [f"{i},{i * 0.5},name{i}" for i in range(20_000)]
    data = ("a,b,c\n" + "\n".join(rows) + "\n").encode()
    bad_row = 12_345
    start = data.index(f"\n{bad_row},".encode()) + 1
    data = data[: start + 2] + b"\xff" + data[start + 2 :]
    file = tmp_path / "big.csv"
    file.write_bytes(data)
    problems = InputProblems()
    table = pa.Table.from_batches(list(read_csv_file(file, header=True, problems=problems)))
    expected = [str(i) for i in range(20_000) if i != bad_row]
    assert table.column("a").to_pylist() == expected
    assert problems.bad == 1 and problems.good == 19_999
    assert problems.examples[0].line == bad_row + 2  # the header is line 1
    assert "not UTF-8" in problems.examples[0].problem


def test_a_bad_byte_and_a_short_row_in_one_chunk_are_each_counted_once(tmp_path):
    file = tmp_path / "small.csv"
    file.write_bytes(b"a,b\n1,2\n3\xff,4\n5\n6,7\n")
    problems = InputProblems(max_bad_record_ratio=1.0)
    table = pa.Table.from_batches(list(read_csv_file(file, header=True, problems=problems)))
    assert table.column("a").to_pylist() == ["1", "6"]
    assert [(p.line, p.problem.split(" ")[0]) for p in problems.examples] == [(3, "not"), (4, "expected")]
    assert problems.bad == 2 and problems.good == 2


def test_files_that_are_not_data_are_skipped_with_a_note(tmp_path, capsys):
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "part-0.csv").write_text("a\n1\n")
    (folder / "part-1").write_text("a\n2\n")  # no suffix, as Spark writes parts
    (folder / "README.md").write_text("# my data\n")
    (folder / "model.bin").write_bytes(b"\x00\x01binary")
    (folder / "_SUCCESS").write_text("")
    (folder / "old.csv.gz").write_bytes(b"\x1f\x8b")
    assert [p.name for p in dataset_files(folder)] == ["part-0.csv", "part-1"]
    notes = capsys.readouterr().err
    for name in ("README.md", "model.bin", "_SUCCESS", "old.csv.gz"):
        assert f"{name}: skipped" in notes


def test_profile_of_a_folder_counts_rows_of_data_files_only(tmp_path):
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n2\n")
    (folder / "notes.txt.md").write_text("x\nnot data\n")
    profile = DatasetProfile()
    for batch in datasets.read_dataset(folder, problems=InputProblems()):
        profile.update(batch)
    assert profile.item_count == 2 and profile.columns["x"].inferred_type.value == "Integral"


# ------------------------------------------------------------------ captures with input and output
def _write_capture(folder, frame, *, with_output, when="2024-01-01T10:15:00Z"):
    folder.mkdir(parents=True, exist_ok=True)
    payloads = frame.to_csv(index=False, header=False).splitlines()
    lines = []
    for i, row in enumerate(payloads):
        capture = {"endpointInput": {"data": row, "encoding": "CSV", "mode": "INPUT", "observedContentType": "text/csv"}}
        if with_output:
            capture["endpointOutput"] = {"data": f"{(i % 10) / 10}\n", "encoding": "CSV", "mode": "OUTPUT"}
        lines.append(json.dumps({"captureData": capture, "eventMetadata": {"eventId": str(i), "inferenceTime": when},
                                 "eventVersion": "0"}))
    (folder / "capture.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def _monitor(tmp_path, baseline, capture, name, *extra):
    out = tmp_path / name
    code = main(["monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
                 "--constraints", str(baseline / "constraints.json"), "--output", str(out), "--quiet",
                 "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z", *extra])
    return code, out


def _baseline(tmp_path, frame, name="baseline"):
    dataset = tmp_path / f"{name}.csv"
    frame.to_csv(dataset, index=False)
    assert main(["baseline", "--dataset", str(dataset), "--output", str(tmp_path / name), "--quiet"]) == 0
    return tmp_path / name


def test_capture_of_input_and_output_against_a_features_only_baseline_reads_the_input(tmp_path, capsys):
    frame = _pandas_frame(rows=2000)
    baseline = _baseline(tmp_path, frame)
    both = _write_capture(tmp_path / "both", frame, with_output=True)
    alone = _write_capture(tmp_path / "alone", frame, with_output=False)
    code_both, out_both = _monitor(tmp_path, baseline, both, "m-both")
    assert "reading endpointInput only" in capsys.readouterr().err
    code_alone, out_alone = _monitor(tmp_path, baseline, alone, "m-alone")
    assert code_both == code_alone == 0
    assert _features(out_both / "statistics.json") == _features(out_alone / "statistics.json")
    assert json.loads((out_both / "constraint_violations.json").read_text())["violations"] == []
    types = {name: f["inferred_type"] for name, f in _features(out_both / "statistics.json").items()}
    assert types == {"tiny": "Fractional", "huge": "Fractional", "plain": "Fractional", "count": "Integral",
                     "city": "String"}


def test_capture_of_input_and_output_against_an_output_first_baseline_maps_as_the_built_in(tmp_path, capsys):
    frame = _pandas_frame(rows=2000)
    with_score = frame.copy()
    with_score.insert(0, "score", [(i % 10) / 10 for i in range(len(frame))])
    baseline = _baseline(tmp_path, with_score)
    code, out = _monitor(tmp_path, baseline, _write_capture(tmp_path / "both", frame, with_output=True), "m")
    assert code == 0 and "note:" not in capsys.readouterr().err
    assert list(_features(out / "statistics.json")) == ["score", "tiny", "huge", "plain", "count", "city"]
    assert json.loads((out / "constraint_violations.json").read_text())["violations"] == []


def test_capture_that_fits_no_baseline_layout_says_so_and_reports_the_column_mismatch(tmp_path, capsys):
    frame = _pandas_frame(rows=500)
    baseline = _baseline(tmp_path, frame[["tiny", "huge", "plain"]])
    code, out = _monitor(tmp_path, baseline, _write_capture(tmp_path / "both", frame, with_output=True), "m")
    assert code == 0  # a run with violations completes; the violations are its result
    err = capsys.readouterr().err
    assert "captured rows have 5 input and 1 output field(s) but the baseline has 3 features" in err
    checks = {v["constraint_check_type"] for v in json.loads((out / "constraint_violations.json").read_text())["violations"]}
    assert "extra_column_check" in checks


def test_json_payloads_with_named_fields_map_by_name_whatever_their_key_order(tmp_path):
    frame = _pandas_frame(rows=1000)
    baseline = _baseline(tmp_path, frame)
    folder = tmp_path / "json"
    folder.mkdir()
    lines = []
    for i, row in enumerate(frame.to_dict(orient="records")):
        named = {key: (None if isinstance(value, float) and np.isnan(value) else value) for key, value in row.items()}
        shuffled = dict(reversed(list(named.items())))  # keys in another order than the baseline's columns
        document = {"instances": [shuffled]} if i % 2 else shuffled
        lines.append(json.dumps({
            "captureData": {
                "endpointInput": {"data": json.dumps(document), "encoding": "JSON", "observedContentType": "application/json"},
                "endpointOutput": {"data": json.dumps({"predictions": [0.5]}), "encoding": "JSON"},
            },
            "eventMetadata": {"eventId": str(i), "inferenceTime": "2024-01-01T10:15:00Z"}, "eventVersion": "0"}))
    (folder / "capture.jsonl").write_text("\n".join(lines) + "\n")
    code, out = _monitor(tmp_path, baseline, folder, "m")
    assert code == 0
    assert json.loads((out / "constraint_violations.json").read_text())["violations"] == []
    features = _features(out / "statistics.json")
    assert list(features) == list(frame.columns)
    assert features["plain"]["numerical_statistics"]["common"]["num_missing"] == frame["plain"].isna().sum()
    assert features["count"]["numerical_statistics"]["sum"] == frame["count"].sum()


@pytest.mark.parametrize("chunk_bytes", [4096, 4 << 20])
def test_a_quote_never_closed_costs_its_line_not_the_rest_of_the_file(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", chunk_bytes)
    rows = [f"C{i},{i},{i * 0.5},month" for i in range(5000)]
    rows[40] = 'C40,"unterminated,3,month'
    file = tmp_path / "quote.csv"
    file.write_text("id,n,x,plan\n" + "\n".join(rows) + "\n")
    problems = InputProblems()
    table = pa.Table.from_batches(list(read_csv_file(file, header=True, problems=problems)))
    assert table.num_rows == 4999 and problems.good == 4999
    assert problems.bad == 1 and problems.examples[0].line == 42
    assert table.column("id").to_pylist()[-1] == "C4999"


def test_quoted_values_with_line_breaks_stay_one_row(tmp_path):
    file = tmp_path / "notes.csv"
    file.write_text('id,note\n1,"first line\nsecond line"\n2,"say ""hi"""\n')
    problems = InputProblems()
    table = pa.Table.from_batches(list(read_csv_file(file, header=True, problems=problems)))
    assert table.column("note").to_pylist() == ["first line\nsecond line", 'say "hi"']
    assert (problems.good, problems.bad) == (2, 0)
