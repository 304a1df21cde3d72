"""Category counts: exact up to a cap, then frequent-items and HLL sketches; mergeable, serialisable."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pyarrow as pa

from model_monitor_analyzer.profile import categories
from model_monitor_analyzer.profile.categories import EXACT_DISTINCT_CAP, CategoryCounts
from model_monitor_analyzer.profile.dataset import DatasetProfile
from model_monitor_analyzer.report.statistics import string_statistics


def _zipf_values(count, distinct, seed=5):
    rng = np.random.default_rng(seed)
    ranks = rng.zipf(1.3, size=count) % distinct
    return [f"id-{r}" for r in ranks]


def _counts_in_batches(values, batch=10_000):
    state = CategoryCounts()
    for start in range(0, len(values), batch):
        state.add(Counter(values[start : start + batch]))
    return state


def test_counts_are_exact_up_to_the_cap():
    values = _zipf_values(50_000, EXACT_DISTINCT_CAP // 2)
    state = _counts_in_batches(values)
    assert state.is_exact
    assert state.counts() == Counter(values)
    assert list(state.counts()) == list(dict.fromkeys(values))  # in order of first appearance


def test_exact_counts_equal_a_python_tally_whenever_the_held_batches_are_summed(monkeypatch):
    monkeypatch.setattr(categories, "HELD_ROWS", 700)
    rng = np.random.default_rng(3)
    values = [f"v{int(i)}" for i in rng.zipf(1.5, size=60_000) % 4_000]
    state, tally = CategoryCounts(), {}
    for start in range(0, len(values), 1_000):
        batch = Counter(values[start : start + 1_000])
        state.add(categories.CategoryBatch.of(batch) if start % 2000 else batch)
        for value, count in batch.items():
            tally[value] = tally.get(value, 0) + count
        if start % 7_000 == 0:
            assert state.counts() == tally and list(state.counts()) == list(tally)
    assert state.counts() == tally and list(state.counts()) == list(tally) and state.total == len(values)
    assert state.distinct_count == len(tally)
    assert state.distinct_count == len(set(values))


def test_past_the_cap_heavy_values_and_the_distinct_count_are_estimated_within_their_bounds():
    values = _zipf_values(300_000, 200_000)
    truth = Counter(values)
    state = _counts_in_batches(values)
    assert not state.is_exact and state.total == len(values)
    assert abs(state.distinct_count - len(truth)) <= 0.03 * len(truth)  # HLL, lg_k 14: about 0.8 % error
    epsilon = 3.5 / 2**categories.FREQUENT_LG_MAX_SIZE
    counted = state.counts()
    for value, true_count in truth.most_common(50):
        assert abs(counted[value] - true_count) <= epsilon * len(values)
    assert len(counted) <= 2**categories.FREQUENT_LG_MAX_SIZE


def test_state_stays_small_however_many_distinct_values():
    sizes = []
    for distinct in (20_000, 400_000):
        state = _counts_in_batches([f"v{i}" for i in range(distinct)])
        sizes.append(len(state.to_bytes()))
    assert sizes[1] <= sizes[0] * 1.1 and sizes[1] < 200_000


def test_merged_shards_equal_one_pass_while_exact():
    values = _zipf_values(40_000, 3_000)
    one = _counts_in_batches(values)
    merged = _counts_in_batches(values[:15_000]).merge(_counts_in_batches(values[15_000:]))
    assert merged.counts() == one.counts() and merged.total == one.total


def test_merging_an_exact_shard_into_a_sketched_one_keeps_every_count():
    big = _counts_in_batches([f"v{i}" for i in range(EXACT_DISTINCT_CAP + 5_000)])
    small = _counts_in_batches(["hot"] * 5_000)
    for merged in (big.merge(small), small.merge(_counts_in_batches([f"v{i}" for i in range(EXACT_DISTINCT_CAP + 5_000)]))):
        assert not merged.is_exact
        assert merged.total == EXACT_DISTINCT_CAP + 10_000
        assert merged.counts()["hot"] >= 5_000  # no false negatives: never under the true count


def test_state_round_trips_through_bytes_and_pickle():
    for state in (_counts_in_batches(["a", "b", "a"]), _counts_in_batches([f"v{i}" for i in range(30_000)] + ["hot"] * 99)):
        for restored in (CategoryCounts.from_bytes(state.to_bytes()), pickle.loads(pickle.dumps(state))):
            assert restored.counts() == state.counts()
            assert restored.distinct_count == state.distinct_count
            assert restored.total == state.total


def test_high_cardinality_column_is_reported_with_bounded_buckets_and_an_estimated_distinct_count():
    rng = np.random.default_rng(9)
    codes = [f"P{c:05d}" for c in rng.integers(0, 40_000, size=200_000)] + ["P99999"] * 3_000 + ["P88888"] * 2_000
    profile = DatasetProfile()
    for start in range(0, len(codes), 65_536):
        profile.update(pa.record_batch([pa.array(codes[start : start + 65_536])], names=["postcode"]))
    column = profile.columns["postcode"]
    assert not column.category_counts.is_exact
    stats = string_statistics(column)
    true_distinct = len(set(codes))
    assert abs(stats["distinct_count"] - true_distinct) <= 0.03 * true_distinct
    buckets = stats["distribution"]["categorical"]["buckets"]
    assert 0 < len(buckets) <= 1000
    epsilon = 3.5 / 2**categories.FREQUENT_LG_MAX_SIZE * len(codes)
    assert [b["value"] for b in buckets[:2]] == ["P99999", "P88888"]
    assert abs(buckets[0]["count"] - codes.count("P99999")) <= epsilon
    assert stats["common"]["num_present"] == len(codes)


def test_held_batches_reach_the_sketches_at_every_read(monkeypatch):
    """Batches are held, then summed, before they reach the exact counts or the sketches; whether they are summed at
    the bound, a read, a merge or serialisation, heavy values and the distinct count keep their error bounds."""
    monkeypatch.setattr(categories, "HELD_ROWS", 20_000)
    values = _zipf_values(300_000, 200_000, seed=11)
    truth = Counter(values)
    first, second = _counts_in_batches(values[:139_990]), _counts_in_batches(values[140_000:-10])
    first.add(Counter(values[139_990:140_000]))  # a small last batch waits
    second.add(Counter(values[-10:]))
    assert first.held and second.held and not first.is_exact
    first = pickle.loads(pickle.dumps(first))
    merged = first.merge(second)  # second's waiting counts go with it
    assert not merged.held and merged.total == len(values)
    assert abs(merged.distinct_count - len(truth)) <= 0.03 * len(truth)
    epsilon = 3.5 / 2**categories.FREQUENT_LG_MAX_SIZE
    counted = merged.counts()
    for value, true_count in truth.most_common(50):
        assert true_count <= counted[value] <= true_count + epsilon * len(values)
