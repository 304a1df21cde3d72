"""The decisions a bias plan takes on whole columns (categorical or continuous by Clarify's 5 % rule,
facet groups in first-seen order, threshold maxima, subgroup keys, the values named in messages) come out
the same from mergeable summaries of the column's parts, for any split, merge order and cap."""

from __future__ import annotations

import functools
import itertools
import random

import numpy as np
import pytest

from model_monitor_analyzer.checks import bias_posttraining as post
from model_monitor_analyzer.checks.bias import (
    FacetSpec,
    PlanRows,
    count_bias,
    plan_bias,
    plan_from_summaries,
    plan_rows,
    summary_roles,
    with_problems,
)
from model_monitor_analyzer.checks.bias_groups import (
    ColumnKind,
    as_numbers,
    column_kind,
    is_missing,
    keys_are_numbers,
    some_values,
)
from model_monitor_analyzer.checks.bias_summary import (
    ColumnSummary,
    distinct_needed,
    present_count,
    summarize,
)
from model_monitor_analyzer.monitors.bias.values import text_column, typed_column

ROWS = 400


def _exactly_five_percent() -> np.ndarray:
    """20 distinct integers over 400 rows: 5 % exactly, the smallest continuous share."""
    values = np.repeat(np.arange(20, dtype=np.int64) * 3, ROWS // 20)
    return np.random.default_rng(3).permutation(values)


def _just_under_five_percent() -> np.ndarray:
    values = np.repeat(np.arange(19, dtype=np.int64), 21)[:ROWS - 1]
    return np.random.default_rng(4).permutation(np.append(values, 0))


def _columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    integers_with_gaps = rng.integers(0, 30, ROWS).astype(np.float64)
    integers_with_gaps[rng.random(ROWS) < 0.1] = np.nan
    mixed = rng.choice(np.array(["1", "2.5", "x", "", "NA", " 3 ", "1.0", "true"], dtype=object), ROWS).tolist()
    zeros = np.zeros(ROWS)
    zeros[::7] = -0.0
    return {
        "exactly 5 %": _exactly_five_percent(),
        "just under 5 %": _just_under_five_percent(),
        "5 % of the present, floats with missing": np.where(np.arange(ROWS) % 2 == 0,
                                                            np.repeat(np.arange(10.0), ROWS // 10), np.nan),
        "many integers": rng.integers(-10**9, 10**9, ROWS),
        "0/1": rng.integers(0, 2, ROWS),
        "integers with gaps": integers_with_gaps,
        "fractions": rng.normal(size=ROWS).round(2),
        "mixed ints, floats and text": text_column_of(mixed),
        "integer texts": np.array([str(v) for v in rng.integers(0, 40, ROWS)], dtype=object),
        "integer texts and missing": np.array([None if v == 0 else str(v) for v in rng.integers(0, 40, ROWS)],
                                              dtype=object),
        "number texts": np.array([f"{v:.1f}" for v in rng.integers(0, 40, ROWS)], dtype=object),
        "words": rng.choice(np.array(["F", "M", "X", None], dtype=object), ROWS),
        "booleans": rng.random(ROWS) < 0.4,
        "all missing": np.full(ROWS, None, dtype=object),
        "all NaN": np.full(ROWS, np.nan),
        "signed zeros": zeros,
        "JSON values": typed_column([1, 2.5, "a", None, True] * (ROWS // 5)),
    }


def text_column_of(texts: list[str]) -> np.ndarray:
    import pyarrow as pa

    return text_column(pa.array(texts, pa.string()))


COLUMNS = _columns()
GIVEN = [None, [1], [2, 3], ["F"]]


def _cuts(size: int, parts: int, seed: int) -> list[tuple[int, int]]:
    inner = sorted(random.Random(seed).sample(range(1, size), parts - 1)) if parts > 1 else []
    return list(itertools.pairwise([0, *inner, size]))


def _merged(values: np.ndarray, parts: int, seed: int, *, cap: int | None = None, listing: bool = True,
            keys: bool = True) -> ColumnSummary:
    summaries = [summarize(values[a:b], part=index, cap=cap, listing=listing, keys=keys) for index, (a, b) in enumerate(_cuts(values.size, parts, seed))]
    random.Random(seed).shuffle(summaries)  # merged in any order
    return functools.reduce(ColumnSummary.merge, summaries)


def _maximum(values: np.ndarray) -> float | None:
    try:
        numbers = as_numbers(values, "c")
    except Exception:  # a word: no threshold on this column
        return "words"  # type: ignore[return-value]
    present = numbers[~np.isnan(numbers)]
    return float(present.max()) + 0.0 if present.size else None  # as threshold_intervals reads it


@pytest.mark.parametrize("name", list(COLUMNS))
@pytest.mark.parametrize(("parts", "seed"), [(1, 0), (2, 1), (5, 2), (37, 3), (ROWS, 4)])
def test_merged_summaries_decide_as_the_whole_column(name: str, parts: int, seed: int) -> None:
    values = COLUMNS[name]
    merged = _merged(values, parts, seed)
    for given in GIVEN:
        for known in (None, ColumnKind.CONTINUOUS, ColumnKind.CATEGORICAL):
            assert merged.kind(given, known=known) is column_kind(values, given, known=known), (given, known)
    present = values[~is_missing(values)]
    expected_order = list(dict.fromkeys(present.tolist()))
    if column_kind(values, None) is ColumnKind.CATEGORICAL:  # a continuous facet lists no values
        assert list(merged.distinct_values()) == expected_order
        assert [type(v) for v in merged.distinct_values()] == [type(v) for v in expected_order]
    assert merged.some_values() == some_values(values)
    assert merged.keys_are_numbers == keys_are_numbers(values)
    assert merged.all_missing == bool(np.all(is_missing(values)))
    expected_maximum = _maximum(values)
    if column_kind(values, [1], known=ColumnKind.CONTINUOUS) is ColumnKind.CATEGORICAL:
        return  # no threshold applies to the column: its maximum is never asked for
    if expected_maximum == "words":
        assert merged.words
    else:
        assert merged.maximum == expected_maximum
        if expected_maximum is not None:
            assert np.signbit(merged.maximum) == np.signbit(expected_maximum)


@pytest.mark.parametrize("name", ["exactly 5 %", "just under 5 %", "many integers", "integers with gaps",
                                  "5 % of the present, floats with missing", "integer texts"])
@pytest.mark.parametrize("parts", [1, 3, 16])
def test_two_passes_decide_the_five_percent_rule_with_capped_sets(name: str, parts: int) -> None:
    """A first pass counts the present values; the second keeps at most distinct_needed of them a part."""
    values = COLUMNS[name]
    total = sum(present_count(values[a:b]) for a, b in _cuts(values.size, parts, parts))
    cap = distinct_needed(total)
    merged = _merged(values, parts, parts, cap=cap, listing=False, keys=False)
    for known in (None, ColumnKind.CONTINUOUS):
        assert merged.kind(None, known=known) is column_kind(values, None, known=known)
    assert merged.many_distinct() == (len(set(values[~is_missing(values)].tolist())) / total >= 0.05)
    if merged.reached_cap:
        assert not merged.first_seen  # a capped set sends nothing on


@pytest.mark.parametrize("name", list(COLUMNS))
@pytest.mark.parametrize("parts", [1, 6])
def test_summaries_without_listing_decide_the_kind_alike(name: str, parts: int) -> None:
    """A label's or a group variable's summary keeps distinct values only where the rule may need them."""
    values = COLUMNS[name]
    for keys in (False, True):
        merged = _merged(values, parts, parts, listing=False, keys=keys)
        for given in GIVEN:
            assert merged.kind(given) is column_kind(values, given)
        if keys:
            assert merged.keys_are_numbers == keys_are_numbers(values)
        assert merged.some_values() == some_values(values)


def test_the_rule_at_its_edge() -> None:
    """The edge columns are on both sides of the rule, as the whole-column decision puts them."""
    assert column_kind(COLUMNS["exactly 5 %"], None) is ColumnKind.CONTINUOUS
    assert column_kind(COLUMNS["just under 5 %"], None) is ColumnKind.CATEGORICAL
    assert column_kind(COLUMNS["5 % of the present, floats with missing"], None) is ColumnKind.CONTINUOUS
    for present in [1, 19, 20, 21, 399, 400, 401, 10**9 + 7]:
        needed = distinct_needed(present)
        assert needed / present >= 0.05 and (needed - 1) / present < 0.05


def test_a_cap_below_the_rule_is_refused() -> None:
    merged = _merged(COLUMNS["many integers"], 4, 1, cap=3)
    with pytest.raises(ValueError, match="cannot decide the 5 % rule"):
        merged.kind(None)
    with pytest.raises(ValueError, match="without a cap"):
        merged.distinct_values()


def test_parts_typed_differently_are_refused() -> None:
    with pytest.raises(ValueError, match="typed differently"):
        summarize(np.arange(3)).merge(summarize(np.arange(3.0), part=1))


def _table() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(21)
    rows = 600
    score = rng.random(rows)
    region = rng.integers(0, 40, rows).astype(np.float64)  # whole numbers, 40 distinct of 600: continuous
    region[rng.random(rows) < 0.1] = np.nan
    return {
        "x": rng.normal(size=rows).round(2),
        "sex": rng.choice(np.array(["F", "M", "X", None], dtype=object), rows),
        "age": rng.integers(18, 90, rows),  # 72 distinct of 600: continuous
        "grade": rng.integers(0, 20, rows),  # 20 of 600: categorical
        "region": region,
        "nobody": np.full(rows, None, dtype=object),
        "y": (rng.random(rows) < 0.3 + 0.4 * score).astype(np.int64),
        "p": (score > 0.55).astype(np.int64),
    }


PLANS = {
    "facets of every kind": {
        "label": "y", "label_values": [1], "predicted_label": "p", "group_variable": "region",
        "facets": [FacetSpec(column="sex"), FacetSpec(column="sex", values=("F",)), FacetSpec(column="age", values=(40,)),
                   FacetSpec(column="grade"), FacetSpec(column="grade", values=(3, 4))]},
    "groups of no row and of every row": {
        "label": "y", "label_values": [7], "predicted_label": "p", "group_variable": "nobody",
        "facets": [FacetSpec(column="sex", values=("Z",)), FacetSpec(column="age", values=(5,)),
                   FacetSpec(column="age", values=(95,))]},
    "a continuous label": {
        "label": "age", "label_values": [50], "predicted_label": "region", "facets": [FacetSpec(column="sex")]},
}  # fmt: skip


@pytest.mark.parametrize("name", list(PLANS))
@pytest.mark.parametrize(("parts", "seed"), [(1, 0), (3, 1), (11, 2)])
@pytest.mark.parametrize("two_passes", [False, True])
def test_a_plan_from_parts_is_the_whole_tables_plan(name: str, parts: int, seed: int, two_passes: bool) -> None:
    """Summaries and row flags of the parts, merged, plan the analysis exactly as the whole table does (kinds, groups
    in first-seen order, threshold names, subgroup keys, problems)."""
    table, config = _table(), PLANS[name]
    expected = plan_bias(table, **config)
    cuts = _cuts(len(table["y"]), parts, seed)
    pieces = [{column: values[a:b] for column, values in table.items()} for a, b in cuts]
    roles = summary_roles(label=config["label"], predicted_label=config.get("predicted_label"),
                          group_variable=config.get("group_variable"), facets=config["facets"])
    summaries = {}
    for column, (listing, keys) in roles.items():
        cap = None
        if two_passes and not listing:  # a first pass counts the present values, the second keeps what the rule needs
            cap = distinct_needed(sum(present_count(piece[column]) for piece in pieces))
        summaries[column] = functools.reduce(ColumnSummary.merge, [
            summarize(piece[column], part=index, cap=cap, listing=listing, keys=keys)
            for index, piece in reversed(list(enumerate(pieces)))])
    plan = plan_from_summaries(summaries, **config)
    flags = functools.reduce(PlanRows.merge, [plan_rows(plan, piece) for piece in pieces])
    planned = with_problems(plan, summaries, flags, label_values=config["label_values"], facets=config["facets"])
    assert planned == expected
    if name == "groups of no row and of every row":
        assert len(expected.problems) >= 4  # the flags are exercised


class _SplitRunner:
    """A ``BiasRunner`` that splits the rows in ``parts`` slices in this process, as Spark's runner does over its
    partitions (parts handed back in reverse: any order)."""

    def __init__(self, parts: int) -> None:
        self.parts = parts

    def _bounds(self, rows: int) -> list[tuple[int, int]]:
        return list(itertools.pairwise(np.linspace(0, rows, self.parts + 1).round().astype(int).tolist()))

    def map_parts(self, function, columns):
        rows = len(next(iter(columns.values())))
        return [function(index, {name: values[a:b] for name, values in columns.items()})
                for index, (a, b) in reversed(list(enumerate(self._bounds(rows))))]

    def count(self, plan, columns):
        return count_bias(plan, columns)

    def flip_counts(self, *arguments):
        return post.flip_counts(*arguments)


@pytest.mark.parametrize("name", list(PLANS))
@pytest.mark.parametrize("parts", [1, 4, 13])
def test_plan_bias_over_a_runners_parts(name: str, parts: int) -> None:
    """plan_bias with a runner plans from the parts' summaries (two passes) and row flags: the whole table's plan."""
    table = _table()
    assert plan_bias(table, **PLANS[name], runner=_SplitRunner(parts)) == plan_bias(table, **PLANS[name])
