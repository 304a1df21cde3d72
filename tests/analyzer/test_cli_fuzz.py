"""Fuzzed command lines: random and mutated capture lines, CSV bytes, JSON documents and option values.

Whatever the input, a run ends one of two ways: exit 0 with a result whose records and counted bad
records add up to the input, or exit 2 with one ``error:`` line. Never a traceback (exit 70), never a
hang. ``FUZZ_EXAMPLES`` raises the number of examples per test for a longer run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model_monitor_analyzer.cli import main
from tests.analyzer.test_reader_fuzz import _data_lines, capture_lines, json_values, lines_strategy

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HANG_SECONDS = 60
WINDOW = ["--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"]


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def _hang(*_: object) -> None:
        raise TimeoutError(f"the run did not end within {seconds} s")

    previous = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(argv: list[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one in-process run; fails on a traceback or a second error line."""
    out, err = io.StringIO(), io.StringIO()
    with _time_limit(HANG_SECONDS), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's usage errors: one line too
            code = exit_.code
    stderr = err.getvalue()
    assert "Traceback" not in stderr and code in (0, 2), (code, stderr)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == (1 if code == 2 else 0), stderr
    return code, out.getvalue(), stderr


def _summary_number(stdout: str, key: str) -> int:
    found = re.search(rf"\b{key} (\d+)", stdout)
    return int(found.group(1)) if found else 0


_ROOT: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _fuzz_root(tmp_path_factory) -> None:
    _ROOT[:] = [tmp_path_factory.mktemp("fuzz")]  # pytest removes it with its other old temporary folders


def _fresh(prefix: str) -> Path:
    """A new folder for one example (hypothesis runs many in one test's temporary folder)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_ROOT[0]))


@pytest.fixture(scope="module")
def dq_baseline(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dq")
    data = folder / "train.csv"
    data.write_text("a,b,c\n" + "".join(f"{i % 7},{i * 0.5},{'xyz'[i % 3]}\n" for i in range(300)))
    code, _, _ = run(["baseline", "--dataset", str(data), "--output", str(folder / "baseline"), "--quiet"])
    assert code == 0
    return folder / "baseline"


# ------------------------------------------------------------------ data quality
headers = st.sampled_from([b"a,b,c", b"\xef\xbb\xbfa,b,c", b"a,,c", b"a,a,c", b",b,c", b"a;b;c", b"a,b,c,d"])


@_SETTINGS
@given(header=headers, lines=lines_strategy)
def test_a_baseline_of_any_csv_bytes_counts_every_line_or_is_one_error(header, lines):
    body = b"\n".join(line for line in lines if b"\r" not in line) + b"\n"
    work = _fresh("dq-baseline-")
    (work / "data.csv").write_bytes(header + b"\n" + body)
    code, stdout, _ = run(["baseline", "--dataset", str(work / "data.csv"), "--output", str(work / "out"), "--quiet",
                           "--max-bad-record-ratio", "1"])  # fmt: skip
    if code == 0:
        items = json.loads((work / "out" / "statistics.json").read_text())["dataset"]["item_count"]
        assert items + _summary_number(stdout, "bad_records") == _data_lines(body)


@_SETTINGS
@given(lines=capture_lines, names=st.sampled_from([[], ["--capture-index-names", "endpointInput"]]))
def test_monitoring_any_capture_lines_counts_every_line_or_is_one_error(dq_baseline, lines, names):
    work = _fresh("dq-monitor-")
    (work / "capture").mkdir()
    (work / "capture" / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    code, stdout, _ = run(["monitor", "--capture", str(work / "capture"), "--statistics", str(dq_baseline / "statistics.json"),
                           "--constraints", str(dq_baseline / "constraints.json"), "--output", str(work / "out"),
                           "--quiet", "--max-bad-record-ratio", "1", *WINDOW, *names])  # fmt: skip
    if code == 0:
        statistics = work / "out" / "statistics.json"
        items = json.loads(statistics.read_text())["dataset"]["item_count"] if statistics.exists() else 0
        assert items + _summary_number(stdout, "bad_records") == len(lines)


def _capture_folder(work: Path, *, rows: int) -> Path:
    """A capture of ``rows`` well-formed records of the baseline's three columns, in the window."""
    capture = work / "capture"
    capture.mkdir()
    (capture / "a.jsonl").write_bytes(b"\n".join(
        orjson.dumps({"captureData": {"endpointInput": {"data": f"{i},{i / 3},{'xyw'[i % 3]}", "encoding": "CSV"}},
                      "eventMetadata": {"inferenceTime": "2024-01-01T10:30:00Z"}}) for i in range(rows)) + b"\n")
    return capture


number_texts = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "1e309", "-0", "0", "1", "0.5", "1.0000001", "-1", "", " ", "abc", "5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
time_texts = st.sampled_from(["2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z", "2024-01-01T10:99:99Z", "2024-13-01T00:00:00Z",
                              "yesterday", "", "2024-01-01", "2024-01-01T10:00:00+02:00", "1704103200"])


@_SETTINGS
@given(ratio=number_texts, start=time_texts, end=time_texts, workers=st.sampled_from(["1", "2", "0", "-3", "x"]))
def test_any_option_values_give_a_result_or_one_error(dq_baseline, ratio, start, end, workers):
    work = _fresh("dq-options-")
    capture = _capture_folder(work, rows=20)
    run(["monitor", "--capture", str(capture), "--statistics", str(dq_baseline / "statistics.json"),
         "--constraints", str(dq_baseline / "constraints.json"), "--output", str(work / "out"), "--quiet",
         f"--max-bad-record-ratio={ratio}", f"--start={start}", f"--end={end}", f"--workers={workers}"])


def _mutated(document: object, data: st.DataObject) -> object:
    """``document`` with one value somewhere replaced by a random JSON value, or a key dropped."""
    if isinstance(document, dict) and document:
        key = data.draw(st.sampled_from(sorted(document)))
        action = data.draw(st.sampled_from(["replace", "drop", "descend"]))
        copy = dict(document)
        if action == "drop":
            del copy[key]
        elif action == "replace":
            copy[key] = data.draw(json_values)
        else:
            copy[key] = _mutated(copy[key], data)
        return copy
    if isinstance(document, list) and document:
        index = data.draw(st.integers(0, len(document) - 1))
        copy = list(document)
        copy[index] = _mutated(copy[index], data)
        return copy
    return data.draw(json_values)


@_SETTINGS
@given(data=st.data(), which=st.sampled_from(["statistics.json", "constraints.json"]))
def test_a_mutated_baseline_document_gives_a_result_or_one_error(dq_baseline, data, which):
    work = _fresh("dq-documents-")
    for name in ("statistics.json", "constraints.json"):
        document = json.loads((dq_baseline / name).read_text())
        for _ in range(data.draw(st.integers(1, 3)) if name == which else 0):
            document = _mutated(document, data)
        (work / name).write_bytes(orjson.dumps(document))
    capture = _capture_folder(work, rows=30)
    run(["monitor", "--capture", str(capture), "--statistics", str(work / "statistics.json"),
         "--constraints", str(work / "constraints.json"), "--output", str(work / "out"), "--quiet", *WINDOW])


# ------------------------------------------------------------------ model quality
def _mq_lines(data: st.DataObject, count: int) -> tuple[list[bytes], list[bytes]]:
    captures, labels = [], []
    for i in range(count):
        score = data.draw(st.sampled_from(["0.9", "0.1", "1", "0", "", "abc", "1e-3", "nan", "-2"]))
        captures.append(orjson.dumps({
            "captureData": {"endpointInput": {"data": "1,2", "encoding": "CSV"},
                            "endpointOutput": {"data": score, "encoding": "CSV"}},
            "eventMetadata": {"eventId": f"e{i}", "inferenceTime": "2024-01-01T10:10:00Z"}}))
        label = data.draw(st.sampled_from(["1", "0", "true", "", "x", "2"]))
        labels.append(orjson.dumps({"groundTruthData": {"data": label, "encoding": "CSV"},
                                    "eventMetadata": {"eventId": f"e{i}"}, "eventVersion": "0"}))
    broken = data.draw(st.lists(st.sampled_from([b"{", b"[]", b"\xff", b'{"captureData": 1}']), max_size=3))
    return captures + broken, labels + data.draw(st.lists(st.sampled_from([b"{", b'{"groundTruthData": {}}']), max_size=2))


@_SETTINGS
@given(data=st.data(), problem=st.sampled_from(["BinaryClassification", "Regression", "MulticlassClassification"]),
       threshold=number_texts)
def test_model_quality_over_any_captures_and_labels_gives_a_result_or_one_error(data, problem, threshold):
    work = _fresh("mq-")
    captures, labels = _mq_lines(data, data.draw(st.integers(0, 25)))
    (work / "capture" / "2024" / "01" / "01" / "10").mkdir(parents=True)
    (work / "capture" / "2024" / "01" / "01" / "10" / "a.jsonl").write_bytes(b"\n".join(captures) + b"\n")
    (work / "gt" / "2024" / "01" / "01" / "10").mkdir(parents=True)
    (work / "gt" / "2024" / "01" / "01" / "10" / "labels.jsonl").write_bytes(b"\n".join(labels) + b"\n")
    argv = ["monitor", "--type", "model-quality", "--capture", str(work / "capture"), "--ground-truth", str(work / "gt"),
            "--output", str(work / "out"), "--problem-type", problem, "--inference-attribute", "0", "--quiet",
            "--max-bad-record-ratio", "1", *WINDOW]  # fmt: skip
    if problem == "BinaryClassification":
        argv += ["--probability-attribute", "0", f"--probability-threshold={threshold}"]
    run(argv)


# ------------------------------------------------------------------ bias
BIAS_CONFIG = {"dataset_type": "text/csv", "label": "y", "label_values_or_threshold": [1], "predicted_label": "score",
               "probability_threshold": 0.5, "facet": [{"name_or_index": "sex"}]}
bias_fields = [b"1", b"0", b"F", b"M", b"0.7", b"", b"x", b"2e0", b"\xff"]


@_SETTINGS
@given(data=st.data(), mutate_config=st.booleans(), tolerance=number_texts)
def test_bias_over_any_table_and_config_gives_a_result_or_one_error(data, mutate_config, tolerance):
    work = _fresh("bias-")
    rows = data.draw(st.lists(st.lists(st.sampled_from(bias_fields), min_size=3, max_size=5).map(b",".join), max_size=30))
    good = [f"{20 + i},{'FM'[i % 2]},{i % 2},{(i % 5) / 5}".encode() for i in range(30)]
    (work / "table.csv").write_bytes(b"age,sex,y,score\n" + b"\n".join(good + rows) + b"\n")
    config = _mutated(BIAS_CONFIG, data) if mutate_config else BIAS_CONFIG
    (work / "config.json").write_bytes(orjson.dumps(config))
    code, _, _ = run(["baseline", "--type", "bias", "--analysis-config", str(work / "config.json"),
                      "--dataset", str(work / "table.csv"), "--output", str(work / "baseline"), "--quiet"])
    if code == 0:
        run(["monitor", "--type", "bias", "--analysis-config", str(work / "config.json"),
             "--dataset", str(work / "table.csv"), "--baseline", str(work / "baseline" / "analysis.json"),
             "--output", str(work / "window"), "--quiet", f"--drift-tolerance={tolerance}"])
