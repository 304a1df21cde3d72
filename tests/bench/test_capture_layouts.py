"""The capture layouts hold the data set's records, reshaped as users' endpoints capture them, and the floors read
every record of every layout."""

from __future__ import annotations

import json

import pytest

from bench.capture_layouts import LAYOUTS, Layout, ensure_layout
from bench.contenders import floor_polars
from bench.contenders.capture_lines import FEATURES_ONLY, capture_files, file_lines, header_names
from bench.generate import KINDS, DatasetSpec, ensure_dataset

RECORDS = 1_200


@pytest.fixture(scope="module", params=sorted(KINDS))
def dataset(request, tmp_path_factory):
    spec = DatasetSpec(records=RECORDS, baseline_records=RECORDS, kind=request.param, records_per_file=300)
    return ensure_dataset(spec, data_root=tmp_path_factory.mktemp("data"), log=lambda _: None)


@pytest.fixture(scope="module")
def layouts_root(tmp_path_factory):
    return tmp_path_factory.mktemp("layouts")


def _records(capture_dir) -> list[dict]:
    return [json.loads(line) for path in capture_files(capture_dir) for line in file_lines(path)]


def _csv_value(field: str) -> object:
    """A CSV field as a JSON writer would hold it: empty is null, numbers and booleans are themselves."""
    if field == "":
        return None
    if field in ("True", "False"):
        return field == "True"
    for number in (int, float):
        try:
            return number(field)
        except ValueError:
            pass
    return field


def test_json_input_holds_the_values_of_the_csv_input_in_order(dataset, layouts_root):
    laid_out = ensure_layout(dataset, Layout(one_file=False, output=True, json_input=True), root=layouts_root)
    originals, reshaped = _records(dataset.capture_dir), _records(laid_out.capture_dir)
    assert len(reshaped) == len(originals) == RECORDS
    for original, record in zip(originals, reshaped, strict=True):
        endpoint_input = record["captureData"]["endpointInput"]
        assert endpoint_input["encoding"] == "JSON"
        assert endpoint_input["observedContentType"] == "application/json"
        expected = [
            _csv_value(field) for field in original["captureData"]["endpointInput"]["data"].split(",")
        ]
        assert json.loads(endpoint_input["data"]) == expected
        assert record["captureData"]["endpointOutput"] == original["captureData"]["endpointOutput"]


def test_input_only_layout_leaves_out_the_output_and_keeps_every_other_field(dataset, layouts_root):
    laid_out = ensure_layout(
        dataset, Layout(one_file=False, output=False, json_input=False), root=layouts_root
    )
    for original, record in zip(_records(dataset.capture_dir), _records(laid_out.capture_dir), strict=True):
        assert record["captureData"] == {"endpointInput": original["captureData"]["endpointInput"]}
        assert {k: v for k, v in record.items() if k != "captureData"} == {
            k: v for k, v in original.items() if k != "captureData"
        }


def test_one_file_layout_holds_every_record_in_order_in_one_file(dataset, layouts_root):
    laid_out = ensure_layout(dataset, Layout(one_file=True, output=True, json_input=False), root=layouts_root)
    assert len(capture_files(laid_out.capture_dir)) == 1
    assert len(capture_files(dataset.capture_dir)) > 1
    assert _records(laid_out.capture_dir) == _records(dataset.capture_dir)


def test_input_only_baseline_is_the_baseline_without_the_score(dataset, layouts_root):
    laid_out = ensure_layout(
        dataset, Layout(one_file=False, output=False, json_input=False), root=layouts_root
    )
    inputs = _records(dataset.capture_dir)[0]["captureData"]["endpointInput"]["data"]
    assert len(header_names(laid_out.baseline_csv)) == len(inputs.split(","))
    original = dataset.baseline_csv.read_text().splitlines()
    expected = (
        original if dataset.kind.layout == FEATURES_ONLY else [row.split(",", 1)[1] for row in original]
    )
    assert laid_out.baseline_csv.read_text().splitlines() == expected


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.slug)
def test_polars_floor_reads_every_record_of_every_layout(dataset, layouts_root, layout):
    laid_out = ensure_layout(dataset, layout, root=layouts_root)
    header = header_names(laid_out.baseline_csv)
    assert floor_polars.parse_capture(laid_out.capture_dir, header, laid_out.payload_layout) == RECORDS
