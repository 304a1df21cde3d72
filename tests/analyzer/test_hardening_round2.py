"""Second hardening round: each case a hostile or careless input found, named after it."""

from __future__ import annotations

import pytest

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.problems import InputProblems


def _bad(problems: InputProblems, count: int) -> None:
    for line in range(count):
        problems.record_bad("capture.jsonl", line + 1, "not a JSON record")


def test_all_records_bad_with_a_tolerance_of_one_says_none_could_be_read():
    problems = InputProblems(max_bad_record_ratio=1.0)
    _bad(problems, 50)
    with pytest.raises(AnalyzerInputError) as raised:
        problems.check()
    assert "none of the 50 records could be read" in str(raised.value)
    assert "more than the tolerated" not in str(raised.value)


@pytest.mark.parametrize(("ratio", "shown"), [(0.1, "10%"), (0.001, "0.1%"), (0.125, "12.5%")])
def test_the_tolerance_is_never_shown_rounded_onto_the_observed_share(ratio, shown):
    problems = InputProblems(max_bad_record_ratio=ratio)
    problems.record_good(999)
    _bad(problems, 200)
    with pytest.raises(AnalyzerInputError) as raised:
        problems.check()
    assert f"more than the tolerated {shown}" in str(raised.value)


@pytest.mark.parametrize("when", [1704104100, 1704104100.5, ["2024-01-01T10:15:00Z"]])
def test_a_numeric_inference_time_is_counted_as_what_it_is_not_as_missing(tmp_path, when):
    import json

    from model_monitor_analyzer.io.capture import read_capture_batches
    from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp

    lines = [{"captureData": {"endpointInput": {"data": "1,a", "encoding": "CSV"}},
              "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}] * 9
    lines.append({"captureData": {"endpointInput": {"data": "1,a", "encoding": "CSV"}},
                  "eventMetadata": {"inferenceTime": when}})
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    window = TimeWindow(start=parse_timestamp("2024-01-01T10:00:00Z"), end=parse_timestamp("2024-01-01T11:00:00Z"))
    problems = InputProblems()
    assert sum(b.num_rows for b in read_capture_batches(tmp_path, window=window, problems=problems)) == 9
    [problem] = problems.examples
    assert problem.line == 10 and f"inferenceTime {when!r} is not a time text" in problem.problem
    assert "has no" not in problem.problem
