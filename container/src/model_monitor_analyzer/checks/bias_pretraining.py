"""Clarify's pre-training bias metrics: they need the facet and the observed labels only.

Each metric is a function of the rows' counts (``<metric>_of(counts)``, a
``profile.bias_counts.GroupCounts``), so that the counts of parts of the data merge into the
metric of the whole. For a table in memory, each also takes boolean numpy arrays of equal length:

* ``facet``: True for rows in the sensitive group *d* (the facet value or threshold), False
  for the rest, the group *a*;
* ``positive``: True for rows whose label is one of the positive label values;
* ``group`` (CDDL only): the group variable's value per row.

DPPL and CDDPL are DPL and CDDL of the predicted labels (``predicted=True``).

A metric that Clarify cannot compute raises ``BiasMetricError`` with the message Clarify
writes into the ``error`` field of analysis.json, and the value there is ``null``.
Divisions follow Clarify's ``divide``: 0/0 is 0, x/0 is +-infinity.
"""

from __future__ import annotations

import numpy as np

from ..profile.bias_counts import GroupCounts, count_rows
from .bias_groups import subgroup_keys


class BiasMetricError(ValueError):
    """A metric has no value for this data; the message goes to analysis.json's ``error``."""


def divide(numerator: float, denominator: float) -> float:
    """Clarify's division: ``0/0 = 0``, ``x/0 = +inf`` for x > 0 and ``-inf`` for x < 0."""
    if denominator == 0:
        if numerator == 0:
            return 0.0
        return float("inf") if numerator > 0 else float("-inf")
    return numerator / denominator


def _sizes(counts: GroupCounts) -> tuple[int, int]:
    """n_a and n_d, the rows of the two groups."""
    return counts.count(facet=False), counts.count(facet=True)


def _positives(counts: GroupCounts, *, facet: bool, predicted: bool, outcome: bool = True) -> int:
    """Rows of the group with a positive (``outcome``) label, or prediction when ``predicted``."""
    return counts.count(facet=facet, predicted=outcome) if predicted else counts.count(facet=facet, positive=outcome)


def class_imbalance_of(counts: GroupCounts) -> float:
    """CI = (n_a - n_d) / (n_a + n_d).

    n_a, n_d are the sizes of the two groups; +1 when d is absent, -1 when a is absent, so
    both empty groups are errors.
    """
    n_a, n_d = _sizes(counts)
    if n_a == 0:
        raise BiasMetricError("CI: negated facet set is empty. Check that x[~facet] has non-zero length.")
    if n_d == 0:
        raise BiasMetricError("CI: facet set is empty. Check that x[facet] has non-zero length.")
    return float(n_a - n_d) / (n_a + n_d)


def class_imbalance(facet: np.ndarray) -> float:
    """CI of rows (``class_imbalance_of``)."""
    return class_imbalance_of(count_rows(facet, np.zeros(facet.size, dtype=bool), None, None))


def positive_proportion_difference_of(counts: GroupCounts, *, predicted: bool = False) -> float:
    """DPL (labels) and DPPL (predicted labels, ``predicted``): q_a - q_d, with q = n^(1) / n.

    n^(1) counts the rows of the group with a positive (predicted) label.
    """
    n_a, n_d = _sizes(counts)
    if n_a == 0:
        raise BiasMetricError("Negative facet set is empty.")
    if n_d == 0:
        raise BiasMetricError("Facet set is empty.")
    q_a = _positives(counts, facet=False, predicted=predicted) / n_a
    q_d = _positives(counts, facet=True, predicted=predicted) / n_d
    return float(q_a - q_d)


def positive_proportion_difference(facet: np.ndarray, positive: np.ndarray) -> float:
    """DPL (or DPPL, given predicted labels as ``positive``) of rows (``positive_proportion_difference_of``)."""
    return positive_proportion_difference_of(count_rows(facet, positive, None, None))


def _shared_label_distributions(counts: GroupCounts) -> tuple[np.ndarray, np.ndarray]:
    """P_a and P_d over the label outcomes (negative, positive) that occur in *both* groups.

    Clarify drops an outcome that one group never has (its probability would be 0), so the
    divergences stay finite; with no shared outcome the metrics are errors.
    """
    n_a, n_d = _sizes(counts)
    shares_a, shares_d = [], []
    for outcome in (False, True):
        count_a = counts.count(facet=False, positive=outcome)
        count_d = counts.count(facet=True, positive=outcome)
        if count_a and count_d:
            shares_a.append(count_a / n_a)
            shares_d.append(count_d / n_d)
    if not shares_a:
        raise BiasMetricError("No instance of common facet found, dataset may be too small")
    return np.array(shares_a), np.array(shares_d)


def kl_divergence_of(counts: GroupCounts) -> float:
    """KL = sum_y P_a(y) * ln(P_a(y) / P_d(y)) over the label outcomes y shared by a and d."""
    p_a, p_d = _shared_label_distributions(counts)
    return float(np.sum(p_a * np.log(p_a / p_d)))


def js_divergence_of(counts: GroupCounts) -> float:
    """JS = 1/2 [KL(P_a || P) + KL(P_d || P)], P = (P_a + P_d) / 2, over shared outcomes."""
    p_a, p_d = _shared_label_distributions(counts)
    mixture = 0.5 * (p_a + p_d)
    return float(0.5 * (np.sum(p_a * np.log(p_a / mixture)) + np.sum(p_d * np.log(p_d / mixture))))


def lp_norm_of(counts: GroupCounts) -> float:
    """LP = ||P_a - P_d||_2 = sqrt(sum_y (P_a(y) - P_d(y))^2) over shared outcomes."""
    p_a, p_d = _shared_label_distributions(counts)
    return float(np.linalg.norm(p_a - p_d, 2))


def total_variation_distance_of(counts: GroupCounts) -> float:
    """TVD = 1/2 * sum_y |P_a(y) - P_d(y)| over shared outcomes."""
    p_a, p_d = _shared_label_distributions(counts)
    return float(0.5 * np.linalg.norm(p_a - p_d, 1))


def kolmogorov_smirnov_of(counts: GroupCounts) -> float:
    """KS = max_y |P_a(y) - P_d(y)| over shared outcomes."""
    p_a, p_d = _shared_label_distributions(counts)
    return float(np.linalg.norm(p_a - p_d, np.inf))


def kl_divergence(facet: np.ndarray, positive: np.ndarray) -> float:
    """KL of rows (``kl_divergence_of``)."""
    return kl_divergence_of(count_rows(facet, positive, None, None))


def js_divergence(facet: np.ndarray, positive: np.ndarray) -> float:
    """JS of rows (``js_divergence_of``)."""
    return js_divergence_of(count_rows(facet, positive, None, None))


def lp_norm(facet: np.ndarray, positive: np.ndarray) -> float:
    """LP of rows (``lp_norm_of``)."""
    return lp_norm_of(count_rows(facet, positive, None, None))


def total_variation_distance(facet: np.ndarray, positive: np.ndarray) -> float:
    """TVD of rows (``total_variation_distance_of``)."""
    return total_variation_distance_of(count_rows(facet, positive, None, None))


def kolmogorov_smirnov(facet: np.ndarray, positive: np.ndarray) -> float:
    """KS of rows (``kolmogorov_smirnov_of``)."""
    return kolmogorov_smirnov_of(count_rows(facet, positive, None, None))


def conditional_demographic_disparity_of(counts: GroupCounts, *, predicted: bool = False) -> float:
    """CDDL (labels) and CDDPL (predicted labels, ``predicted``): CDD = (1/n) * sum_i n_i * DD_i.

    For each distinct value i of the group variable (n_i rows):
    DD_i = n_d^(0)_i / n^(0)_i - n_d^(1)_i / n^(1)_i, the share of group d among the rejected
    (negative) rows minus its share among the accepted (positive) rows; a share whose
    denominator is 0 counts as 0. Rows without a group value belong to no subgroup. With group d
    empty (or every row in it) there is no disparity to measure: an error, where Clarify would
    report 0.
    """
    if not counts.grouped or not counts.count():
        raise BiasMetricError("Group variable is empty or not provided")
    n_a, n_d = _sizes(counts)
    if not n_d:
        raise BiasMetricError("Facet set is empty.")
    if not n_a:
        raise BiasMetricError("Negative facet set is empty.")
    if not _positives(counts, facet=None, predicted=predicted):  # type: ignore[arg-type]
        raise BiasMetricError("No positive labels in set")
    if not _positives(counts, facet=None, predicted=predicted, outcome=False):  # type: ignore[arg-type]
        raise BiasMetricError("No negative labels in set")

    def count(**selection: bool) -> np.ndarray:
        if predicted and "positive" in selection:
            selection["predicted"] = selection.pop("positive")
        return counts.per_subgroup(**selection)

    accepted, rejected = count(positive=True), count(positive=False)
    facet_accepted, facet_rejected = count(positive=True, facet=True), count(positive=False, facet=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_accepted = np.where(accepted > 0, facet_accepted / accepted, 0.0)
        share_rejected = np.where(rejected > 0, facet_rejected / rejected, 0.0)
    sizes = counts.per_subgroup().astype(np.float64)
    disparities = share_rejected - share_accepted
    return divide(float(np.sum(sizes * disparities)), float(np.sum(sizes)))


def conditional_demographic_disparity(
    facet: np.ndarray, positive: np.ndarray, group: np.ndarray | None
) -> float:
    """CDDL (or CDDPL, given predicted labels as ``positive``) of rows, ``group`` the group
    variable's values (``conditional_demographic_disparity_of``)."""
    if group is None:
        raise BiasMetricError("Group variable is empty or not provided")
    return conditional_demographic_disparity_of(count_rows(facet, positive, None, subgroup_keys(group)))
