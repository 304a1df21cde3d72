"""Which labels a model-quality (and bias) window finds, as the no-data message and notes say it:
inferences of hour 10 whose labels are uploaded in hour 11."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.label_window import few_labels, label_window_hint
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.monitors.bias import run as bias_run
from model_monitor_analyzer.monitors.bias.request import BiasMonitorRequest
from tests.analyzer.test_model_quality_jobs import _monitor_args, _write_capture_and_labels

HOUR_10 = datetime(2024, 5, 2, 10, tzinfo=UTC)
HOUR_11 = HOUR_10 + timedelta(hours=1)


@pytest.fixture
def late_labels(tmp_path: Path) -> Path:
    """300 inferences captured in hour 10, their labels uploaded in hour 11."""
    rng = np.random.default_rng(5)
    labels = rng.random(300) < 0.4
    _write_capture_and_labels(tmp_path, rng.uniform(0, 1, 300), labels, captured_at=HOUR_10, labelled_at=HOUR_11)
    return tmp_path


def _window(root: Path, start: datetime, lookback: str):
    args = _monitor_args(
        "--capture", str(root / "capture"), "--ground-truth", str(root / "groundtruth"), "--output", str(root / "out"),
        "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
        "--probability-threshold", "0.5", "--start", f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "--end", f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}", "--ground-truth-lookback", lookback,
    )  # fmt: skip
    return job.run_monitor(args)


def test_the_inferences_own_window_finds_no_label_and_says_a_later_window_does(late_labels):
    outcome = _window(late_labels, HOUR_10, "PT0H")
    assert outcome.status is RunStatus.NO_DATA
    assert "300 captured inferences have no label uploaded in the window" in outcome.message
    assert "a later window whose --ground-truth-lookback reaches back" in outcome.message


def test_the_upload_hours_window_without_lookback_names_the_lookback_option(late_labels):
    outcome = _window(late_labels, HOUR_11, "PT0H")
    assert outcome.status is RunStatus.NO_DATA
    assert ("labels uploaded in [2024-05-02T11:00:00Z, 2024-05-02T12:00:00Z) are joined with inferences captured "
            "in [2024-05-02T11:00:00Z, 2024-05-02T12:00:00Z) (--ground-truth-lookback PT0H)") in outcome.message
    assert "300 labels uploaded in the window belong to no inference captured then" in outcome.message
    assert "longer --ground-truth-lookback" in outcome.message
    # nothing was captured in that time: the capture folder may be the wrong one too
    assert "no inference at all was captured then, so check too that --capture holds" in outcome.message


def test_the_upload_hours_window_with_a_one_hour_lookback_finds_every_label(late_labels, capsys):
    outcome = _window(late_labels, HOUR_11, "PT1H")
    assert outcome.status is RunStatus.COMPLETED
    assert outcome.summary["matched"] == 300
    assert "note: few labels" not in capsys.readouterr().err


def test_a_window_matching_fewer_labels_than_it_leaves_unmatched_says_why_on_stderr(tmp_path, capsys):
    rng = np.random.default_rng(7)
    _write_capture_and_labels(tmp_path, rng.uniform(0, 1, 50), rng.random(50) < 0.5, captured_at=HOUR_11,
                              labelled_at=HOUR_11)  # fmt: skip
    # and 200 inferences of hour 10 whose labels are uploaded in hour 11 too (other ids and files)
    _write_capture_and_labels(tmp_path, rng.uniform(0, 1, 200), rng.random(200) < 0.5, captured_at=HOUR_10,
                              labelled_at=HOUR_11)  # fmt: skip
    outcome = _window(tmp_path, HOUR_11, "PT0H")
    assert outcome.status is RunStatus.COMPLETED
    assert outcome.summary["matched"] == 50
    err = capsys.readouterr().err
    assert "note: few labels matched (50)" in err
    assert "200 labels uploaded in the window belong to no inference captured then" in err


@pytest.mark.parametrize(
    ("join", "few"),
    [({"matched": 0, "captures_without_label": 0, "labels_without_capture": 0}, True),
     ({"matched": 10, "captures_without_label": 11, "labels_without_capture": 0}, True),
     ({"matched": 10, "captures_without_label": 5, "labels_without_capture": 5}, False)],
)  # fmt: skip
def test_few_labels_means_none_or_fewer_matched_than_left_unmatched(join, few):
    assert few_labels(join) is few


def test_a_window_without_labels_or_captures_names_both_folders():
    hint = label_window_hint(start=HOUR_11, end=HOUR_11 + timedelta(hours=1), lookback=timedelta(minutes=90),
                             join={"matched": 0, "captures_without_label": 0, "labels_without_capture": 0})  # fmt: skip
    assert "captured in [2024-05-02T09:30:00Z, 2024-05-02T12:00:00Z) (--ground-truth-lookback PT1H30M)" in hint
    assert "check --ground-truth and --capture" in hint


def test_bias_windows_joined_from_captures_get_the_same_explanation():
    request = BiasMonitorRequest(analysis_config=Path("c.json"), output=Path("o"), capture=Path("c"),
                                 ground_truth=Path("g"), window=TimeWindow(start=HOUR_11, end=HOUR_11 + timedelta(hours=1)))
    join = {"matched": 0, "captures_without_label": 0, "labels_without_capture": 300, "duplicate_labels": 0}
    hint = bias_run.label_hint(request, join)
    assert hint is not None and "300 labels uploaded in the window belong to no inference" in hint
    assert bias_run.label_hint(replace(request, capture=None, ground_truth=None, merged=Path("m")), join) is None


def test_labels_waiting_for_older_captures_are_explained_by_the_look_back_even_beside_bad_lines():
    # 1,003 good labels whose captures are an hour older than the window (outside a look-back of 0), and 2 bad
    # label lines: the message says how to find the captures, not that nothing could be read
    from model_monitor_analyzer.jobs.label_window import no_labelled_data_message

    join = {"matched": 0, "captures_without_label": 0, "labels_without_capture": 1_003}
    message = no_labelled_data_message(merged=False, join=join, hint="raise --ground-truth-lookback to PT1H",
                                       malformed=2, first_problem="gt.jsonl:7: not a JSON ground-truth record")
    assert "1003 labels without a capture" in message and "--ground-truth-lookback" in message
    assert "could be read" not in message
    only_bad = no_labelled_data_message(merged=False, join={"matched": 0}, hint=None, malformed=2)
    assert "none of the window's records could be read (2 malformed" in only_bad


def test_no_label_matching_any_capture_points_at_the_lookback_too_only_when_older_captures_were_not_read():
    join = {"matched": 0, "captures_without_label": 5, "labels_without_capture": 4}
    start, end = datetime(2024, 5, 2, 11, tzinfo=UTC), datetime(2024, 5, 2, 12, tzinfo=UTC)
    bounded = label_window_hint(start=start, end=end, lookback=timedelta(0), join=join, id_samples=("id-9", "id-0"))
    assert "ids probably do not match" in bounded and "a longer --ground-truth-lookback finds" in bounded
    # from the beginning: every capture was read, so only the ids can be at fault
    unbounded = label_window_hint(start=None, end=end, lookback=timedelta(0), join=join, id_samples=("id-9", "id-0"))
    assert "ids probably do not match" in unbounded and "a longer --ground-truth-lookback" not in unbounded
