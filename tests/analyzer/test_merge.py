"""Ground-truth merge against the real capture, ground-truth and merged files of the reference examples."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.ground_truth import ground_truth_record, read_ground_truth


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _as_capture(merged_record: dict) -> dict:
    """The capture record a merged record was made from, in the capture file's member order."""
    capture = merged_record["captureData"]
    reordered = {
        name: {key: part[key] for key in ("observedContentType", "mode", "data", "encoding")}
        for name, part in capture.items()
    }
    return {"captureData": reordered, "eventMetadata": merged_record["eventMetadata"], "eventVersion": "0"}


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture
def idea_to_production(reference_examples: Path) -> Path:
    return reference_examples / "from-idea-to-production-monitoring" / "notebook-output"


def test_merge_reproduces_the_real_merge_job_output(idea_to_production: Path, tmp_path: Path):
    real_merged = _lines(idea_to_production / "merged.jsonl")
    captures = _write_jsonl(tmp_path / "capture" / "ep" / "AllTraffic" / "2025" / "02" / "16" / "15" / "c.jsonl",
                            [_as_capture(r) for r in real_merged])  # fmt: skip
    ground_truth = tmp_path / "gt" / "2025" / "02" / "16" / "15"
    ground_truth.mkdir(parents=True)
    (ground_truth / "labels.jsonl").write_bytes((idea_to_production / "groundtruth.jsonl").read_bytes())

    result = merge.merge_records(merge.read_capture_records(captures), read_ground_truth(tmp_path / "gt"))

    assert result.records == real_merged
    # member order too: the merge job writes eventVersion, groundTruthData, captureData, eventMetadata
    assert [list(r) for r in result.records] == [list(r) for r in real_merged]
    assert [list(r["captureData"]["endpointInput"]) for r in result.records] == [
        list(r["captureData"]["endpointInput"]) for r in real_merged
    ]
    assert result.summary.as_dict() == {
        "matched": 2,
        "captures_without_label": 0,
        "labels_without_capture": 8,
        "duplicate_labels": 0,
        "captures_sharing_an_id": 0,
    }


def test_merge_joins_on_inference_id_when_the_capture_has_one(reference_examples: Path, tmp_path: Path):
    real = json.loads(
        (
            reference_examples / "ase-model-bias-monitor-adult" / "notebook-output" / "merged-record.json"
        ).read_text()
    )
    capture = _write_jsonl(tmp_path / "capture.jsonl", [_as_capture(real)])
    labels = _write_jsonl(tmp_path / "gt.jsonl", [{"groundTruthData": real["groundTruthData"],
                                                   "eventMetadata": {"eventId": "7"}, "eventVersion": "0"}])  # fmt: skip
    result = merge.merge_records(merge.read_capture_records(capture), read_ground_truth(labels))
    assert result.records == [real]
    assert list(result.records[0]) == list(real)


def test_merged_batch_record_yields_one_row_per_instance(reference_examples: Path):
    real = json.loads(
        (
            reference_examples / "ase-model-bias-monitor-adult" / "notebook-output" / "merged-record.json"
        ).read_text()
    )
    rows = merge.labelled_predictions(
        [real],
        inference_attribute="predictions[*].predicted_label",
        probability_attribute="$.predictions[*].score",
        ground_truth_attribute="instances[*].label",
    )
    outputs = json.loads(real["captureData"]["endpointOutput"]["data"])["predictions"]
    labels = json.loads(real["groundTruthData"]["data"])["instances"]
    assert len(rows.predictions) == len(rows.labels) == len(outputs) == 334
    assert rows.predictions == [o["predicted_label"] for o in outputs]
    assert rows.probabilities == [o["score"] for o in outputs]
    assert rows.labels == [label["label"] for label in labels]


def test_sdk_fixture_captures_join_the_sdk_fixture_actuals(reference_examples: Path):
    fixtures = reference_examples / "sdk-monitor-fixtures"
    captures = list(merge.read_capture_records(fixtures / "capture.jsonl"))
    labels = list(read_ground_truth(fixtures / "actuals.jsonl"))
    result = merge.merge_records(captures, labels)
    capture_ids = {merge.join_key(c) for c in captures}
    label_ids = {label.event_id for label in labels}
    assert result.summary.matched == sum(1 for c in captures if merge.join_key(c) in label_ids)
    assert result.summary.captures_without_label == sum(1 for c in captures if merge.join_key(c) not in label_ids)
    assert result.summary.labels_without_capture == len(label_ids - capture_ids)
    assert result.summary.matched > 0
    rows = merge.labelled_predictions(result.records, inference_attribute="0")
    assert all(float(p) > 0 for p in rows.predictions)
    assert set(rows.labels) <= {"0", "1"}


def test_json_capture_fixture_reads_predictions_by_path(reference_examples: Path):
    captures = list(
        merge.read_capture_records(reference_examples / "sdk-monitor-fixtures" / "captured-data.jsonl")
    )
    record = merge.merged_record(captures[0].raw, ground_truth_record("x", {"labels": [3, 4, 6]}))
    rows = merge.labelled_predictions(
        [record], inference_attribute="predictions", ground_truth_attribute="labels"
    )
    assert rows.predictions == [3.5, 4.0, 5.5]
    assert rows.labels == [3, 4, 6]


def test_real_ground_truth_files_are_read_with_their_upload_hour(reference_examples: Path, tmp_path: Path):
    source = reference_examples / "ase-model-monitor-ground-truth"
    hour = tmp_path / "2024" / "01" / "19" / "20"
    hour.mkdir(parents=True)
    for file in source.glob("*.jsonl"):
        (hour / file.name).write_bytes(file.read_bytes())
    labels = list(read_ground_truth(tmp_path))
    assert len(labels) == 10
    assert {label.uploaded_hour for label in labels} == {datetime(2024, 1, 19, 20, tzinfo=UTC)}
    assert {label.event_id + ".jsonl" for label in labels} == {f.name for f in source.glob("*.jsonl")}
    assert {label.data for label in labels} <= {"0", "1"}


def test_labels_outside_the_upload_window_are_not_read(tmp_path: Path):
    for hour in ("09", "10", "11"):
        _write_jsonl(
            tmp_path / "2024" / "05" / "01" / hour / "l.jsonl", [ground_truth_record(f"id-{hour}", 1)]
        )
    labels = read_ground_truth(
        tmp_path,
        uploaded_from=datetime(2024, 5, 1, 10, tzinfo=UTC),
        uploaded_before=datetime(2024, 5, 1, 11, tzinfo=UTC),
    )
    assert [label.event_id for label in labels] == ["id-10"]


def _capture(event_id: str, time: str, output: str = "1", inference_id: str | None = None) -> dict:
    metadata = {"eventId": event_id, "inferenceTime": time}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return {
        "captureData": {"endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": output,
                                           "encoding": "CSV"}},
        "eventMetadata": metadata,
        "eventVersion": "0",
    }  # fmt: skip


def test_a_later_label_replaces_an_earlier_one_for_the_same_inference(tmp_path: Path):
    captures = _write_jsonl(tmp_path / "c.jsonl", [_capture("e1", "2024-05-01T10:00:00Z", inference_id="a")])
    _write_jsonl(tmp_path / "gt" / "2024" / "05" / "01" / "10" / "x.jsonl", [ground_truth_record("a", 0)])
    _write_jsonl(tmp_path / "gt" / "2024" / "05" / "01" / "12" / "a.jsonl", [ground_truth_record("a", 1)])
    result = merge.merge_records(merge.read_capture_records(captures), read_ground_truth(tmp_path / "gt"))
    assert [r["groundTruthData"]["data"] for r in result.records] == ["1"]
    assert result.summary.duplicate_labels == 1
    assert result.summary.labels_without_capture == 0


def test_captures_are_filtered_by_inference_time_window(tmp_path: Path):
    captures = _write_jsonl(
        tmp_path / "c.jsonl",
        [_capture("e1", "2024-05-01T09:59:59Z"), _capture("e2", "2024-05-01T10:00:00Z"),
         _capture("e3", "2024-05-01T10:59:59Z"), _capture("e4", "2024-05-01T11:00:00Z")],
    )  # fmt: skip
    kept = merge.read_capture_records(
        captures, since=datetime(2024, 5, 1, 10, tzinfo=UTC), until=datetime(2024, 5, 1, 11, tzinfo=UTC)
    )
    assert [merge.join_key(c) for c in kept] == ["e2", "e3"]


def test_unplaceable_inference_time_in_a_window_is_an_input_error(reference_examples: Path):
    with pytest.raises(AnalyzerInputError, match="inferenceTime"):
        list(
            merge.read_capture_records(
                reference_examples / "sdk-monitor-fixtures" / "capture.jsonl",
                since=datetime(2020, 1, 1, tzinfo=UTC),
            )
        )


def test_written_merged_records_read_back_unchanged(idea_to_production: Path, tmp_path: Path):
    real_merged = _lines(idea_to_production / "merged.jsonl")
    path = merge.write_merged_records(real_merged, tmp_path / "merge")
    assert path.name.startswith("part-00000-") and path.name.endswith(".c000.jsonl")
    assert list(merge.read_merged_records(tmp_path / "merge")) == real_merged


def test_base64_json_output_is_decoded_by_content_type():
    import base64

    part = {"observedContentType": "application/json", "encoding": "BASE64",
            "data": base64.b64encode(b'{"score": 0.25}').decode()}  # fmt: skip
    kind, value = merge.decode_payload(part, source="t")
    assert merge.read_attribute(kind, value, "score", what="probability attribute", source="t") == [0.25]


def test_csv_mini_batch_gives_one_row_per_line():
    rows = merge.read_attribute("CSV", "0.2,1\n0.9,0\n", "1", what="inference attribute", source="t")
    assert rows == ["1", "0"]


def test_prediction_and_label_counts_must_agree():
    record = merge.merged_record(
        _capture("e", "2024-05-01T10:00:00Z", output="1\n0\n"), ground_truth_record("e", 1)
    )
    with pytest.raises(AnalyzerInputError, match="2 predictions but 1 labels"):
        merge.labelled_predictions([record], inference_attribute="0")


def test_a_path_that_finds_nothing_names_the_attribute():
    with pytest.raises(AnalyzerInputError, match="inference attribute 'predicted_label' matches nothing"):
        merge.read_attribute("JSON", {"score": 1}, "predicted_label", what="inference attribute", source="t")


# --------------------------------------------------------------------------------------------
# one capture record class, one bad-record policy
# --------------------------------------------------------------------------------------------


def test_the_merge_joins_io_capture_records_and_has_no_capture_class_of_its_own(tmp_path: Path):
    from model_monitor_analyzer.io import capture

    captures = _write_jsonl(tmp_path / "c.jsonl", [_capture("e1", "2024-05-01T10:00:00Z")])
    labels = _write_jsonl(tmp_path / "gt.jsonl", [ground_truth_record("e1", 1)])
    result = merge.merge_records(merge.read_capture_records(captures), read_ground_truth(labels))
    assert type(result.matches[0][0]) is capture.CaptureRecord
    assert not any(isinstance(value, type) and value.__module__ == merge.__name__ and "Capture" in name
                   for name, value in vars(merge).items())  # fmt: skip


def test_a_malformed_capture_line_is_counted_with_file_and_line_and_skipped(tmp_path: Path):
    from model_monitor_analyzer.io.problems import InputProblems

    path = _write_jsonl(tmp_path / "c.jsonl", [_capture(f"e{i}", "2024-05-01T10:00:00Z") for i in range(20)])
    lines = path.read_text().splitlines()
    lines[4] = '{"captureData": {"endpointOutput": '  # truncated by a crash of the writer
    path.write_text("\n".join(lines) + "\n")
    problems = InputProblems()
    kept = list(merge.read_capture_records(path, problems=problems))
    assert [merge.join_key(c) for c in kept] == [f"e{i}" for i in range(20) if i != 4]
    assert (problems.bad, problems.good) == (1, 19)
    assert (problems.examples[0].path, problems.examples[0].line) == (str(path), 5)


def test_a_malformed_ground_truth_line_is_counted_with_file_and_line_and_skipped(tmp_path: Path):
    from model_monitor_analyzer.io.problems import InputProblems

    path = _write_jsonl(tmp_path / "gt.jsonl", [ground_truth_record(f"e{i}", i % 2) for i in range(12)])
    lines = path.read_text().splitlines()
    lines[2] = "not json"
    lines[7] = json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {}})
    path.write_text("\n".join(lines) + "\n")
    problems = InputProblems()
    labels = list(read_ground_truth(path, problems=problems))
    assert [label.event_id for label in labels] == [f"e{i}" for i in range(12) if i not in (2, 7)]
    assert [(p.line, p.problem) for p in problems.examples] == [
        (3, problems.examples[0].problem),
        (8, "eventMetadata.eventId is missing or not a string"),
    ]
    assert problems.examples[0].problem.startswith("not a JSON ground-truth record")


def test_too_many_malformed_ground_truth_lines_fail_naming_the_first(tmp_path: Path):
    path = tmp_path / "gt.jsonl"
    path.write_text(json.dumps(ground_truth_record("a", 1)) + "\n{oops\n{oops\n")
    with pytest.raises(AnalyzerInputError, match="2 of 3 records are malformed") as error:
        list(read_ground_truth(path))
    assert (error.value.path, error.value.line) == (str(path), 2)


def test_a_malformed_merged_record_is_counted_and_skipped(idea_to_production: Path, tmp_path: Path):
    from model_monitor_analyzer.io.problems import InputProblems

    real_merged = _lines(idea_to_production / "merged.jsonl")
    path = tmp_path / "merged.jsonl"
    lines = [json.dumps(r) for r in real_merged] * 6
    lines.insert(3, json.dumps({"captureData": {}}))
    path.write_text("\n".join(lines) + "\n")
    problems = InputProblems()
    assert len(list(merge.read_merged_records(path, problems=problems))) == 12
    assert problems.examples[0].line == 4 and "groundTruthData" in problems.examples[0].problem


def test_a_writer_left_on_an_error_leaves_no_file_and_no_folder(tmp_path: Path):
    with pytest.raises(RuntimeError), merge.MergedRecordsWriter(tmp_path / "merge") as writer:
        writer.write({"captureData": {}}, {"groundTruthData": {}})
        raise RuntimeError("the run failed")
    assert not (tmp_path / "merge").exists()


def test_no_merged_record_writes_no_file(tmp_path: Path):
    assert merge.write_merged_records([], tmp_path / "merge") is None
    assert not (tmp_path / "merge").exists()


def test_written_join_reads_back_as_the_merged_records(idea_to_production: Path, tmp_path: Path):
    real_merged = _lines(idea_to_production / "merged.jsonl")
    captures = _write_jsonl(tmp_path / "c.jsonl", [_as_capture(r) for r in real_merged])
    labels = _write_jsonl(tmp_path / "gt" / "l.jsonl", _lines(idea_to_production / "groundtruth.jsonl"))
    result = merge.merge_records(merge.read_capture_records(captures), read_ground_truth(labels))
    with merge.MergedRecordsWriter(tmp_path / "merge") as writer:
        for capture, label in result.matches:
            writer.write(capture.raw, label.record)
    assert not list((tmp_path / "merge").glob("part-*"))  # named only once the run has succeeded
    written = writer.publish()
    assert written is not None and written.name.startswith("part-00000-") and written.name.endswith(".c000.jsonl")
    assert [json.loads(line) for line in written.read_text().splitlines()] == real_merged
    assert [list(json.loads(line)) for line in written.read_text().splitlines()] == [list(r) for r in real_merged]


def _mixed_records() -> list[dict]:
    """Merged records whose payloads the per-record reader handles: padded, mini-batch-free CSV."""
    records = []
    for i, (output, label) in enumerate([("0.9,1", "1"), (" 0.2 , 0\n", "0\n"), ("0.7,1\r\n", " 1"), ("0.4,0", "0")]):
        records.append(merge.merged_record(
            _capture(f"e{i}", "2024-05-01T10:00:00Z", output=output), ground_truth_record(f"e{i}", 0) | {
                "groundTruthData": {"data": label, "encoding": "CSV"}},
        ))  # fmt: skip
    return records


def test_column_reader_gives_the_per_record_readers_values():
    records = _mixed_records()
    attributes = merge.ValueAttributes(inference_attribute="1", probability_attribute="0")
    columns = merge.labelled_columns(records, attributes)
    rows = merge.labelled_predictions(records, inference_attribute="1", probability_attribute="0")
    assert columns.predictions.to_pylist() == rows.predictions == ["1", "0", "1", "0"]
    assert columns.probabilities.to_pylist() == rows.probabilities == ["0.9", "0.2", "0.7", "0.4"]
    assert columns.labels.to_pylist() == rows.labels == ["1", "0", "1", "0"]


def test_column_reader_falls_back_to_the_per_record_reader_for_json_and_batches(reference_examples: Path):
    real = json.loads(
        (reference_examples / "ase-model-bias-monitor-adult" / "notebook-output" / "merged-record.json").read_text()
    )
    records = [*_mixed_records(), real]
    attributes = merge.ValueAttributes(inference_attribute="predictions[*].predicted_label",
                                       ground_truth_attribute="instances[*].label")  # fmt: skip
    with pytest.raises(AnalyzerInputError, match="must be a 0-based column index"):
        merge.labelled_columns(records, attributes)
    columns = merge.labelled_columns([real], attributes)
    outputs = json.loads(real["captureData"]["endpointOutput"]["data"])["predictions"]
    assert columns.predictions.to_pylist() == [str(o["predicted_label"]) for o in outputs]
    metadata = real["eventMetadata"]
    assert columns.event_ids.to_pylist() == [metadata.get("inferenceId") or metadata["eventId"]] * len(outputs)


def test_the_column_reader_says_each_rows_event_and_keeps_it_through_a_filter():
    columns = merge.labelled_columns(_mixed_records(), merge.ValueAttributes(inference_attribute="1"))
    assert columns.event_ids.to_pylist() == ["e0", "e1", "e2", "e3"]
    kept = columns.filter([False, True, False, True])
    assert (kept.event_ids.to_pylist(), kept.labels.to_pylist()) == (["e1", "e3"], ["0", "0"])


def test_columns_built_from_parsed_json_captures_match_the_per_record_reader(reference_examples: Path, tmp_path: Path):
    captures = list(merge.read_capture_records(reference_examples / "sdk-monitor-fixtures" / "captured-data.jsonl"))
    labels_file = _write_jsonl(
        tmp_path / "gt.jsonl", [ground_truth_record(merge.join_key(c), {"labels": [3, 4, 6]}) for c in captures]
    )
    result = merge.merge_records(captures, read_ground_truth(labels_file))
    builder = merge.LabelledColumnsBuilder()
    for capture, label in result.matches:
        builder.add(capture, label)
    columns = builder.columns(merge.ValueAttributes(inference_attribute="predictions", ground_truth_attribute="labels"))
    rows = merge.labelled_predictions(result.records, inference_attribute="predictions", ground_truth_attribute="labels")
    assert columns.predictions.to_pylist() == [repr(p) for p in rows.predictions]
    assert columns.labels.to_pylist() == [str(v) for v in rows.labels]
    assert len(rows.labels) == 3 * len(captures)


def _capture_line(inference_id: str | None, event_id: str, score: str) -> dict:
    metadata = {"eventId": event_id, "inferenceTime": "2024-01-19T20:00:00Z"}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return {"captureData": {"endpointOutput": {"data": score, "encoding": "CSV"}}, "eventMetadata": metadata,
            "eventVersion": "0"}


@pytest.fixture
def tangled_window(tmp_path: Path) -> tuple[Path, Path]:
    """Captures and labels with every case of the join: duplicate labels (in two upload hours), captures
    sharing an id, captures without a label (one known only by its eventId), labels without a capture, a
    malformed label line."""
    captures = [_capture_line(f"id-{i % 40}" if i != 7 else None, f"ev-{i}", f"0.{i % 10}") for i in range(60)]
    capture_file = _write_jsonl(tmp_path / "capture" / "c.jsonl", captures)
    hour = tmp_path / "gt" / "2024" / "01" / "19" / "20"
    _write_jsonl(hour / "a.jsonl", [ground_truth_record(f"id-{i}", i % 2) for i in range(0, 30)])
    late = [ground_truth_record(f"id-{i}", 1 - i % 2) for i in range(20, 35)] + [ground_truth_record("orphan", 1)]
    (hour / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in late) + "{not json\n")
    return capture_file, tmp_path / "gt"


def test_the_label_columns_hold_the_labels_read_one_by_one_with_the_same_problems(tangled_window):
    from model_monitor_analyzer.io.ground_truth import read_ground_truth_columns
    from model_monitor_analyzer.io.problems import InputProblems

    _, labels = tangled_window
    one_by_one, by_columns = InputProblems(max_bad_record_ratio=0.5), InputProblems(max_bad_record_ratio=0.5)
    read = list(read_ground_truth(labels, problems=one_by_one))
    columns = read_ground_truth_columns(labels, problems=by_columns)
    assert columns.event_ids.to_pylist() == [label.event_id for label in read]
    assert columns.data.to_pylist() == [label.data for label in read]
    assert list(columns.records) == [label.record for label in read]
    assert columns.encodings.to_pylist() == [label.encoding for label in read]
    assert (by_columns.good, by_columns.bad, by_columns.examples) == (one_by_one.good, one_by_one.bad, one_by_one.examples)
    assert (Path(by_columns.examples[0].path).name, by_columns.examples[0].line) == ("b.jsonl", 17)


@pytest.mark.parametrize("batch_records", [1, 7, 64, 65_536])
def test_the_column_join_keeps_todays_rules_whatever_the_batches(tangled_window, batch_records):
    from model_monitor_analyzer.io.ground_truth import read_ground_truth_columns
    from model_monitor_analyzer.io.problems import InputProblems

    capture_file, labels = tangled_window
    captures = list(merge.read_capture_records(capture_file))
    join = merge.WindowJoin(read_ground_truth_columns(labels, problems=InputProblems(max_bad_record_ratio=0.5)))
    pairs = [(capture, join.labels.records[row]) for matched, rows in join.matched_batches(captures, batch_records=batch_records)
             for capture, row in zip(matched, rows.tolist(), strict=True)]  # fmt: skip
    # reference: the rules said plainly, on dicts
    latest = {}
    for label in read_ground_truth(labels, problems=InputProblems(max_bad_record_ratio=0.5)):
        latest[label.event_id] = label.record  # the last one read wins
    expected = [(c, latest[merge.join_key(c)]) for c in captures if merge.join_key(c) in latest]
    assert [(c.path, c.line, label) for c, label in pairs] == [(c.path, c.line, label) for c, label in expected]
    ids = [merge.join_key(c) for c, _ in expected]
    assert join.summary.as_dict() == {
        "matched": len(expected),
        "captures_without_label": len(captures) - len(expected),
        "labels_without_capture": len(set(latest) - set(ids)),
        "duplicate_labels": 46 - len(latest),
        "captures_sharing_an_id": len(ids) - len(set(ids)),
    }
    # counted by hand: ids 35-39 and the capture known only by its eventId have no label; ids 20-29 were sent
    # twice; the second captures of ids 0-19 share them, but for id 7, whose first capture had no inferenceId
    assert join.summary.as_dict() == {"matched": 54, "captures_without_label": 6, "labels_without_capture": 1,
                                      "duplicate_labels": 10, "captures_sharing_an_id": 19}


# A lone carriage return ends a row as a line feed does; blanks are what str.isspace calls blanks (\v, \xa0 too).
_FIELD_PIECES = ["0.5", "1", "0", " 0.25 ", ",", "", " ", "\t", "\f", "\n", '"', "x", "1,2", "0.1,0.9", ",,", "\r",
                 "\v", "\xa0", "\u2003"]


def _values_or_error(read, *args, **kwargs) -> object:
    try:
        columns = read(*args, **kwargs)
    except AnalyzerInputError as error:
        return str(error)
    return [[*map(str, column)] if column is not None else None for column in
            (columns.predictions, columns.probabilities, columns.labels)]


@pytest.mark.parametrize("seed", range(4))
def test_the_column_reader_gives_the_per_record_readers_values_or_error_on_single_fields_and_blanks(seed, monkeypatch):
    # one field a row (no comma: the column reader takes it without a split), rows of blanks and commas, quotes,
    # line breaks, a row short of a field: each batch as the per-record reader reads it
    rng = random.Random(seed)
    taken = []
    column_wise = merge._one_row_csv_columns
    monkeypatch.setattr(merge, "_one_row_csv_columns", lambda *a: taken.append(column_wise(*a) is not None) or column_wise(*a))
    for _ in range(300):
        plain = rng.random() < 0.4
        rows = [(rng.choice(["0.5", "1", " 0.25 ", "0\n", "1\r\n", "\f1"]) if plain else
                 "".join(rng.choice(_FIELD_PIECES) for _ in range(rng.randint(0, 3))),
                 rng.choice(["0", "1", " 1\n"]) if plain else "".join(rng.choice(_FIELD_PIECES) for _ in range(2)))
                for _ in range(rng.randint(1, 5))]
        records = [merge.merged_record(_capture(f"e{i}", "2024-05-01T10:00:00Z", output=output),
                                       ground_truth_record(f"e{i}", 0) | {
                                           "groundTruthData": {"data": label, "encoding": rng.choice(["CSV", "csv"])}})
                   for i, (output, label) in enumerate(rows)]
        for inference, probability in (("0", "0"), ("1", "0"), (None, None), ("0", None)):
            attributes = merge.ValueAttributes(inference_attribute=inference, probability_attribute=probability)
            expected = _values_or_error(lambda records=records, inference=inference, probability=probability:
                                        merge.LabelledColumns(**{
                name: None if values is None else pa.array(values, pa.string()) for name, values in vars(
                    merge.labelled_predictions(records, inference_attribute=inference,
                                               probability_attribute=probability)).items()
                if name in ("predictions", "probabilities", "labels")}))
            assert _values_or_error(merge.labelled_columns, records, attributes) == expected
    assert sum(taken) > 100  # many batches were read column-wise


@pytest.mark.parametrize("seed", range(4))
def test_a_builder_carried_to_another_process_gives_the_same_columns(seed):
    # a chunk's column holding one text in every row (an encoding, a content type, an empty text, a text beyond
    # ASCII, a slice of a longer column) travels as that text once; other columns, and columns with a null, as
    # they are; the columns read after the trip are those read before
    import pickle

    import numpy as np

    from model_monitor_analyzer.io.capture import CapturedOutputs
    from model_monitor_analyzer.io.ground_truth import GroundTruthColumns

    rng = random.Random(seed)
    builder = merge.LabelledColumnsBuilder()
    for _ in range(rng.randint(1, 5)):
        count = rng.randint(1, 40)

        def column(kinds: list[str], count: int = count) -> pa.Array:
            kind = rng.choice(kinds)
            if kind == "slice":
                return pa.array(["x"] * 3 + ["CSV"] * count + ["y"]).slice(3, count)
            texts = {"one": ["CSV"] * count, "empty": [""] * count, "accent": ["é/csv"] * count,
                     "mixed": [rng.choice(["CSV", "csv"]) for _ in range(count)],
                     "null": [None] + ["text/csv"] * (count - 1)}[kind]
            return pa.array(texts, pa.string())

        encodings = ["one", "one", "mixed", "slice"]  # encodings the readers take
        outputs = CapturedOutputs(keys=pa.array([f"id-{i}" for i in range(count)]),
                                  data=pa.array([str(rng.random()) for _ in range(count)]), encodings=column(encodings),
                                  content_types=column([*encodings, "empty", "accent", "null"]),
                                  lines=(b"", np.zeros(count, np.int64), np.zeros(count, np.int64)))
        labels = GroundTruthColumns(event_ids=pa.array([f"id-{i}" for i in range(count)]),
                                    data=pa.array([str(rng.randint(0, 1)) for _ in range(count)]),
                                    encodings=column(encodings), records=[])
        positions = np.arange(count) if rng.random() < 0.5 else np.array(sorted(rng.sample(range(count), count // 2 + 1)))
        builder.add_matched_outputs(outputs, positions, labels, np.arange(len(positions))[::-1].copy())
    before = [builder._joined(chunks, c).to_pylist() for chunks in (builder._output_chunks, builder._label_chunks)
              for c in range(3)]
    carried = pickle.loads(pickle.dumps(builder))
    assert any(isinstance(column, merge._RepeatedText) for chunk in carried._output_chunks for column in chunk)
    after = [carried._joined(chunks, c).to_pylist() for chunks in (carried._output_chunks, carried._label_chunks)
             for c in range(3)]
    assert after == before
    attributes = merge.ValueAttributes(inference_attribute="0")
    assert carried.columns(attributes) == builder.columns(attributes)
