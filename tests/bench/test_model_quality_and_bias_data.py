"""The model-quality and bias benchmarks' data: every label belongs to a capture the monitor's look-back reaches,
and the floors read every row."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from bench import bias_speed, model_quality_speed
from bench.contenders import floor_model_quality, floor_table
from bench.contenders.capture_lines import capture_files, file_lines

RECORDS = 900


@pytest.fixture(scope="module")
def model_quality_data(tmp_path_factory):
    return model_quality_speed.ensure_data(
        RECORDS, data_root=tmp_path_factory.mktemp("data"), log=lambda _: None
    )


def _lines(folder) -> list[tuple[str, dict]]:
    return [
        (path.parent.as_posix(), json.loads(line))
        for path in capture_files(folder)
        for line in file_lines(path)
    ]


def test_every_label_names_one_capture(model_quality_data):
    captures = [record for _, record in _lines(model_quality_data.capture_dir)]
    labels = [record for _, record in _lines(model_quality_data.ground_truth_dir)]
    inference_ids = [record["eventMetadata"]["inferenceId"] for record in captures]
    assert len(set(inference_ids)) == RECORDS
    assert sorted(record["eventMetadata"]["eventId"] for record in labels) == sorted(inference_ids)
    assert {record["groundTruthData"]["data"] for record in labels} == {"0", "1"}


def test_captures_lie_in_the_look_back_before_the_labels_hour_in_their_hour_folders(model_quality_data):
    start = model_quality_speed.START.replace(tzinfo=None)
    earliest = start - timedelta(hours=model_quality_speed.CAPTURE_HOURS)
    for folder, record in _lines(model_quality_data.capture_dir):
        moment = datetime.strptime(record["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ")
        assert earliest <= moment < start
        assert folder.endswith(moment.strftime("%Y/%m/%d/%H"))
        assert 0.0 <= float(record["captureData"]["endpointOutput"]["data"]) <= 1.0


def test_model_quality_floor_reads_every_capture_and_label(model_quality_data):
    assert floor_model_quality.parse_captures(model_quality_data.capture_dir) == RECORDS
    assert floor_model_quality.parse_ground_truth(model_quality_data.ground_truth_dir) == RECORDS


def test_joined_records_are_the_confusion_matrix_total():
    statistics = {
        "binary_classification_metrics": {"confusion_matrix": {"0": {"0": 5, "1": 2}, "1": {"0": 1, "1": 4}}}
    }
    assert model_quality_speed.joined_records(statistics) == 12


@pytest.mark.parametrize("reader", floor_table.READERS)
def test_bias_floor_reads_every_row_and_column(tmp_path, reader):
    data = bias_speed.ensure_data(RECORDS, data_root=tmp_path, log=lambda _: None)
    assert floor_table.read_rows(reader, data.dataset) == RECORDS
    header = data.dataset.read_text().splitlines()[0].replace('"', "").split(",")
    config = json.loads(data.config.read_text())
    assert {
        config["label"],
        config["predicted_label"],
        config["group_variable"],
        config["facet"][0]["name_or_index"],
    } <= set(header)
