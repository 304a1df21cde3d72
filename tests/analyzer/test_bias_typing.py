"""Bias columns of text are typed by a short path when they are plain numbers, and the short path gives
exactly what the full typing (trimming, pandas' missing texts, the integer pattern) gives, which is what
pandas' CSV reader gives."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from model_monitor_analyzer.monitors.bias import values

# Texts near the edges of the rules: signs, hex, spaces, pandas' missing texts, nan/inf spellings, words.
TRICKY = ["0", "7", "-3", "+5", "007", "0x1F", "1.5", "-2.25", "1e5", ".5", "5.", " 4", "6 ", "nan", "NaN", "-nan",
          "NA", "null", "inf", "-Infinity", "True", "false", "a", "1_000", "99999999999999999999", ""]  # fmt: skip


def _texts(cells: list[str], chunks: int) -> pa.ChunkedArray:
    # as the CSV reader gives them: an empty field is null, in chunks
    array = pa.array([None if c == "" else c for c in cells], pa.string())
    bounds = np.linspace(0, len(cells), chunks + 1).astype(int)
    return pa.chunked_array([array.slice(a, b - a) for a, b in itertools.pairwise(bounds)], pa.string())


def _same(first: np.ndarray, second: np.ndarray) -> bool:
    if first.dtype != second.dtype or first.shape != second.shape:
        return False
    if first.dtype.kind == "f":
        return bool(np.array_equal(first, second, equal_nan=True))
    return first.tolist() == second.tolist()


def _columns(seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    columns = []
    for _ in range(300):
        vocabulary = rng.choice(TRICKY, size=rng.integers(1, 4), replace=False)
        cells = rng.choice(vocabulary, size=rng.integers(1, 40)).tolist()
        columns.append(cells)
    columns += [[str(v) for v in rng.integers(-10**6, 10**6, 500)], [f"{v:.4f}" for v in rng.normal(size=500)]]
    return columns


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_short_path_types_columns_as_the_full_path_does(seed):
    shortcuts = 0
    for cells in _columns(seed):
        for chunks in (1, 3):
            texts = _texts(cells, min(chunks, len(cells)))
            full = values._typed_texts(texts)
            assert _same(values.text_column(texts), full), cells
            shortcuts += values._plain_numbers(texts) is not None
    assert shortcuts > 100  # the short path is taken, not only the full one


def test_plain_number_columns_are_typed_as_pandas_types_them():
    rng = np.random.default_rng(4)
    integers = [str(v) for v in rng.integers(-1000, 1000, 200)]
    floats = [f"{v:.3f}" for v in rng.normal(size=200)]
    with_gaps = [c if i % 7 else "" for i, c in enumerate(integers)]
    for cells in (integers, floats, with_gaps, ["nan", "2.5", "inf"]):
        frame = pd.read_csv(io.StringIO("c\n" + "\n".join(cells) + "\n"), skip_blank_lines=False)
        ours = values.text_column(_texts(cells, 2))
        assert values._plain_numbers(_texts(cells, 2)) is not None
        assert ours.dtype == frame["c"].to_numpy().dtype
        assert np.array_equal(ours, frame["c"].to_numpy(), equal_nan=True)


def test_a_large_csv_read_by_threads_in_byte_ranges_gives_the_one_thread_read(tmp_path, monkeypatch):
    from model_monitor_analyzer.io.problems import InputProblems
    from model_monitor_analyzer.monitors.bias import dataset

    rng = np.random.default_rng(8)
    lines = ["x,group,label"]
    for row in range(3000):
        if row in (7, 1500, 2999):
            lines.append("1,2")  # a bad row in the first, a middle and the last range
        else:
            lines.append(f"{rng.normal():.4f},{rng.choice(['a', 'b', ''])},{rng.integers(0, 2)}")
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")

    def read() -> tuple[dict[str, np.ndarray], InputProblems]:
        problems = InputProblems(max_bad_record_ratio=0.01)
        return dataset.read_csv_columns([path], None, problems=problems), problems

    whole, whole_problems = read()
    monkeypatch.setattr(dataset, "THREAD_BYTES", 4096)
    monkeypatch.setattr(dataset, "available_cpus", lambda: 5)
    assert len(dataset.csv_parts(path, parts=5)) == 5
    threaded, threaded_problems = read()
    assert list(threaded) == list(whole) == ["x", "group", "label"]
    for name in whole:
        assert _same(threaded[name], whole[name]), name
    assert (threaded_problems.good, threaded_problems.bad) == (whole_problems.good, whole_problems.bad) == (2997, 3)
    assert [(p.line, p.problem) for p in threaded_problems.examples] == [(p.line, p.problem) for p in whole_problems.examples]
    assert [p.line for p in whole_problems.examples] == [9, 1502, 3001]


def test_a_folder_of_csv_files_read_side_by_side_gives_pandas_columns_and_bad_records_in_file_order(tmp_path):
    from model_monitor_analyzer.io.problems import InputProblems
    from model_monitor_analyzer.monitors.bias import dataset

    rng = np.random.default_rng(9)
    frames = []
    for index in range(6):
        rows = int(rng.integers(50, 200))
        frame = pd.DataFrame({"x": rng.normal(size=rows).round(3), "group": rng.choice(["a", "b"], rows),
                              "label": rng.integers(0, 2, rows)})
        frames.append(frame)
        text = frame.to_csv(index=False)
        if index in (1, 4):  # a bad row after the third data row
            lines = text.splitlines()
            text = "\n".join([*lines[:4], "1,2", *lines[4:]]) + "\n"
        (tmp_path / f"part-{index}.csv").write_text(text)
    problems = InputProblems(max_bad_record_ratio=0.05)
    columns = dataset.read_csv_columns(sorted(tmp_path.glob("*.csv")), None, problems=problems)
    expected = pd.concat(frames, ignore_index=True)
    assert list(columns) == list(expected.columns)
    for name in expected.columns:
        assert columns[name].tolist() == expected[name].tolist(), name
        assert columns[name].dtype.kind == expected[name].to_numpy().dtype.kind
    assert problems.bad == 2
    # the good records are the data rows: no file's header row among them
    assert problems.good == len(expected)
    assert [(p.path.rsplit("/", 1)[-1], p.line) for p in problems.examples] == [("part-1.csv", 5), ("part-4.csv", 5)]


def test_texts_cast_to_numbers_are_read_from_their_buffers_as_to_numpy_gives_them():
    """``_cast_numbers`` (no pandas) against pyarrow's cast and ``to_numpy``: chunks sliced at offsets that are not a
    multiple of 8, nulls, empty and all-null chunks, integers and floats; a text that is no number is Arrow's error."""
    rng = np.random.default_rng(11)
    floats = pa.array([None if rng.random() < 0.2 else float(v) for v in rng.normal(size=203)], pa.float64())
    integers = pa.array(rng.integers(-10**12, 10**12, 203), pa.int64())
    for array, dtype in ((floats, np.float64), (integers, np.int64)):
        texts = pc.cast(array, pa.string())
        for bounds in ([0, 203], [0, 3, 3, 77, 150, 203], [5, 13, 100, 101, 198]):
            chunked = pa.chunked_array([texts.slice(a, b - a) for a, b in itertools.pairwise(bounds)], pa.string())
            ours = values._cast_numbers(chunked, np.dtype(dtype))
            expected = pc.cast(chunked, array.type).to_numpy(zero_copy_only=False)
            assert _same(ours, np.asarray(expected, dtype=dtype))
    nulls = pa.chunked_array([pa.nulls(5, pa.string()), pa.array(["1.5", None], pa.string())])
    assert _same(values._cast_numbers(nulls, np.dtype(np.float64)), np.array([np.nan] * 5 + [1.5, np.nan]))
    with pytest.raises(pa.ArrowInvalid):
        values._cast_numbers(pa.chunked_array([pa.array(["1"]), pa.array(["2", "x"])]), np.dtype(np.int64))


def test_a_csv_of_plain_numbers_is_typed_without_pandas(tmp_path):
    """A bias baseline of a CSV of plain numbers never makes pyarrow import pandas (0.4 s of CPU), and the run
    imports it ahead only for data that may need it (``dataset.plain_number_csv``)."""
    import json
    import subprocess
    import sys

    from model_monitor_analyzer.monitors.bias import dataset

    rng = np.random.default_rng(12)
    rows = 400
    columns = {"x": rng.normal(size=rows).round(3), "group": rng.integers(0, 3, rows),
               "label": rng.integers(0, 2, rows), "predicted": rng.integers(0, 2, rows)}
    (tmp_path / "dataset").mkdir()
    data = tmp_path / "dataset" / "data.csv"
    pd.DataFrame(columns).to_csv(data, index=False)
    config = tmp_path / "analysis_config.json"
    config.write_text(json.dumps({"dataset_type": "text/csv", "label": "label", "label_values_or_threshold": [1],
                                  "facet": [{"name_or_index": "group", "value_or_threshold": [1]}],
                                  "predicted_label": "predicted"}))
    assert dataset.plain_number_csv(data, "text/csv")
    assert dataset.plain_number_csv(data.parent, "text/csv")  # a folder: its first file
    assert not dataset.plain_number_csv(data, "application/jsonlines")
    words = tmp_path / "words.csv"
    words.write_text("x,group\n1.5,a\n2.5,b\n")
    assert not dataset.plain_number_csv(words, "text/csv")
    script = ("import sys\nfrom model_monitor_analyzer.cli import main\n"
              f"main(['baseline', '--type', 'bias', '--analysis-config', {str(config)!r}, '--dataset', {str(data)!r}, "
              f"'--output', {str(tmp_path / 'out')!r}, '--quiet'])\n"
              "print('pandas' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip().splitlines()[-1] == "False", run.stdout + run.stderr
    assert json.loads((tmp_path / "out" / "analysis.json").read_text())["post_training_bias_metrics"]
