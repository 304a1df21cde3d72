"""Column profiles: statistics against numpy/pandas, Deequ's type rules, mergeable state."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from model_monitor_analyzer.profile.dataset import DatasetProfile
from model_monitor_analyzer.profile.datatypes import InferredType, ValueKind, classify, kind_of_text
from model_monitor_analyzer.profile.moments import NumericMoments


def _text_column(values):
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def test_numeric_statistics_match_pandas_with_nulls_across_batches():
    rng = np.random.default_rng(3)
    values = rng.normal(50, 12, size=30_000).round(3)
    texts = [None if i % 17 == 0 else f"{v}" for i, v in enumerate(values)]
    profile = DatasetProfile()
    for start in range(0, len(texts), 4096):
        profile.update(pa.record_batch([_text_column(texts[start : start + 4096])], names=["x"]))
    column = profile.columns["x"]
    expected = pd.Series([float(t) if t is not None else None for t in texts], dtype=float)
    assert column.nulls == expected.isna().sum()
    assert column.present == expected.notna().sum()
    assert column.moments.minimum == expected.min()
    assert column.moments.maximum == expected.max()
    assert math.isclose(column.moments.mean, expected.mean(), rel_tol=1e-12)
    assert math.isclose(column.moments.std_dev, expected.std(ddof=0), rel_tol=1e-12)
    assert column.moments.sum == float(np.cumsum(expected.dropna().to_numpy())[-1])


def test_merged_moments_equal_moments_of_the_concatenation():
    rng = np.random.default_rng(4)
    parts = [rng.uniform(-1e3, 1e3, size=n) for n in (10, 5000, 1, 777)]
    merged = NumericMoments()
    for part in parts:
        state = NumericMoments()
        state.update(part)
        merged.merge(state)
    everything = np.concatenate(parts)
    assert merged.count == len(everything)
    assert math.isclose(merged.std_dev, everything.std(), rel_tol=1e-12)
    assert math.isclose(merged.mean, everything.mean(), rel_tol=1e-12)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("3", ValueKind.INTEGRAL),
        ("-3", ValueKind.INTEGRAL),
        ("+ 3", ValueKind.INTEGRAL),
        ("3.0", ValueKind.FRACTIONAL),
        (".5", ValueKind.FRACTIONAL),
        ("1e5", ValueKind.FRACTIONAL),  # a deliberate departure from Deequ: exponent notation is a number
        ("3.2E+10", ValueKind.FRACTIONAL),
        ("-1.5e-05", ValueKind.FRACTIONAL),
        ("+.5e3", ValueKind.FRACTIONAL),
        ("e5", ValueKind.STRING),
        ("1e", ValueKind.STRING),
        ("nan", ValueKind.STRING),
        ("\u0663\u0664", ValueKind.STRING),  # Arabic-Indic digits are not digits to Java's \\d
        ("5\n", ValueKind.STRING),
        ("true", ValueKind.BOOLEAN),
        ("CA", ValueKind.STRING),
    ],
)
def test_values_are_classified_with_deequs_patterns_and_exponent_notation(text, kind):
    assert kind_of_text(text) is kind


def test_fast_and_detailed_classification_agree():
    column = _text_column(["1", "2.5", None, "-3", "+4.", "7"])
    fast, detailed = classify(column), classify(column, detailed=True)
    assert fast.kind_counts == detailed.kind_counts == (2, 3, 0, 0)
    assert fast.nulls == detailed.nulls == 1
    assert sorted(fast.numbers.tolist()) == sorted(detailed.numbers.tolist()) == [-3.0, 1.0, 2.5, 4.0, 7.0]


@pytest.mark.parametrize("seed", range(6))
def test_fast_classification_counts_each_texts_kind_on_slices_of_numbers_as_written(seed):
    """The column-wise path (one pass over the bytes for ``.`` and exponent marks) counts what ``kind_of_text``
    says of each value, on how pandas, Python and people write numbers, and on slices of an array."""
    rng = np.random.default_rng(seed)
    numbers = rng.normal(scale=10.0 ** rng.integers(-8, 9, size=400), size=400)
    writers = [repr, lambda x: f"{x:.3e}", lambda x: f"{x:E}", lambda x: f"{x:.0E}", lambda x: f"{x:.0e}", lambda x: str(round(x)), lambda x: f"{x:.0f}.",
               lambda x: f"{abs(x):.2f}".lstrip("0"), lambda x: f"+{abs(x):g}"]
    texts = [writers[int(rng.integers(len(writers)))](float(x)) for x in numbers]
    column = pa.array([None if rng.random() < 0.05 else text for text in texts], type=pa.string())
    for start, stop in ((0, 400), (3, 397), (17, 18), (399, 400)):
        part = column.slice(start, stop - start)
        expected = [0, 0, 0, 0]
        for text in part.to_pylist():
            if text is not None:
                expected[kind_of_text(text)] += 1
        assert classify(part).kind_counts == tuple(expected)
        assert classify(part).kind_counts == classify(part, detailed=True).kind_counts


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "2", None], InferredType.INTEGRAL),
        (["1", "2.0"], InferredType.FRACTIONAL),
        (["1", "abc"], InferredType.STRING),
        (["true", "1"], InferredType.STRING),
        (["true", "false"], InferredType.STRING),
        ([None, None], InferredType.UNKNOWN),
    ],
)
def test_column_type_follows_deequs_decision(values, expected):
    profile = DatasetProfile()
    profile.update(pa.record_batch([_text_column(values)], names=["c"]))
    assert profile.columns["c"].inferred_type is expected


def test_column_that_turns_string_later_asks_for_a_recount():
    profile = DatasetProfile()
    profile.update(pa.record_batch([_text_column(["1", "2"])], names=["c"]))
    profile.update(pa.record_batch([_text_column(["x", "2"])], names=["c"]))
    assert profile.columns_needing_recount() == ["c"]
    recounted = DatasetProfile()
    for values in (["1", "2"], ["x", "2"]):
        recounted.update(pa.record_batch([_text_column(values)], names=["c"]), detailed_columns={"c"})
    assert recounted.columns_needing_recount() == []
    assert recounted.columns["c"].categories == {"1": 1, "2": 2, "x": 1}


def test_typed_columns_from_parquet_or_json_are_classified_like_their_text():
    profile = DatasetProfile()
    batch = pa.record_batch(
        [pa.array([1, 2, None]), pa.array([1.5, float("nan"), 2.0]), pa.array([True, False, True])],
        names=["i", "f", "b"],
    )
    profile.update(batch)
    assert profile.columns["i"].inferred_type is InferredType.INTEGRAL
    assert profile.columns["f"].inferred_type is InferredType.FRACTIONAL
    assert profile.columns["f"].nulls == 1
    assert profile.columns["b"].inferred_type is InferredType.STRING


def test_a_column_appearing_later_counts_earlier_rows_as_missing():
    profile = DatasetProfile()
    profile.update(pa.record_batch([_text_column(["1", "2"])], names=["a"]))
    profile.update(pa.record_batch([_text_column(["3"]), _text_column(["9"])], names=["a", "b"]))
    assert profile.item_count == 3
    assert profile.columns["b"].nulls == 2
    assert profile.columns["b"].present == 1


def _column_state(profile):
    return {name: (column.nulls, tuple(column.kind_counts), column.categories, column.moments.count)
            for name, column in profile.columns.items()}


def test_small_batches_are_profiled_together_with_the_same_exact_state(monkeypatch):
    """Batches under ``MIN_PROFILED_ROWS`` are held and profiled together, flushed early when the columns change:
    every exact field equals profiling each batch on its own, and the moments agree to rounding."""
    from model_monitor_analyzer.jobs.progress import ProgressReporter
    from model_monitor_analyzer.profile import dataset

    rng = np.random.default_rng(4)

    def batch(rows, columns):
        data = {
            "x": _text_column([None if rng.random() < 0.1 else f"{v:.3f}" for v in rng.normal(size=rows)]),
            "n": _text_column([str(int(v)) for v in rng.integers(0, 50, size=rows)]),
            "c": _text_column([str(rng.choice(["a", "b", "c", "1"])) for _ in range(rows)]),
        }
        return pa.record_batch([data[name] for name in columns], names=columns)

    batches = [batch(int(rng.integers(1, 900)), ["x", "n", "c"] if i % 5 != 3 else ["x", "c"]) for i in range(40)]
    progress = ProgressReporter(enabled=False)
    together = dataset.profile_batches(iter(batches), names=None, detailed_columns=frozenset({"c"}), progress=progress)
    monkeypatch.setattr(dataset, "MIN_PROFILED_ROWS", 1)
    apart = dataset.profile_batches(iter(batches), names=None, detailed_columns=frozenset({"c"}), progress=progress)
    assert together.item_count == apart.item_count == sum(b.num_rows for b in batches)
    assert _column_state(together) == _column_state(apart)
    assert together.columns["n"].nulls == sum(b.num_rows for b in batches if "n" not in b.schema.names)
    for name in ("x", "n"):
        assert together.columns[name].moments.mean == pytest.approx(apart.columns[name].moments.mean, rel=1e-12)


def test_wide_batches_are_held_up_to_a_bound_in_bytes(monkeypatch):
    """Batches of long texts are profiled together only up to ``MAX_HELD_BYTES``: memory stays bounded whatever the
    row width (and no text column of a held group can outgrow Arrow's 2 GiB offsets)."""
    from model_monitor_analyzer.jobs.progress import ProgressReporter
    from model_monitor_analyzer.profile import dataset

    monkeypatch.setattr(dataset, "MAX_HELD_BYTES", 100_000)
    sizes = []
    update = dataset.DatasetProfile.update

    def recording(self, batch, **kwargs):
        sizes.append(batch.nbytes)
        return update(self, batch, **kwargs)

    monkeypatch.setattr(dataset.DatasetProfile, "update", recording)
    batches = [pa.record_batch([_text_column(["x" * 1_000] * 30)], names=["text"]) for _ in range(20)]
    profile = dataset.profile_batches(iter(batches), names=None, detailed_columns=frozenset(),
                                      progress=ProgressReporter(enabled=False))
    assert profile.item_count == 600 and len(sizes) > 1
    assert max(sizes) < 100_000 + batches[0].nbytes
