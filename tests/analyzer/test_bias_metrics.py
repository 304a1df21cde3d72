"""Each bias metric on a small case worked out by hand from its formula, and against scipy/scikit-learn.

The hand case (10 rows, group a = first 6, group d = last 4):

    row        0  1  2  3  4  5 | 6  7  8  9
    label y    1  1  1  0  0  0 | 1  0  0  0
    predicted  1  1  0  1  1  0 | 0  0  1  0
    group      x  x  x  y  y  y | x  x  y  y
    feature    0  1  2  3  4  5 | .1 2.1 4.9 3.2

a: TP 2, FP 2, FN 1, TN 1;  d: TP 0, FP 1, FN 1, TN 2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy
from sklearn.metrics import accuracy_score, precision_score, recall_score
from sklearn.neighbors import KNeighborsClassifier

from model_monitor_analyzer.checks import bias_posttraining as post
from model_monitor_analyzer.checks import bias_pretraining as pre
from model_monitor_analyzer.checks.bias_pretraining import BiasMetricError

FACET = np.array([False] * 6 + [True] * 4)
LABEL = np.array([1, 1, 1, 0, 0, 0, 1, 0, 0, 0], dtype=bool)
PREDICTED = np.array([1, 1, 0, 1, 1, 0, 0, 0, 1, 0], dtype=bool)
GROUP = np.array(list("xxxyyyxxyy"), dtype=object)
FEATURE = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [0.1], [2.1], [4.9], [3.2]])
P_A = np.array([3 / 6, 3 / 6])  # (negative, positive) label shares of a
P_D = np.array([3 / 4, 1 / 4])


def test_class_imbalance_is_size_difference_over_total():
    assert pre.class_imbalance(FACET) == pytest.approx((6 - 4) / (6 + 4))


def test_difference_in_positive_label_proportions_is_q_a_minus_q_d():
    assert pre.positive_proportion_difference(FACET, LABEL) == pytest.approx(3 / 6 - 1 / 4)


def test_kl_divergence_matches_scipy_relative_entropy():
    expected = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert pre.kl_divergence(FACET, LABEL) == pytest.approx(expected)
    assert pre.kl_divergence(FACET, LABEL) == pytest.approx(entropy(P_A, P_D))


def test_js_divergence_matches_scipy_squared_jensen_shannon_distance():
    assert pre.js_divergence(FACET, LABEL) == pytest.approx(jensenshannon(P_A, P_D) ** 2)


def test_lp_tvd_and_ks_are_norms_of_the_label_share_difference():
    assert pre.lp_norm(FACET, LABEL) == pytest.approx(math.sqrt(0.25**2 + 0.25**2))
    assert pre.total_variation_distance(FACET, LABEL) == pytest.approx(0.5 * (0.25 + 0.25))
    assert pre.kolmogorov_smirnov(FACET, LABEL) == pytest.approx(0.25)


def test_conditional_demographic_disparity_weights_each_group_by_its_size():
    # x: rows 0,1,2,6,7 -> d among rejected 1/1, among accepted 1/4; y: rows 3,4,5,8,9 -> 2/5 and 0 (none accepted)
    expected = (5 * (1 / 1 - 1 / 4) + 5 * (2 / 5 - 0)) / 10
    assert pre.conditional_demographic_disparity(FACET, LABEL, GROUP) == pytest.approx(expected)


def test_conditional_demographic_disparity_without_group_variable_reports_clarifys_error():
    with pytest.raises(BiasMetricError, match=r"^Group variable is empty or not provided$"):
        pre.conditional_demographic_disparity(FACET, LABEL, None)


def test_conditional_demographic_disparity_needs_both_outcomes():
    with pytest.raises(BiasMetricError, match="No positive labels"):
        pre.conditional_demographic_disparity(FACET, np.zeros(10, dtype=bool), GROUP)
    with pytest.raises(BiasMetricError, match="No negative labels"):
        pre.conditional_demographic_disparity(FACET, np.ones(10, dtype=bool), GROUP)


def test_an_empty_facet_group_is_an_error_not_a_number():
    nobody = np.zeros(10, dtype=bool)
    with pytest.raises(BiasMetricError, match="facet set is empty"):
        pre.class_imbalance(nobody)
    with pytest.raises(BiasMetricError, match="Facet set is empty"):
        post.disparate_impact(nobody, PREDICTED)
    with pytest.raises(BiasMetricError, match="Negated Facet set is empty"):
        post.recall_difference(np.ones(10, dtype=bool), LABEL, PREDICTED)


def test_divergences_drop_an_outcome_one_group_never_has():
    # a has only negatives, d only positives: no outcome is shared, so Clarify reports an error.
    labels = np.array([0] * 6 + [1] * 4, dtype=bool)
    with pytest.raises(BiasMetricError, match="No instance of common facet found"):
        pre.kl_divergence(FACET, labels)
    # d all negative, a mixed: only the negative outcome is shared, KL = P_a(0) ln(P_a(0) / 1).
    labels = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    assert pre.kl_divergence(FACET, labels) == pytest.approx((4 / 6) * math.log(4 / 6))


def test_dppl_and_disparate_impact_use_predicted_positive_shares():
    assert pre.positive_proportion_difference(FACET, PREDICTED) == pytest.approx(4 / 6 - 1 / 4)
    assert post.disparate_impact(FACET, PREDICTED) == pytest.approx((1 / 4) / (4 / 6))


def test_conditional_acceptance_and_rejection_compare_observed_to_predicted_counts():
    assert post.conditional_acceptance_difference(FACET, LABEL, PREDICTED) == pytest.approx(3 / 4 - 1 / 1)
    assert post.conditional_rejection_difference(FACET, LABEL, PREDICTED) == pytest.approx(3 / 3 - 3 / 2)


def test_recall_specificity_acceptance_rejection_and_accuracy_differences():
    assert post.recall_difference(FACET, LABEL, PREDICTED) == pytest.approx(2 / 3 - 0 / 1)
    assert post.specificity_difference(FACET, LABEL, PREDICTED) == pytest.approx(2 / 3 - 1 / 3)
    assert post.acceptance_rate_difference(FACET, LABEL, PREDICTED) == pytest.approx(2 / 4 - 0 / 1)
    assert post.rejection_rate_difference(FACET, LABEL, PREDICTED) == pytest.approx(2 / 3 - 1 / 2)
    assert post.accuracy_difference(FACET, LABEL, PREDICTED) == pytest.approx(3 / 6 - 2 / 4)


def test_treatment_equality_is_the_difference_of_fn_over_fp():
    assert post.treatment_equality(FACET, LABEL, PREDICTED) == pytest.approx(1 / 1 - 1 / 2)


def test_treatment_equality_is_infinite_when_d_has_false_negatives_and_no_false_positives():
    predicted = PREDICTED.copy()
    predicted[8] = False  # d's only false positive becomes a true negative
    assert post.treatment_equality(FACET, LABEL, predicted) == math.inf


def test_ratios_infinite_in_both_groups_count_as_no_difference():
    never_predicted = np.zeros(10, dtype=bool)
    assert post.conditional_acceptance_difference(FACET, LABEL, never_predicted) == 0


def test_generalized_entropy_is_half_the_squared_coefficient_of_variation_of_the_benefit():
    benefit = PREDICTED.astype(int) - LABEL.astype(int) + 1
    expected = np.var(benefit) / (2 * np.mean(benefit) ** 2)
    assert post.generalized_entropy(LABEL, PREDICTED) == pytest.approx(expected)


def test_generalized_entropy_needs_a_prediction_that_is_not_a_false_negative():
    with pytest.raises(BiasMetricError, match="All predicted labels are false negatives"):
        post.generalized_entropy(np.ones(4, dtype=bool), np.zeros(4, dtype=bool))


def test_flip_test_counts_flips_to_positive_minus_flips_to_negative():
    # a has 6 rows, so one neighbour: d rows at 0.1, 2.1, 4.9, 3.2 take a's rows 0, 2, 5, 3,
    # whose predictions are 1, 0, 0, 1; the model says 0, 0, 1, 0 -> F+ = 1 (row 8), F- = 2.
    assert post.flip_test(FEATURE, FACET, PREDICTED) == pytest.approx((1 - 2) / 4)


def test_flip_test_rejects_text_features():
    text = np.array([["a"]] * 10, dtype=object)
    with pytest.raises(BiasMetricError, match="non-numeric"):
        post.flip_test(text, FACET, PREDICTED)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nearest_neighbour_votes_match_scikit_learn_on_continuous_features(seed):
    rng = np.random.default_rng(seed)
    reference = rng.normal(size=(300, 4))
    reference_positive = rng.random(300) < 0.4
    queries = rng.normal(size=(700, 4))
    expected = KNeighborsClassifier(n_neighbors=5).fit(reference, reference_positive).predict(queries)
    assert np.array_equal(post.nearest_neighbour_votes(reference, reference_positive, queries, 5), expected)


@pytest.mark.parametrize("seed", [3, 4])
def test_confusion_based_differences_match_scikit_learn_per_group(seed):
    rng = np.random.default_rng(seed)
    facet = rng.random(500) < 0.3
    label = rng.random(500) < 0.5
    predicted = rng.random(500) < 0.45
    a, d = ~facet, facet

    def per_group(metric, rows, **kwargs):
        return metric(label[rows], predicted[rows], **kwargs)

    assert post.recall_difference(facet, label, predicted) == pytest.approx(
        per_group(recall_score, a) - per_group(recall_score, d)
    )
    assert post.acceptance_rate_difference(facet, label, predicted) == pytest.approx(
        per_group(precision_score, a) - per_group(precision_score, d)
    )
    assert post.accuracy_difference(facet, label, predicted) == pytest.approx(
        per_group(accuracy_score, a) - per_group(accuracy_score, d)
    )
    assert post.specificity_difference(facet, label, predicted) == pytest.approx(
        per_group(recall_score, d, pos_label=False) - per_group(recall_score, a, pos_label=False)
    )
    assert post.rejection_rate_difference(facet, label, predicted) == pytest.approx(
        per_group(precision_score, d, pos_label=False) - per_group(precision_score, a, pos_label=False)
    )
