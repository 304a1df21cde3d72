"""The flip test's k-d tree neighbours are those of a brute-force search, ties included.

The reference below computes every query's distance to every row of group a with numpy and
takes the ``k`` nearest by (distance, row index): the earlier row wins a tie, as the flip test
has always done.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from model_monitor_analyzer.checks import bias_posttraining as post


def brute_force_votes(reference: np.ndarray, positive: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Majority vote (more than half) of the k nearest reference rows, earlier row first on ties."""
    squared = ((queries[:, None, :] - reference[None, :, :]) ** 2).sum(axis=2)
    rows = np.broadcast_to(np.arange(reference.shape[0]), squared.shape)
    nearest = np.lexsort((rows, squared), axis=1)[:, :k]
    return 2 * positive[nearest].sum(axis=1) > k


def brute_force_flip_test(features: np.ndarray, facet: np.ndarray, predicted: np.ndarray) -> float:
    reference = features[~facet]
    k = 5 if reference.shape[0] > 9 else 1
    votes = brute_force_votes(reference, predicted[~facet], features[facet], k)
    model = predicted[facet]
    return (np.count_nonzero(model & ~votes) - np.count_nonzero(~model & votes)) / model.size


@pytest.mark.parametrize("seed", range(6))
def test_kd_tree_votes_equal_brute_force_on_continuous_features(seed):
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=(400, 3))
    positive = rng.random(400) < 0.5
    queries = rng.normal(size=(300, 3))
    expected = brute_force_votes(reference, positive, queries, 5)
    assert np.array_equal(post.nearest_neighbour_votes(reference, positive, queries, 5), expected)


@pytest.mark.parametrize("seed", range(6))
def test_kd_tree_votes_equal_brute_force_when_integer_features_tie(seed):
    """Few distinct points: most queries have many rows at the k-th distance."""
    rng = np.random.default_rng(seed)
    reference = rng.integers(0, 3, size=(250, 2)).astype(np.float64)
    positive = rng.random(250) < 0.5
    queries = rng.integers(0, 3, size=(200, 2)).astype(np.float64)
    expected = brute_force_votes(reference, positive, queries, 5)
    assert np.array_equal(post.nearest_neighbour_votes(reference, positive, queries, 5), expected)


def test_earlier_row_wins_a_tie_at_the_kth_distance():
    # Both reference rows are at distance 1 of the query; the earlier one (negative) is taken.
    reference = np.array([[1.0], [-1.0]])
    positive = np.array([False, True])
    assert not post.nearest_neighbour_votes(reference, positive, np.array([[0.0]]), 1)[0]
    assert post.nearest_neighbour_votes(reference[::-1].copy(), positive[::-1].copy(), np.array([[0.0]]), 1)[0]


@pytest.mark.parametrize("seed", range(10))
def test_flip_test_equals_brute_force_on_small_mixed_data(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(12, 150))
    features = np.column_stack([rng.integers(0, 4, n), rng.normal(size=n).round(1)]).astype(np.float64)
    facet = rng.random(n) < 0.4
    facet[:2] = [True, False]
    predicted = rng.random(n) < 0.5
    assert post.flip_test(features, facet, predicted) == brute_force_flip_test(features, facet, predicted)


def test_flip_test_with_a_group_of_at_most_nine_rows_uses_one_neighbour():
    rng = np.random.default_rng(7)
    features = rng.integers(0, 3, size=(30, 2)).astype(np.float64)
    facet = np.ones(30, dtype=bool)
    facet[:9] = False
    predicted = rng.random(30) < 0.5
    assert post.flip_test(features, facet, predicted) == brute_force_flip_test(features, facet, predicted)


def test_flip_test_of_200k_rows_takes_seconds_not_minutes():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200_000, 4))
    facet = rng.random(200_000) < 0.3
    predicted = rng.random(200_000) < 0.5
    started = time.perf_counter()
    post.flip_test(features, facet, predicted)
    # The former all-pairs search did not finish in 5 minutes; the tree takes about half a second.
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize("columns", [1, 4, 70])
def test_kd_tree_votes_equal_brute_force_whatever_the_locality_order(columns):
    """The tree holds group a's rows and is asked the queries in locality order; answers map back to rows, so
    ties at the k-th distance still go to the earlier row, with one column, a few, and more columns than the
    locality code has bits for (a constant column and a wide one too; integers, so that every sum is exact)."""
    rng = np.random.default_rng(columns)
    reference = rng.integers(0, 4, size=(300, columns)).astype(np.float64)
    reference[:, 0] *= 1e6
    if columns > 1:
        reference[:, 1] = 7.0
    positive = rng.random(300) < 0.5
    queries = np.vstack([reference[rng.integers(0, 300, size=100)], rng.integers(0, 4, size=(100, columns))])
    expected = brute_force_votes(reference, positive, queries, 5)
    assert np.array_equal(post.nearest_neighbour_votes(reference, positive, queries, 5), expected)
    order = post._locality_order(reference)
    assert sorted(order.tolist()) == list(range(300))


@pytest.mark.parametrize("seed", range(4))
def test_kd_tree_votes_equal_brute_force_when_clear_and_tied_queries_mix(seed):
    """Most queries' neighbours are clear from the tree's own distances; a query on a duplicated row (distance 0),
    on a grid point with rows at equal distances, or with its next candidate a hair farther than its k-th, is
    decided by the exact distances: both kinds in one block give the brute-force votes."""
    rng = np.random.default_rng(40 + seed)
    continuous = rng.normal(size=(300, 3))
    grid = rng.integers(0, 3, size=(200, 3)).astype(np.float64)
    reference = np.vstack([continuous, grid, continuous[:50]])  # 50 rows twice: ties at distance 0
    # a row a hair farther from the first grid point than another one: a near tie at the k-th distance
    reference = np.vstack([reference, grid[0] + [1.0, 0.0, 0.0], grid[0] + [1.0 + 1e-12, 0.0, 0.0]])
    positive = rng.random(reference.shape[0]) < 0.5
    queries = np.vstack([rng.normal(size=(200, 3)), grid[:100], continuous[:100], continuous[:20] + 1e-9])
    expected = brute_force_votes(reference, positive, queries, 5)
    assert np.array_equal(post.nearest_neighbour_votes(reference, positive, queries, 5), expected)


@pytest.mark.parametrize("scale", [1e-160, 1e-3, 1e150])
def test_kd_tree_votes_equal_brute_force_at_extreme_scales(scale):
    """Squared distances that underflow (so the tree's and the exact ones may differ by more than their usual
    share) or come near the largest float: the votes stay the brute force's."""
    rng = np.random.default_rng(11)
    reference = rng.normal(size=(400, 2)) * scale
    positive = rng.random(400) < 0.5
    queries = rng.normal(size=(300, 2)) * scale
    expected = brute_force_votes(reference, positive, queries, 5)
    assert np.array_equal(post.nearest_neighbour_votes(reference, positive, queries, 5), expected)


@pytest.mark.parametrize("seed", range(4))
def test_flip_test_of_columns_equals_the_flip_test_of_their_matrix(seed):
    """The analysis gathers groups a and d straight from the columns (integers, floats, booleans, a value beyond
    2**53): the same value as the flip test of the feature matrix, and the brute force's."""
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(30, 400))
    columns = [rng.integers(0, 4, n), rng.normal(size=n).round(1), rng.random(n) < 0.5,
               rng.normal(size=n).astype(np.float32)]
    columns[0][0] = 2**53 + 1  # cast to float64 alike either way
    facet = rng.random(n) < 0.3
    facet[:2] = [True, False]
    predicted = rng.random(n) < 0.5
    matrix = np.column_stack([column.astype(np.float64) for column in columns])
    value = post.flip_test_of_columns(columns, facet, predicted)
    assert value == post.flip_test(matrix, facet, predicted) == brute_force_flip_test(matrix, facet, predicted)


def test_flip_test_of_columns_raises_the_errors_of_the_flip_test_of_their_matrix():
    facet = np.array([True, False, True, False])
    predicted = np.array([True, True, False, False])
    numbers = np.array([1.0, 2.0, 3.0, 4.0])
    cases = [
        ([numbers], np.zeros(4, dtype=bool)),
        ([numbers], np.ones(4, dtype=bool)),
        ([numbers, np.array(["a", "b", "c", "d"], dtype=object)], facet),
        ([], facet),
        ([numbers, np.array([1.0, np.nan, 3.0, 4.0])], facet),
    ]
    for columns, group in cases:
        matrix = (np.column_stack(columns) if columns else np.empty((4, 0))).astype(
            object if any(c.dtype == object for c in columns) else np.float64)
        with pytest.raises(post.BiasMetricError) as expected:
            post.flip_test(matrix, group, predicted)
        with pytest.raises(post.BiasMetricError, match=f"^{expected.value}$"):
            post.flip_test_of_columns(columns, group, predicted)


@pytest.mark.parametrize("candidates", [1, 40, 300])
def test_kd_tree_votes_equal_brute_force_whatever_the_block_sizes(monkeypatch, candidates):
    """Queries asked in blocks, and the near ties among them compared in smaller parts (here a row at a time, a few
    rows, and all at once), give the brute force's votes."""
    monkeypatch.setattr(post, "_FLIP_TEST_CANDIDATES", candidates)
    rng = np.random.default_rng(candidates)
    reference = np.vstack([rng.integers(0, 3, size=(150, 2)), rng.normal(size=(150, 2))]).astype(np.float64)
    positive = rng.random(300) < 0.5
    queries = np.vstack([rng.integers(0, 3, size=(120, 2)), rng.normal(size=(120, 2))]).astype(np.float64)
    expected = brute_force_votes(reference, positive, queries, 5)
    assert np.array_equal(post.nearest_neighbour_votes(reference, positive, queries, 5), expected)


@pytest.mark.parametrize("seed", range(6))
def test_flip_test_of_columns_in_locality_order_equals_the_flip_counts_of_the_groups_in_dataset_order(seed):
    """Here the groups are gathered from the columns straight into locality order; with a counter (Spark's path)
    they are gathered in dataset order and ``flip_counts`` orders them: the same value, and the brute force's, with
    rows tied at the k-th distance everywhere (a few integer values), duplicated rows, and a group a of at most
    nine rows (one neighbour)."""
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(20, 600))
    columns = [rng.integers(0, 3, n), rng.integers(-1, 2, n).astype(np.float64), rng.random(n) < 0.5]
    facet = rng.random(n) < (0.97 if seed == 5 else 0.4)
    facet[:2] = [True, False]
    predicted = rng.random(n) < 0.5
    matrix = np.column_stack([column.astype(np.float64) for column in columns])
    here = post.flip_test_of_columns(columns, facet, predicted)
    assert here == post.flip_test_of_columns(columns, facet, predicted, counter=post.flip_counts)
    assert here == brute_force_flip_test(matrix, facet, predicted)


def test_locality_codes_follow_one_column_and_each_column_alike():
    """Rows sorted by a single column's values (integers, floats, booleans) have codes in order too; two columns
    swapped swap their bits of the codes."""
    rng = np.random.default_rng(5)
    for column in [rng.integers(0, 1000, 500), rng.normal(size=500), rng.random(500) < 0.5]:
        codes = post._locality_codes([column])
        assert np.all(np.diff(codes[np.argsort(column, kind="stable")].astype(np.int64)) >= 0)
    first, second = rng.normal(size=300), rng.normal(size=300)
    swapped = post._locality_codes([second, first])
    assert np.array_equal(post._locality_codes([first, second]) >> 1 & 0x55555555, swapped & 0x55555555)
