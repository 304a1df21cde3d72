"""The benchmark's realistic data set looks like what users write with pandas, and its capture like
what an endpoint with input and output capture records."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from bench import realistic
from bench.contenders import floor, floor_polars
from bench.contenders.capture_lines import FEATURES_ONLY, capture_files, file_lines, header_names
from bench.generate import REALISTIC, DatasetSpec, _capture_lines, ensure_dataset

ROWS = 3_000


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    spec = DatasetSpec(records=ROWS, baseline_records=ROWS, kind=REALISTIC, records_per_file=1_000)
    return ensure_dataset(spec, data_root=tmp_path_factory.mktemp("data"), log=lambda _: None)


def _text_columns(path) -> pa.Table:
    """The baseline's fields as written (every column read as text, empty fields as nulls)."""
    names = header_names(path)
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True)
    return pacsv.read_csv(path, convert_options=options)


def _records(dataset) -> list[dict]:
    return [json.loads(line) for path in capture_files(dataset.capture_dir) for line in file_lines(path)]


def test_baseline_header_is_the_features_alone(dataset):
    assert header_names(dataset.baseline_csv) == list(realistic.FEATURE_NAMES)
    assert len(realistic.FEATURE_NAMES) == 20


def test_every_float_column_holds_values_in_exponent_notation(dataset):
    table = _text_columns(dataset.baseline_csv)
    for name in realistic.FLOAT_COLUMNS:
        written = pd.Series(table[name].to_pylist()).dropna()
        assert written.str.fullmatch(r"-?[0-9]\.?[0-9]*e-[0-9]{2}").sum() >= realistic.TINY_PER_CHUNK, name


def test_floats_are_written_at_full_precision(dataset):
    written = pd.Series(_text_columns(dataset.baseline_csv)["account_balance"].to_pylist())
    decimals = written.str.split(".").str[1].str.len()
    assert decimals.median() >= 10


def test_booleans_are_written_as_pandas_writes_them(dataset):
    table = _text_columns(dataset.baseline_csv)
    assert set(table["is_premium"].to_pylist()) == {"True", "False"}
    assert set(table["email_opt_in"].to_pylist()) == {"True", "False", None}


def test_missing_values_are_empty_fields_in_the_listed_columns(dataset):
    frame = pd.read_csv(dataset.baseline_csv)
    missing = frame.isna().sum()
    assert set(missing[missing > 0].index) == set(realistic.MISSING_COLUMNS)


def test_an_integer_column_with_gaps_is_written_as_floats(dataset):
    written = pd.Series(_text_columns(dataset.baseline_csv)["support_calls"].to_pylist()).dropna()
    assert written.str.fullmatch(r"[0-9]+\.0").all()


def test_postcodes_are_forty_thousand_distinct_strings():
    universe = realistic.postcode_universe(20240501)
    baseline_codes = universe[: realistic.POSTCODES]
    assert len(set(baseline_codes)) == 40_000
    assert len(set(universe)) == realistic.POSTCODES + realistic.NEW_POSTCODES
    assert pd.to_numeric(pd.Series(baseline_codes), errors="coerce").isna().all()


def test_capture_input_holds_the_baseline_features_and_output_the_score(dataset):
    records = _records(dataset)
    assert len(records) == ROWS
    inputs = "\n".join(r["captureData"]["endpointInput"]["data"] for r in records)
    frame = pd.read_csv(io.StringIO(inputs), header=None, names=list(realistic.FEATURE_NAMES))
    baseline = pd.read_csv(dataset.baseline_csv)
    assert [k.kind for k in frame.dtypes] == [k.kind for k in baseline.dtypes]
    scores = np.array([float(r["captureData"]["endpointOutput"]["data"]) for r in records])
    assert ((scores > 0) & (scores < 1)).all()


def test_the_same_spec_gives_identical_bytes(dataset, tmp_path):
    again = ensure_dataset(dataset.spec, data_root=tmp_path, log=lambda _: None)
    assert again.baseline_csv.read_bytes() == dataset.baseline_csv.read_bytes()
    mine = [p.read_bytes() for p in capture_files(dataset.capture_dir)]
    theirs = [p.read_bytes() for p in capture_files(again.capture_dir)]
    assert mine == theirs


def test_a_payload_that_needs_json_escaping_is_refused():
    times = np.array(["2024-05-01T00:00:00"], dtype="datetime64[s]")
    with pytest.raises(ValueError, match="quote"):
        _capture_lines(pa.array(['1,"a"']), pa.array(["0.5"]), times, pa.array(["id"]))


@pytest.mark.parametrize("parser", [floor, floor_polars], ids=["pyarrow", "polars"])
def test_both_floors_parse_every_row_of_the_realistic_set(dataset, parser):
    header = header_names(dataset.baseline_csv)
    assert parser.parse_baseline(dataset.baseline_csv) == ROWS
    assert parser.parse_capture(dataset.capture_dir, header, FEATURES_ONLY) == ROWS


def test_file_groups_keep_consecutive_files_within_the_byte_limit(tmp_path):
    sizes = [5, 5, 5, 12, 1]
    files = []
    for index, size in enumerate(sizes):
        path = tmp_path / f"{index}.jsonl"
        path.write_bytes(b"x" * size)
        files.append(path)
    groups = list(floor_polars.file_groups(files, max_bytes=10))
    assert [[p.name for p in g] for g in groups] == [["0.jsonl", "1.jsonl"], ["2.jsonl"], ["3.jsonl"], ["4.jsonl"]]
