"""Clarify's post-training bias metrics: they compare observed and predicted labels per group.

Each metric but the flip test is a function of the rows' counts (``<metric>_of(counts)``, a
``profile.bias_counts.GroupCounts``), so that the counts of parts of the data merge into the
metric of the whole; for a table in memory each also takes boolean numpy arrays of equal length:
``facet`` (True = sensitive group *d*, False = the rest, *a*), ``positive`` (the observed label
is positive) and ``predicted`` (the predicted label is positive). In the formulas, for a group g
in {a, d}:

* n_g^(1), n_g^(0): observed positive / negative labels; n̂_g^(1), n̂_g^(0): predicted ones;
* TP_g, FP_g, FN_g, TN_g: the confusion counts of the group.

Errors raise ``BiasMetricError`` with the text Clarify reports. A group's rate whose numerator
and denominator are both 0 (a group without positive labels has no recall) is undefined: the
metric raises ``BiasMetricError`` saying which rate and why, where Clarify counts 0/0 as 0 and
reports a difference that means nothing (``rate``). Other divisions use ``divide``
(x/0 = +-infinity, as Clarify); where both groups' ratios are infinite, Clarify reports 0.
DPPL and CDDPL are the label metrics DPL and CDDL applied to the predicted labels:
see ``bias_pretraining.positive_proportion_difference`` and
``bias_pretraining.conditional_demographic_disparity``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

from ..jobs.parallel import cores_to_spare
from ..profile.bias_counts import GroupCounts, count_rows
from .bias_pretraining import BiasMetricError, divide

INFINITY = float("inf")
# Clarify's flip test uses 5 neighbours, or 1 when group a has at most 9 rows.
FLIP_TEST_NEIGHBOURS = 5
FLIP_TEST_FEW_NEIGHBOURS = 1
FLIP_TEST_SMALL_GROUP = 9
# Candidate neighbours whose exact distances are compared at once in the flip test, times the feature columns (bounds
# memory at a few such arrays: the candidates' rows are gathered whole).
_FLIP_TEST_CANDIDATES = 1 << 19
# Queries asked of the k-d tree at once, as a multiple of the above: its threads share each block (fewer, larger
# blocks leave them less time idle at a block's end), and most queries need no gathered rows.
_FLIP_TEST_QUERY_BLOCKS = 4
# The k-d tree's distances may differ from the exact ones in the last bits; a candidate farther
# than the k-th nearest by less than this share is treated as a possible tie.
_TIE_MARGIN = 1e-7
# How far apart (a share of their value) the tree's squared distances and the exact ones may be: both sum the same
# squared differences in another order (some columns times 2**-53 each), and the tree's pass through a square root
# and back; far above that for any table with fewer than millions of feature columns.
_DISTANCE_SLACK = 1e-9
# Below this squared distance an underflowing difference may break that relative bound: such neighbours are always
# compared by their exact distances.
_SMALLEST_CLEAR_DISTANCE = 1e-250
# Bits of the locality code (``_locality_order``) over all feature columns, and at most per column.
_LOCALITY_BITS = 32
_LOCALITY_BITS_PER_COLUMN = 16
# Points in a leaf of the flip test's k-d tree (scipy's default is 16; see NeighbourIndex.build).
_LEAF_POINTS = 32


@dataclass(frozen=True, kw_only=True)
class GroupConfusion:
    """Confusion counts of one group: TP, FP, FN, TN."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def observed_positive(self) -> int:
        return self.tp + self.fn

    @property
    def observed_negative(self) -> int:
        return self.tn + self.fp

    @property
    def predicted_positive(self) -> int:
        return self.tp + self.fp

    @property
    def predicted_negative(self) -> int:
        return self.tn + self.fn

    @property
    def correct(self) -> int:
        return self.tp + self.tn

    @property
    def rows(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


# How the metrics name the two groups in their errors.
FACET_GROUP = "the facet group"
OTHER_ROWS = "the other rows"


def rate(numerator: int, denominator: int, *, metric: str, what: str, group: str, lacks: str) -> float:
    """``numerator / denominator`` of one group; 0/0 raises ``BiasMetricError`` naming the rate
    (``what``), the group and what it ``lacks``; x/0 is +-infinity as in Clarify's ``divide``."""
    if numerator == 0 and denominator == 0:
        raise BiasMetricError(f"{metric}: {what} of {group} is undefined: it has no {lacks} in this data")
    return divide(numerator, denominator)


def _both_rates(
    metric: str, what: str, lacks: str, a: tuple[int, int], d: tuple[int, int]
) -> tuple[float, float]:
    """The rate ``what`` (numerator, denominator) of group a and of group d, by ``rate``."""
    return (rate(*a, metric=metric, what=what, group=OTHER_ROWS, lacks=lacks),
            rate(*d, metric=metric, what=what, group=FACET_GROUP, lacks=lacks))


def group_confusion(in_group: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> GroupConfusion:
    """TP, FP, FN, TN counted over the rows where ``in_group`` is True."""
    return GroupConfusion(
        tp=int(np.count_nonzero(in_group & positive & predicted)),
        fp=int(np.count_nonzero(in_group & ~positive & predicted)),
        fn=int(np.count_nonzero(in_group & positive & ~predicted)),
        tn=int(np.count_nonzero(in_group & ~positive & ~predicted)),
    )


def counted_confusion(counts: GroupCounts, *, facet: bool) -> GroupConfusion:
    """TP, FP, FN, TN of group d (``facet``) or a, from the rows' counts."""
    return GroupConfusion(
        tp=counts.count(facet=facet, positive=True, predicted=True),
        fp=counts.count(facet=facet, positive=False, predicted=True),
        fn=counts.count(facet=facet, positive=True, predicted=False),
        tn=counts.count(facet=facet, positive=False, predicted=False),
    )


def _confusions(counts: GroupCounts, prefix: str = "") -> tuple[GroupConfusion, GroupConfusion]:
    a, d = counted_confusion(counts, facet=False), counted_confusion(counts, facet=True)
    if not d.rows:
        raise BiasMetricError(f"{prefix}Facet set is empty")
    if not a.rows:
        raise BiasMetricError(f"{prefix}Negated Facet set is empty")
    return a, d


def _rows(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> GroupCounts:
    return count_rows(facet, positive, predicted, None)


def disparate_impact_of(counts: GroupCounts) -> float:
    """DI = q̂_d / q̂_a, with q̂ = n̂^(1) / n the share of predicted positives (neutral value 1).

    Undefined (an error) when no row has a positive prediction; +infinity when only d has some.
    """
    n_a, n_d = counts.count(facet=False), counts.count(facet=True)
    if n_a == 0:
        raise BiasMetricError("Negated facet set is empty")
    if n_d == 0:
        raise BiasMetricError("Facet set is empty")
    if not counts.count(predicted=True):
        raise BiasMetricError("DI: no row has a positive predicted label in this data, so the ratio of the "
                              "groups' shares of positive predictions is undefined")
    q_a = counts.count(facet=False, predicted=True) / n_a
    q_d = counts.count(facet=True, predicted=True) / n_d
    return divide(q_d, q_a)


def conditional_acceptance_difference_of(counts: GroupCounts) -> float:
    """DCA (DCAcc in the docs) = c_a - c_d, with c = n^(1) / n̂^(1) (observed / predicted positives)."""
    a, d = _confusions(counts, "DCO: ")
    c_a, c_d = _both_rates("DCA", "observed over predicted positive labels",
                           "positive labels and no predicted positive labels",
                           (a.observed_positive, a.predicted_positive), (d.observed_positive, d.predicted_positive))
    if c_a == c_d == INFINITY:
        return 0
    return c_a - c_d


def conditional_rejection_difference_of(counts: GroupCounts) -> float:
    """DCR = r_d - r_a, with r = n^(0) / n̂^(0) (observed / predicted negatives)."""
    a, d = _confusions(counts, "DCO: ")
    r_a, r_d = _both_rates("DCR", "observed over predicted negative labels",
                           "negative labels and no predicted negative labels",
                           (a.observed_negative, a.predicted_negative), (d.observed_negative, d.predicted_negative))
    if r_a == r_d == INFINITY:
        return 0
    return r_d - r_a


def recall_difference_of(counts: GroupCounts) -> float:
    """RD = TP_a / (TP_a + FN_a) - TP_d / (TP_d + FN_d) (undefined for a group without positive labels)."""
    a, d = _confusions(counts, "DLA: ")
    recall_a, recall_d = _both_rates("RD", "recall", "positive labels",
                                     (a.tp, a.observed_positive), (d.tp, d.observed_positive))
    return recall_a - recall_d


def specificity_difference_of(counts: GroupCounts) -> float:
    """SD = TN_d / (TN_d + FP_d) - TN_a / (TN_a + FP_a) (undefined for a group without negative labels)."""
    a, d = _confusions(counts, "DLA: ")
    specificity_a, specificity_d = _both_rates("SD", "specificity", "negative labels",
                                               (a.tn, a.observed_negative), (d.tn, d.observed_negative))
    return specificity_d - specificity_a


def acceptance_rate_difference_of(counts: GroupCounts) -> float:
    """DAR = TP_a / n̂_a^(1) - TP_d / n̂_d^(1) (difference in precision; undefined for a group without
    positive predictions)."""
    a, d = _confusions(counts, "DLR: ")
    precision_a, precision_d = _both_rates("DAR", "precision", "predicted positive labels",
                                           (a.tp, a.predicted_positive), (d.tp, d.predicted_positive))
    return precision_a - precision_d


def rejection_rate_difference_of(counts: GroupCounts) -> float:
    """DRR = TN_d / n̂_d^(0) - TN_a / n̂_a^(0) (difference in negative predictive value; undefined for a
    group without negative predictions)."""
    a, d = _confusions(counts, "DLR: ")
    npv_a, npv_d = _both_rates("DRR", "negative predictive value", "predicted negative labels",
                               (a.tn, a.predicted_negative), (d.tn, d.predicted_negative))
    return npv_d - npv_a


def accuracy_difference_of(counts: GroupCounts) -> float:
    """AD = (TP_a + TN_a) / n_a - (TP_d + TN_d) / n_d."""
    a, d = _confusions(counts)
    return a.correct / a.rows - d.correct / d.rows


def treatment_equality_of(counts: GroupCounts) -> float:
    """TE = FN_d / FP_d - FN_a / FP_a (infinite when a group has false negatives but no false positives,
    undefined when it has neither)."""
    a, d = _confusions(counts)
    tau_a, tau_d = _both_rates("TE", "false negatives over false positives",
                               "false negatives and no false positives", (a.fn, a.fp), (d.fn, d.fp))
    if tau_a == tau_d == INFINITY:
        return 0.0
    return tau_d - tau_a


def generalized_entropy_of(counts: GroupCounts) -> float:
    """GE (alpha = 2) = 1 / (2 n) * sum_i [(b_i / mean(b))^2 - 1], with benefit b_i = ŷ_i - y_i + 1.

    ŷ_i, y_i are 1 for a positive predicted / observed label, so b_i is 0 (false negative), 1
    (correct) or 2 (false positive) and the sum runs over those three values, each times its rows.
    The facet plays no part, so every facet reports the same value.
    """
    n = counts.count()
    if n == 0:
        raise BiasMetricError("dataset must be non-empty")
    rows_by_benefit = np.array([counts.count(positive=True, predicted=False),
                                counts.count(positive=True, predicted=True) + counts.count(positive=False, predicted=False),
                                counts.count(positive=False, predicted=True)], dtype=np.float64)
    benefits = np.array([0.0, 1.0, 2.0])
    mean_benefit = float(rows_by_benefit @ benefits) / n
    if mean_benefit == 0:
        raise BiasMetricError(
            "All predicted labels are false negatives. "
            "There should be at least one prediction that is not false negative."
        )
    alpha = 2
    return float((rows_by_benefit * ((benefits / mean_benefit) ** alpha - 1)).sum() / (n * alpha * (alpha - 1)))


def generalized_entropy(positive: np.ndarray, predicted: np.ndarray) -> float:
    """GE of rows (``generalized_entropy_of``)."""
    return generalized_entropy_of(_rows(np.zeros(positive.size, dtype=bool), positive, predicted))


def disparate_impact(facet: np.ndarray, predicted: np.ndarray) -> float:
    """DI of rows (``disparate_impact_of``)."""
    return disparate_impact_of(_rows(facet, np.zeros(facet.size, dtype=bool), predicted))


def conditional_acceptance_difference(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> float:
    """Conditional acceptance difference of rows (``conditional_acceptance_difference_of``)."""
    return conditional_acceptance_difference_of(_rows(facet, positive, predicted))


def conditional_rejection_difference(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> float:
    """Conditional rejection difference of rows (``conditional_rejection_difference_of``)."""
    return conditional_rejection_difference_of(_rows(facet, positive, predicted))


def recall_difference(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> float:
    """Recall difference of rows (``recall_difference_of``)."""
    return recall_difference_of(_rows(facet, positive, predicted))


def specificity_difference(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> float:
    """Specificity difference of rows (``specificity_difference_of``)."""
    return specificity_difference_of(_rows(facet, positive, predicted))


def acceptance_rate_difference(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> float:
    """Acceptance rate difference of rows (``acceptance_rate_difference_of``)."""
    return acceptance_rate_difference_of(_rows(facet, positive, predicted))


def rejection_rate_difference(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> float:
    """Rejection rate difference of rows (``rejection_rate_difference_of``)."""
    return rejection_rate_difference_of(_rows(facet, positive, predicted))


def accuracy_difference(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> float:
    """Accuracy difference of rows (``accuracy_difference_of``)."""
    return accuracy_difference_of(_rows(facet, positive, predicted))


def treatment_equality(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray) -> float:
    """Treatment equality of rows (``treatment_equality_of``)."""
    return treatment_equality_of(_rows(facet, positive, predicted))


def _squared_distances(points: np.ndarray, queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of each query to its candidate rows of ``points``.

    Summed column by column, left to right, so that every candidate gets the same float value
    whichever way it was found: ties are then exact and the earliest-row rule is reproducible.
    """
    near = np.take(points, candidates, axis=0)  # (queries, candidates, columns): whole rows gathered at once
    np.subtract(near, queries[:, None, :], out=near)
    np.multiply(near, near, out=near)
    squared = near[:, :, 0].copy()
    for column in range(1, points.shape[1]):
        squared += near[:, :, column]
    return squared


def _locality_order(points: np.ndarray) -> np.ndarray:
    """An order of ``points`` (rows) in which neighbours in space tend to be neighbours in the order: by their
    Z-order (Morton) code (``_locality_codes`` of the matrix's columns).

    It only speeds up the k-d tree (its nodes and the queries' paths stay in the processor's caches: about
    2.5 times fewer seconds at a million rows); no result depends on it."""
    return np.argsort(_locality_codes([points[:, column] for column in range(points.shape[1])]))


def _locality_codes(columns: Sequence[np.ndarray]) -> np.ndarray:
    """The Z-order (Morton) code of each row of the equally long numeric ``columns``: the bits of their values
    scaled to the columns' ranges, interleaved. Rows sorted by it are near in space when near in the order; only
    speed depends on it, whatever the columns' ranges are taken over (all the rows or a group's)."""
    size = len(columns[0]) if columns else 0
    count = min(len(columns), _LOCALITY_BITS)
    bits = max(1, min(_LOCALITY_BITS_PER_COLUMN, _LOCALITY_BITS // max(count, 1)))
    top = (1 << bits) - 1
    # bit i of a column's cell goes to bit i * columns of the code (then shifted by the column's place)
    cell_values = np.arange(top + 1)
    spread = np.zeros(top + 1, dtype=np.uint32)
    for bit in range(bits):
        spread[cell_values >> bit & 1 == 1] |= np.uint32(1 << (bit * count))
    code = np.zeros(size, dtype=np.uint32)
    # the same buffers for every column: a million rows allocate them once
    scaled, cells, shifted = np.empty(size), np.empty(size, dtype=np.uint16), np.empty(size, dtype=np.uint32)
    for place, values in enumerate(columns[:count]):
        finite = np.isfinite(values)
        if not finite.all():  # an infinite (or NaN) value counts as 0 here: only the order's speed depends on it
            values = np.where(finite, values, 0)
        low, high = float(values.min()), float(values.max())
        with np.errstate(all="ignore"):  # a range too wide for a float: every cell 0
            np.subtract(values, low, out=scaled)
            np.multiply(scaled, top / (high - low) if high > low else 0.0, out=scaled)
            np.clip(scaled, 0, top, out=scaled)
            np.copyto(cells, scaled, casting="unsafe")
        np.take(spread, cells, out=shifted)
        code |= np.left_shift(shifted, np.uint32(count - 1 - place), out=shifted)
    return code


def _clearly_nearest(tree_squared: np.ndarray, neighbours: int) -> np.ndarray:
    """Whether each query's ``neighbours`` nearest candidates, by the k-d tree's own (sorted) distances, are clearly
    nearer than the next candidate: then they are the neighbours the exact distances choose, and the query is settled.

    The tree's squared distances and the exact ones (``_squared_distances``) differ by at most ``_DISTANCE_SLACK``
    of their value (both sum the same squared differences, in another order, and the tree takes a square root):
    so when the next candidate's is above the ``neighbours``-th one's by more than ``_TIE_MARGIN`` and that slack,
    every later candidate's exact distance is above the ``neighbours``-th nearest exact distance by more than
    ``_TIE_MARGIN``, and ``_settled_votes``'s exact path would choose the same rows and settle. Tiny distances (where
    underflow breaks the relative bound), infinite and NaN ones are left to that path."""
    nearest = tree_squared[:, neighbours - 1]
    following = tree_squared[:, neighbours]
    with np.errstate(over="ignore", invalid="ignore"):
        return (nearest >= _SMALLEST_CLEAR_DISTANCE) & (following > nearest * ((1 + _TIE_MARGIN) * (1 + _DISTANCE_SLACK)))


def _settled_votes(
    index: NeighbourIndex, queries: np.ndarray, neighbours: int, asked: int, workers: int
) -> tuple[np.ndarray, np.ndarray]:
    """Votes of the queries whose ``asked`` nearest candidates settle their neighbours, and which those are."""
    count = queries.shape[0]
    tree_distances, found = index.tree.query(queries, k=asked, workers=workers)
    found = found.reshape(count, asked)
    tree_squared = tree_distances.reshape(count, asked)
    np.square(tree_squared, out=tree_squared)  # in the tree's own answer: no array of that size allocated again
    votes = np.empty(count, dtype=bool)
    settled = np.ones(count, dtype=bool)
    # Most queries' neighbours are clear from the tree's distances; the others (a tie, or a near one, at the
    # boundary) compare the candidates' exact distances.
    clear = _clearly_nearest(tree_squared, neighbours) if asked > neighbours else np.zeros(count, dtype=bool)
    votes[clear] = 2 * index.positive_weight[found[clear, :neighbours]].sum(axis=1) > neighbours
    step = max(1, _FLIP_TEST_CANDIDATES // (asked * max(1, queries.shape[1])))
    close_rows = np.flatnonzero(~clear)
    for start in range(0, close_rows.size, step):  # the candidates' rows gathered a bounded part at a time
        close = close_rows[start : start + step]
        close_found = np.take(found, close, axis=0)
        squared = _squared_distances(index.tree.data, np.take(queries, close, axis=0), close_found)
        candidates = index.tree_rows[close_found]  # the rows of group a, in dataset order
        # Nearest first, the earlier row first among equal distances.
        order = np.lexsort((candidates, squared), axis=1)
        chosen = np.take_along_axis(close_found, order[:, :neighbours], axis=1)
        kth = np.take_along_axis(squared, order[:, neighbours - 1, None], axis=1)[:, 0]
        settled[close] = (asked == index.tree_rows.size) | (tree_squared[close, -1] > kth * (1 + _TIE_MARGIN))
        votes[close] = 2 * index.positive_weight[chosen].sum(axis=1) > neighbours
    return votes, settled


@dataclass(frozen=True, eq=False)
class NeighbourIndex:
    """Group a's rows in a k-d tree, built once and asked by any number of query blocks (``votes``): on one
    machine, or broadcast to Spark's executors, each asking it for its part of group d (it pickles whole).

    The tree holds the rows in locality order (``tree.data``); ``tree_rows`` is each tree point's row of group a
    (dataset order, for the earlier-row rule) and ``positive_weight`` whether that point's row is positive."""

    tree_rows: np.ndarray
    positive_weight: np.ndarray
    tree: cKDTree

    @classmethod
    def build(cls, reference: np.ndarray, reference_positive: np.ndarray) -> NeighbourIndex:
        """The index of ``reference`` rows (features, in dataset order) and whether each is positive."""
        # The tree holds the reference rows in locality order (answers do not depend on it).
        tree_rows = _locality_order(reference)
        return cls.in_locality_order(np.take(reference, tree_rows, axis=0), tree_rows,
                                     np.take(reference_positive, tree_rows))

    @classmethod
    def in_locality_order(cls, points: np.ndarray, tree_rows: np.ndarray, positive: np.ndarray) -> NeighbourIndex:
        """The index of group a's rows gathered in locality order: ``points`` (their features), ``tree_rows`` (each
        one's row of group a, in dataset order) and ``positive`` (whether each is positive)."""
        from scipy.spatial import cKDTree  # half a second to import: only a flip test pays it

        # Splits at the midpoint, node boxes not shrunk to their points, leaves of 32 points: at a million
        # 5-column rows each is faster to build and to ask than scipy's defaults. None changes a vote (the
        # candidates' distances are recomputed).
        tree = cKDTree(points, leafsize=_LEAF_POINTS, balanced_tree=False, compact_nodes=False)
        return cls(tree_rows=tree_rows, positive_weight=positive.astype(np.int64), tree=tree)

    def votes(self, queries: np.ndarray, neighbours: int, *, in_locality_order: bool = False) -> np.ndarray:
        """Majority vote of the ``neighbours`` nearest reference rows of each query (``nearest_neighbour_votes``);
        ``in_locality_order``: the queries are already in that order (``_locality_codes``), else they are asked in
        it (answers do not depend on it)."""
        rows = self.tree_rows.size
        votes = np.zeros(queries.shape[0], dtype=bool)
        pending = np.arange(queries.shape[0]) if in_locality_order else _locality_order(queries)
        asked = min(neighbours + 1, rows)
        # The queries dominate a large flip test and are independent: the idle cores answer them too.
        workers = -1 if cores_to_spare(1) else 1
        first = in_locality_order  # the first pass asks every query in order: blocks are slices, not copies
        while pending.size:
            unsettled = []
            # Blocks bound the tree's answers at about _FLIP_TEST_QUERY_BLOCKS * _FLIP_TEST_CANDIDATES entries.
            step = max(1, _FLIP_TEST_QUERY_BLOCKS * _FLIP_TEST_CANDIDATES // (asked * max(1, queries.shape[1])))
            for start in range(0, pending.size, step):
                block = pending[start : start + step]
                asked_rows = queries[start : start + step] if first else np.take(queries, block, axis=0)
                block_votes, settled = _settled_votes(self, asked_rows, neighbours, asked, workers)
                votes[block[settled]] = block_votes[settled]
                unsettled.append(block[~settled])
            pending = np.concatenate(unsettled)
            asked = min(2 * asked, rows)
            first = False
        return votes

    def flip_counts(self, queries: np.ndarray, query_predicted: np.ndarray, neighbours: int) -> tuple[int, int]:
        """F^+ and F^- of some rows of group d against the index (``flip_counts``)."""
        if not queries.shape[0]:
            return 0, 0
        votes = self.votes(queries, neighbours)
        return int(np.count_nonzero(query_predicted & ~votes)), int(np.count_nonzero(~query_predicted & votes))


def nearest_neighbour_votes(
    reference: np.ndarray, reference_positive: np.ndarray, queries: np.ndarray, neighbours: int
) -> np.ndarray:
    """Majority vote of the ``neighbours`` reference rows nearest to each query (Euclidean).

    Among rows at the same distance the earlier reference row is taken. A vote is positive when
    more than half of the neighbours are positive (an even split is negative).

    A k-d tree proposes candidates (O(log n) per query); their distances are then recomputed
    exactly. The candidates are final once the farthest of them is clearly farther than the
    ``neighbours``-th nearest, so that no row outside them can tie with or beat the chosen ones;
    otherwise (ties at the boundary, e.g. duplicated rows) the query asks for twice as many.
    """
    if queries.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    return NeighbourIndex.build(reference, reference_positive).votes(queries, neighbours)


def flip_counts(reference: np.ndarray, reference_predicted: np.ndarray, queries: np.ndarray,
                query_predicted: np.ndarray, neighbours: int) -> tuple[int, int]:
    """F^+ and F^- of some rows of group d (``queries``, their features, and the model's
    ``query_predicted``) against group a's rows (``reference``, in dataset order, and their
    predicted labels): rows the model predicts positive but their ``neighbours`` nearest rows of
    a predict negative, and the reverse. The counts of parts of group d add up."""
    if not queries.shape[0]:
        return 0, 0
    return NeighbourIndex.build(reference, reference_predicted).flip_counts(queries, query_predicted, neighbours)


def flip_test_neighbours(reference_rows: int) -> int:
    """Clarify's k: 5 neighbours, or 1 when group a has at most 9 rows."""
    return FLIP_TEST_NEIGHBOURS if reference_rows > FLIP_TEST_SMALL_GROUP else FLIP_TEST_FEW_NEIGHBOURS


#: F^+ and F^- of group d's rows (queries, their predicted labels) against group a's (reference, its predicted
#: labels) with k neighbours: ``flip_counts`` here, or split over Spark's partitions (``spark.bias``)
FlipCounter = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int], tuple[int, int]]


def flip_test(features: np.ndarray, facet: np.ndarray, predicted: np.ndarray, *,
              counter: FlipCounter | None = None) -> float:
    """FT = (F^+ - F^-) / n_d, Clarify's approximation of the flip test.

    A k-nearest-neighbour classifier (k = 5, or 1 when group a has at most 9 rows; Euclidean
    distance over ``features``, the dataset without facet, label and prediction columns) is fit on
    group a's rows and their predicted labels, then asked for each row of d. F^+ counts rows of
    d the model predicts positive but the neighbours of a predict negative; F^- the reverse.

    It is the one metric that needs the rows, not only their counts, so it is not part of the
    mergeable ``BiasState``. Over rows split in parts it stays exact: group a's rows (features and
    predicted labels) are gathered from every part in dataset order (the earlier row wins a tie),
    the k-d tree is built once on them, each part's rows of d are queried against it
    (``flip_counts``), and F^+, F^- and n_d add up across parts. Memory then grows with group a's
    rows, not with the whole data. ``counter`` (default ``flip_counts``) says where the queries are
    answered: the Spark runner broadcasts the ``NeighbourIndex`` and splits group d over its partitions.
    """
    _check_groups(facet)
    if features.dtype.kind not in "biuf":
        raise BiasMetricError(_NOT_NUMERIC)
    if features.ndim != 2 or features.shape[1] == 0:
        raise BiasMetricError(_NO_FEATURE)
    matrix = features.astype(np.float64, copy=False)
    if np.isnan(matrix.min()):  # the minimum of columns with a NaN is NaN
        raise BiasMetricError(_MISSING_VALUES)
    return _flip_test_of_groups(np.compress(~facet, matrix, axis=0), np.compress(facet, matrix, axis=0), facet,
                                predicted, counter)


def flip_test_of_columns(features: Sequence[np.ndarray], facet: np.ndarray, predicted: np.ndarray, *,
                         counter: FlipCounter | None = None) -> float:
    """``flip_test`` of the matrix whose columns are ``features`` (1-D arrays of the rows), the same value or error,
    without that matrix: group a's and group d's rows are gathered from each column straight into their own."""
    _check_groups(facet)
    if any(column.dtype.kind not in "biuf" for column in features):
        raise BiasMetricError(_NOT_NUMERIC)
    if not features:
        raise BiasMetricError(_NO_FEATURE)
    if any(column.dtype.kind == "f" and np.isnan(column.min()) for column in features):
        raise BiasMetricError(_MISSING_VALUES)
    if counter is None:
        return _flip_test_in_locality_order(features, facet, predicted)
    reference, queries = (_gathered(features, rows) for rows in (np.flatnonzero(~facet), np.flatnonzero(facet)))
    return _flip_test_of_groups(reference, queries, facet, predicted, counter)


def _gathered(columns: Sequence[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """The matrix of ``rows`` of ``columns`` (float64, one column each), gathered from each column straight into
    its own (cast in place, as the matrix of the columns is)."""
    matrix = np.empty((rows.size, len(columns)))
    taken: dict[np.dtype, np.ndarray] = {}  # one buffer per type of column, for every column of that type
    for place, column in enumerate(columns):
        buffer = taken.get(column.dtype)
        if buffer is None:
            buffer = taken[column.dtype] = np.empty(rows.size, dtype=column.dtype)
        np.take(column, rows, out=buffer, mode="clip")  # the rows are in range: "clip" spares numpy a copy of its own
        matrix[:, place] = buffer
    return matrix


def _flip_test_in_locality_order(features: Sequence[np.ndarray], facet: np.ndarray, predicted: np.ndarray) -> float:
    """``flip_test_of_columns`` here (no counter): groups a and d gathered from the columns straight into locality
    order (``_locality_codes`` of all the rows), so that the tree is built and asked without a copy of either
    group reordered. Each tree point keeps its row of group a (the earlier row wins a tie), so the value is
    ``flip_counts``' on the groups in dataset order."""
    codes = _locality_codes(features)
    reference_rows, query_rows = np.flatnonzero(~facet), np.flatnonzero(facet)
    tree_rows = np.argsort(codes[reference_rows])  # each tree point's row of group a
    reference_rows = reference_rows[tree_rows]
    query_rows = query_rows[np.argsort(codes[query_rows])]
    index = NeighbourIndex.in_locality_order(_gathered(features, reference_rows), tree_rows, predicted[reference_rows])
    votes = index.votes(_gathered(features, query_rows), flip_test_neighbours(reference_rows.size),
                        in_locality_order=True)
    query_predicted = predicted[query_rows]
    flips_positive = int(np.count_nonzero(query_predicted & ~votes))
    flips_negative = int(np.count_nonzero(~query_predicted & votes))
    return divide(flips_positive - flips_negative, query_rows.size)


_NOT_NUMERIC = "FlipTest does not support non-numeric columns"
_NO_FEATURE = "FlipTest needs at least one feature column besides facet and labels"
_MISSING_VALUES = "FlipTest does not support missing feature values"


def _check_groups(facet: np.ndarray) -> None:
    if not np.any(facet):
        raise BiasMetricError("Facet set is empty")
    if np.all(facet):
        raise BiasMetricError("Negated Facet set is empty")


def _flip_test_of_groups(reference: np.ndarray, queries: np.ndarray, facet: np.ndarray, predicted: np.ndarray,
                         counter: FlipCounter | None) -> float:
    flips_positive, flips_negative = (counter or flip_counts)(
        reference, predicted[~facet], queries, predicted[facet], flip_test_neighbours(reference.shape[0]))
    return divide(flips_positive - flips_negative, int(np.count_nonzero(facet)))
