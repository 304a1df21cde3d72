"""Bias counts are a mergeable state: the rows split in any parts, counted part by part and
merged (through their serialised form), give the metrics of the whole table, exactly."""

from __future__ import annotations

import functools
import itertools
import json
import sys

import numpy as np
import pytest

from model_monitor_analyzer.checks import bias_posttraining as post
from model_monitor_analyzer.checks.bias import (
    BiasState,
    FacetSpec,
    analysis_from_state,
    analyze_bias,
    count_bias,
    plan_bias,
)
from model_monitor_analyzer.checks.bias_decision import decision_for_baseline
from model_monitor_analyzer.checks.bias_groups import subgroup_keys
from model_monitor_analyzer.profile.bias_counts import GroupCounts, count_rows

ROWS = 3_000


def _table(seed: int = 11) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    region = rng.integers(0, 12, ROWS).astype(np.float64)
    region[rng.random(ROWS) < 0.05] = np.nan  # rows of no subgroup
    score = rng.random(ROWS)
    return {
        "x0": rng.normal(size=ROWS).round(2),
        "x1": rng.normal(size=ROWS).round(2),
        "sex": rng.choice(np.array(["F", "M", "X"], dtype=object), ROWS),
        "age": rng.uniform(18, 90, ROWS).round(1),  # continuous: the facet group is a threshold
        "region": region,
        "y": (rng.random(ROWS) < 0.3 + 0.4 * score).astype(np.int64),
        "p": (score > 0.55).astype(np.int64),
    }


ANALYSIS = {
    "label": "y", "label_values": [1], "group_variable": "region", "predicted_label": "p", "excluded_columns": ["region"],
    "facets": [FacetSpec(column="sex", values=("F",)), FacetSpec(column="sex"), FacetSpec(column="age", values=(40,))],
}  # fmt: skip


def _parts(table: dict[str, np.ndarray], cuts: list[int]) -> list[dict[str, np.ndarray]]:
    bounds = [0, *cuts, ROWS]
    return [{name: values[a:b] for name, values in table.items()} for a, b in itertools.pairwise(bounds)]


def _serialised(state: BiasState) -> BiasState:
    return BiasState.from_dict(json.loads(json.dumps(state.to_dict())))


@pytest.mark.parametrize(
    "cuts",
    [[1500], [1, 2, 3], [0, 10, 2999], [250 * i for i in range(1, 12)], sorted(np.random.default_rng(5).choice(ROWS, 40, replace=False).tolist())],
    ids=["halves", "one-row parts first", "an empty part and a one-row part", "twelve parts", "forty random cuts"],
)  # fmt: skip
def test_the_merged_counts_of_any_split_give_the_metrics_of_the_whole(cuts):
    table = _table()
    plan = plan_bias(table, **ANALYSIS)
    whole = analyze_bias(table, **ANALYSIS)
    values = {(f.name, v.value_or_threshold, m.name): m.value
              for _, stage in whole.stages() for f in stage.facets for v in f.values for m in v.metrics}
    # every metric has a value to compare, but the flip test of age (sex is a text feature)
    assert not whole.problems and [(f, m) for (f, _, m), value in values.items() if value is None] == [("age", "FT")]
    assert whole.post_training.facets[2].values[0].value_or_threshold.startswith("(40.0, ")
    states = [_serialised(count_bias(plan, part)) for part in _parts(table, cuts)]
    merged = functools.reduce(BiasState.merge, states)
    assert analysis_from_state(plan, merged, columns=table) == whole
    assert merged.to_dict() == count_bias(plan, table).to_dict()


def test_the_counted_metrics_handed_over_while_the_flip_tests_run_are_the_final_ones_but_ft():
    """``analyze_bias`` hands ``meanwhile`` the analysis of the counts while the flip tests run on their thread:
    every metric but FT is the final analysis's, and a baseline's standard errors (FT has none) come out the same
    from either."""
    table = _table(7)
    counted = []
    whole = analyze_bias(table, **ANALYSIS, meanwhile=counted.append)
    assert len(counted) == 1 and counted[0].state is whole.state and counted[0].problems == whole.problems

    def metrics(analysis):
        return {(stage, f.name, v.value_or_threshold, m.name): m
                for stage, result in analysis.stages() for f in result.facets for v in f.values for m in v.metrics}

    early, final = metrics(counted[0]), metrics(whole)
    assert early.keys() == final.keys()
    assert {key: m for key, m in early.items() if key[-1] != "FT"} == {key: m for key, m in final.items() if key[-1] != "FT"}
    assert all(m.value is None for key, m in early.items() if key[-1] == "FT")
    # the flip test of age has no value (sex is a text feature), the others have theirs
    assert [key[1] for key, m in final.items() if key[-1] == "FT" and m.value is None] == ["age"]
    assert decision_for_baseline(counted[0]) == decision_for_baseline(whole)


def test_python_s_switch_interval_is_restored_once_the_flip_tests_are_done():
    """The flip tests' thread shortens Python's thread switch interval while it runs beside the counting, and puts
    it back before its last result is handed over, also when a flip test fails (age's: sex is a text feature)."""
    before = sys.getswitchinterval()
    analysis = analyze_bias(_table(5), **ANALYSIS)
    assert sys.getswitchinterval() == before
    assert analysis.post_training.facets[2].values[0].metrics[8].name == "FT"
    assert analysis.post_training.facets[2].values[0].metrics[8].value is None


def test_counts_merge_parts_that_saw_different_subgroups():
    facet = np.array([True, False, True, False, True, False])
    positive = np.array([True, True, False, False, True, False])
    group = np.array(["a", "b", "a", "c", "zz", "b"], dtype=object)
    whole = count_rows(facet, positive, positive, subgroup_keys(group))
    first = count_rows(facet[:3], positive[:3], positive[:3], subgroup_keys(group[:3]))
    second = count_rows(facet[3:], positive[3:], positive[3:], subgroup_keys(group[3:]))
    merged = first.merge(second)
    assert merged.keys.tolist() == whole.keys.tolist() == ["text:a", "text:b", "text:c", "text:zz"]
    assert merged.counts.tolist() == whole.counts.tolist()
    assert GroupCounts.from_dict(json.loads(json.dumps(merged.to_dict()))).counts.tolist() == whole.counts.tolist()


def test_counts_of_an_analysis_with_a_group_variable_do_not_merge_with_counts_without_one():
    rows = np.array([True, False])
    with pytest.raises(ValueError, match="group variable"):
        count_rows(rows, rows, None, None).merge(count_rows(rows, rows, None, subgroup_keys(np.array([1.0, 2.0]))))


def test_the_flip_test_of_group_d_queried_part_by_part_adds_up_to_the_whole():
    table = _table(3)
    features = np.column_stack([table["x0"], table["x1"]])
    facet = table["sex"] == "F"
    predicted = table["p"].astype(bool)
    reference, reference_predicted = features[~facet], predicted[~facet]
    k = post.flip_test_neighbours(reference.shape[0])
    flips = np.zeros(2, dtype=np.int64)
    for part in np.array_split(np.flatnonzero(facet), 7):
        flips += post.flip_counts(reference, reference_predicted, features[part], predicted[part], k)
    assert (flips[0] - flips[1]) / facet.sum() == post.flip_test(features, facet, predicted)


def test_a_group_variable_of_numbers_whose_words_come_late_is_keyed_alike_in_every_part():
    table = _table(7)
    region = np.array([str(int(v)) if v == v else None for v in table["region"]], dtype=object)
    region[-5:] = "unknown"  # only the last part holds words
    table["region"] = region
    plan = plan_bias(table, **ANALYSIS)
    merged = functools.reduce(BiasState.merge, [_serialised(count_bias(plan, part)) for part in _parts(table, [1000, 2000])])
    assert merged.to_dict() == count_bias(plan, table).to_dict()
    assert analysis_from_state(plan, merged, columns=table) == analyze_bias(table, **ANALYSIS)


def _values_at_the_integer_edges(rng):
    """Columns for the counting paths: small and wide spans, every integer width at its edges, one value, none, and
    values that are not integers (floats, texts)."""
    return [rng.integers(0, 10, 5000), rng.integers(-100, 100, 999).astype(np.int8),
            rng.integers(-2**15, 2**15, 300).astype(np.int16), rng.integers(0, 3, 100).astype(np.uint8),
            rng.integers(-2**62, 2**62, 500), np.array([2**64 - 1, 2**64 - 3, 2**64 - 1], dtype=np.uint64),
            np.array([-2**63, 2**63 - 1]), np.array([-2**63, -2**63 + 5, -2**63]), np.array([7]),
            np.array([], dtype=np.int64), rng.normal(size=50).round(1), np.array(["b", "a", "b"], dtype=object)]


def test_subgroup_keys_found_by_counting_equal_numpy_unique():
    """Integer group keys of a small span are found by counting: the same sorted keys, places and types as
    ``np.unique(..., return_inverse=True)``, at the edges of the integer types and of the span too."""
    from model_monitor_analyzer.profile.bias_counts import _keys_of

    for values in _values_at_the_integer_edges(np.random.default_rng(21)):
        keys, places = _keys_of(values)
        expected_keys, expected_places = np.unique(values, return_inverse=True)
        assert keys.dtype == expected_keys.dtype and keys.tolist() == expected_keys.tolist(), values
        assert places.dtype == expected_places.dtype and places.tolist() == expected_places.tolist(), values


def test_distinct_values_found_by_counting_equal_numpy_unique():
    """A plan's distinct integers of a small span are found by counting: the same sorted values, of the same type,
    as ``np.unique``, at the edges of the integer types and of the span too; other values by ``np.unique`` itself."""
    from model_monitor_analyzer.profile.bias_counts import sorted_distinct

    for values in _values_at_the_integer_edges(np.random.default_rng(22)):
        found, expected = sorted_distinct(values), np.unique(values)
        assert found.dtype == expected.dtype and found.tolist() == expected.tolist(), values
