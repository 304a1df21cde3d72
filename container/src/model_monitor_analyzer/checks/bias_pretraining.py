"""Clarify's pre-training bias metrics: they need the facet and the observed labels only.

Every metric takes boolean numpy arrays of equal length:

* ``facet``: True for rows in the sensitive group *d* (the facet value or threshold), False
  for the rest, the group *a*;
* ``positive``: True for rows whose label is one of the positive label values;
* ``group`` (CDDL only): the group variable's value per row.

A metric that Clarify cannot compute raises ``BiasMetricError`` with the message Clarify
writes into the ``error`` field of analysis.json, and the value there is ``null``.
Divisions follow Clarify's ``divide``: 0/0 is 0, x/0 is +-infinity.
"""

from __future__ import annotations

import numpy as np


class BiasMetricError(ValueError):
    """A metric has no value for this data; the message goes to analysis.json's ``error``."""


def divide(numerator: float, denominator: float) -> float:
    """Clarify's division: ``0/0 = 0``, ``x/0 = +inf`` for x > 0 and ``-inf`` for x < 0."""
    if denominator == 0:
        if numerator == 0:
            return 0.0
        return float("inf") if numerator > 0 else float("-inf")
    return numerator / denominator


def class_imbalance(facet: np.ndarray) -> float:
    """CI = (n_a - n_d) / (n_a + n_d).

    n_a, n_d are the sizes of the two groups; +1 when d is absent, -1 when a is absent, so
    both empty groups are errors.
    """
    n_d = int(np.count_nonzero(facet))
    n_a = int(facet.size - n_d)
    if n_a == 0:
        raise BiasMetricError("CI: negated facet set is empty. Check that x[~facet] has non-zero length.")
    if n_d == 0:
        raise BiasMetricError("CI: facet set is empty. Check that x[facet] has non-zero length.")
    return float(n_a - n_d) / (n_a + n_d)


def positive_proportion_difference(facet: np.ndarray, positive: np.ndarray) -> float:
    """DPL (labels) and DPPL (predicted labels): q_a - q_d, with q = n^(1) / n.

    n^(1) counts the rows of the group with a positive (predicted) label.
    """
    n_d = int(np.count_nonzero(facet))
    n_a = int(facet.size - n_d)
    if n_a == 0:
        raise BiasMetricError("Negative facet set is empty.")
    if n_d == 0:
        raise BiasMetricError("Facet set is empty.")
    q_a = np.count_nonzero(positive & ~facet) / n_a
    q_d = np.count_nonzero(positive & facet) / n_d
    return float(q_a - q_d)


def _shared_label_distributions(facet: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P_a and P_d over the label outcomes (negative, positive) that occur in *both* groups.

    Clarify drops an outcome that one group never has (its probability would be 0), so the
    divergences stay finite; with no shared outcome the metrics are errors.
    """
    n_d = int(np.count_nonzero(facet))
    n_a = int(facet.size - n_d)
    shares_a, shares_d = [], []
    for outcome in (False, True):
        count_a = int(np.count_nonzero((positive == outcome) & ~facet))
        count_d = int(np.count_nonzero((positive == outcome) & facet))
        if count_a and count_d:
            shares_a.append(count_a / n_a)
            shares_d.append(count_d / n_d)
    if not shares_a:
        raise BiasMetricError("No instance of common facet found, dataset may be too small")
    return np.array(shares_a), np.array(shares_d)


def kl_divergence(facet: np.ndarray, positive: np.ndarray) -> float:
    """KL = sum_y P_a(y) * ln(P_a(y) / P_d(y)) over the label outcomes y shared by a and d."""
    p_a, p_d = _shared_label_distributions(facet, positive)
    return float(np.sum(p_a * np.log(p_a / p_d)))


def js_divergence(facet: np.ndarray, positive: np.ndarray) -> float:
    """JS = 1/2 [KL(P_a || P) + KL(P_d || P)], P = (P_a + P_d) / 2, over shared outcomes."""
    p_a, p_d = _shared_label_distributions(facet, positive)
    mixture = 0.5 * (p_a + p_d)
    return float(0.5 * (np.sum(p_a * np.log(p_a / mixture)) + np.sum(p_d * np.log(p_d / mixture))))


def lp_norm(facet: np.ndarray, positive: np.ndarray) -> float:
    """LP = ||P_a - P_d||_2 = sqrt(sum_y (P_a(y) - P_d(y))^2) over shared outcomes."""
    p_a, p_d = _shared_label_distributions(facet, positive)
    return float(np.linalg.norm(p_a - p_d, 2))


def total_variation_distance(facet: np.ndarray, positive: np.ndarray) -> float:
    """TVD = 1/2 * sum_y |P_a(y) - P_d(y)| over shared outcomes."""
    p_a, p_d = _shared_label_distributions(facet, positive)
    return float(0.5 * np.linalg.norm(p_a - p_d, 1))


def kolmogorov_smirnov(facet: np.ndarray, positive: np.ndarray) -> float:
    """KS = max_y |P_a(y) - P_d(y)| over shared outcomes."""
    p_a, p_d = _shared_label_distributions(facet, positive)
    return float(np.linalg.norm(p_a - p_d, np.inf))


def conditional_demographic_disparity(
    facet: np.ndarray, positive: np.ndarray, group: np.ndarray | None
) -> float:
    """CDDL (labels) and CDDPL (predicted labels): CDD = (1/n) * sum_i n_i * DD_i.

    For each distinct value i of the group variable (n_i rows):
    DD_i = n_d^(0)_i / n^(0)_i - n_d^(1)_i / n^(1)_i, the share of group d among the rejected
    (negative) rows minus its share among the accepted (positive) rows; a share whose
    denominator is 0 counts as 0. With group d empty (or every row in it) there is no disparity
    to measure: an error, where Clarify would report 0.
    """
    if group is None or group.size == 0:
        raise BiasMetricError("Group variable is empty or not provided")
    if not np.any(facet):
        raise BiasMetricError("Facet set is empty.")
    if np.all(facet):
        raise BiasMetricError("Negative facet set is empty.")
    if not np.any(positive):
        raise BiasMetricError("No positive labels in set")
    if np.all(positive):
        raise BiasMetricError("No negative labels in set")
    # Counted in one pass per count, not per subgroup: a group variable may have many values.
    values, subgroup = np.unique(group, return_inverse=True)
    subgroup = subgroup.reshape(-1)
    if group.dtype.kind == "f":
        # np.unique keeps NaN as one value, but NaN equals nothing: its subgroup stays empty.
        subgroup = np.where(np.isnan(group), values.size, subgroup)

    def count(rows: np.ndarray) -> np.ndarray:
        return np.bincount(subgroup[rows], minlength=values.size + 1)[: values.size]

    accepted, rejected = count(positive), count(~positive)
    facet_accepted, facet_rejected = count(positive & facet), count(~positive & facet)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_accepted = np.where(accepted > 0, facet_accepted / accepted, 0.0)
        share_rejected = np.where(rejected > 0, facet_rejected / rejected, 0.0)
    sizes = count(np.ones(group.size, dtype=bool)).astype(np.float64)
    disparities = share_rejected - share_accepted
    return divide(float(np.sum(sizes * disparities)), float(np.sum(sizes)))
