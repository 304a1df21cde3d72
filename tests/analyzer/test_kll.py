"""KLL sketch: Deequ's layout and compaction, merge and rank error, checked against real files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_monitor_analyzer.profile.kll import KllSketch, level_capacity, update_sketches


def test_level_capacities_follow_deequ_formula():
    assert level_capacity(0) == 2050
    assert [level_capacity(h) for h in range(1, 4)] == [2 * (int(np.ceil(2048 * 0.64**h / 2)) + 1) for h in range(1, 4)]


def test_sketch_holds_raw_values_in_arrival_order_until_full():
    values = np.arange(2050, 0, -1, dtype=float)
    sketch = KllSketch()
    sketch.update(values)
    assert sketch.to_data() == [values.tolist()]


def test_first_compaction_promotes_even_positions_of_sorted_level_zero_and_keeps_odd_tail():
    values = np.random.default_rng(1).normal(size=2051)
    sketch = KllSketch()
    sketch.update(values)
    level0, level1 = sketch.to_data()
    assert level0 == [values[-1]]
    assert level1 == np.sort(values[:2050])[0::2].tolist()


def test_chunked_update_equals_value_by_value_update():
    values = np.random.default_rng(2).exponential(size=9000)
    one_by_one = KllSketch()
    for v in values:
        one_by_one.update(np.array([v]))
    chunked = KllSketch()
    for start in range(0, len(values), 777):
        chunked.update(values[start : start + 777])
    assert chunked.to_data() == one_by_one.to_data()


def test_sketches_updated_together_equal_sketches_updated_alone():
    rng = np.random.default_rng(3)
    columns = [rng.normal(size=12_345), rng.exponential(size=12_345), rng.integers(0, 5, size=12_345).astype(float)]
    alone = [KllSketch() for _ in columns]
    together = [KllSketch() for _ in columns]
    for start in range(0, 12_345, 4_000):
        for sketch, values in zip(alone, columns, strict=True):
            sketch.update(values[start : start + 4_000])
        update_sketches(together, np.stack([values[start : start + 4_000] for values in columns]))
    assert [s.to_data() for s in together] == [s.to_data() for s in alone]
    assert len(alone[0].to_data()) > 2  # several levels were compacted


def test_sketches_in_different_states_cannot_be_updated_together():
    ahead = KllSketch()
    ahead.update(np.arange(3000.0))
    with pytest.raises(ValueError, match="structure"):
        update_sketches([KllSketch(), ahead], np.zeros((2, 10)))


def _churn_features(reference_examples):
    folder = reference_examples / "immersion-day-churn-data-quality"
    data = pd.read_csv(folder / "training-dataset-with-header.csv")
    stats = json.loads((folder / "notebook-output" / "statistics.json").read_text())
    return data, [f for f in stats["features"] if "data" in f["numerical_statistics"]["distribution"]["kll"]["sketch"]]


def test_sketch_data_reproduces_the_built_in_after_compaction(reference_examples):
    data, features = _churn_features(reference_examples)
    assert features
    for feature in features:
        sketch = KllSketch()
        sketch.update(data[feature["name"]].to_numpy(float))
        expected = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
        assert sketch.to_data() == expected, feature["name"]


def test_bucket_counts_reproduce_the_built_in(reference_examples):
    data, features = _churn_features(reference_examples)
    for feature in features:
        values = data[feature["name"]].to_numpy(float)
        sketch = KllSketch()
        sketch.update(values)
        expected = [
            (b["lower_bound"], b["upper_bound"], b["count"])
            for b in feature["numerical_statistics"]["distribution"]["kll"]["buckets"]
        ]
        assert sketch.buckets(values.min(), values.max()) == expected, feature["name"]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=3000),
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=3000),
)
def test_merge_keeps_total_weight_and_every_item(first, second):
    a, b = KllSketch(), KllSketch()
    a.update(np.array(first))
    b.update(np.array(second))
    merged = KllSketch.from_data(a.to_data()).merge(KllSketch.from_data(b.to_data()))
    assert merged.total_weight == len(first) + len(second)
    if len(first) + len(second) <= 2050:
        assert sorted(merged.to_data()[0]) == sorted(first + second)


@settings(max_examples=10, deadline=None)
@given(st.integers(5_000, 60_000), st.integers(0, 2**32 - 1))
def test_rank_error_stays_within_the_sketch_bound(n, seed):
    values = np.random.default_rng(seed).lognormal(size=n)
    sketch = KllSketch()
    sketch.update(values)
    points = np.quantile(values, np.linspace(0.01, 0.99, 25))
    exact = np.searchsorted(np.sort(values), points, side="right")
    estimated = sketch.ranks(points, inclusive=True)
    # KLL with k=2048 keeps the normalised rank error far below 1 %.
    assert np.max(np.abs(estimated - exact)) / n < 0.01


def test_merged_shards_rank_like_a_single_stream():
    rng = np.random.default_rng(7)
    shards = [rng.normal(size=20_000) for _ in range(4)]
    merged = KllSketch()
    for shard in shards:
        part = KllSketch()
        part.update(shard)
        merged.merge(part)
    values = np.sort(np.concatenate(shards))
    points = np.quantile(values, [0.1, 0.5, 0.9])
    exact = np.searchsorted(values, points, side="right")
    assert merged.total_weight == len(values)
    assert np.max(np.abs(merged.ranks(points, inclusive=True) - exact)) / len(values) < 0.01


@pytest.mark.parametrize("inclusive", [True, False])
def test_ranks_are_exact_while_the_sketch_holds_every_value(inclusive):
    values = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    sketch = KllSketch()
    sketch.update(values)
    side = "right" if inclusive else "left"
    points = np.array([0.0, 1.0, 2.0, 4.0, 5.0])
    assert sketch.ranks(points, inclusive=inclusive).tolist() == np.searchsorted(np.sort(values), points, side=side).tolist()
