"""Bias-drift verdicts that account for the window's size: a metric violates when it is farther from
its neutral point than the baseline's value by more than chance allows.

Clarify's rule (a violation whenever ``|current - neutral| > |baseline - neutral| + tolerance``) flags
sampling noise: with a baseline near neutral, a window of an unchanged model lands farther from
neutral about half the time per metric, and with some twenty metrics nearly every window violates.
The sample-size-aware decision (``comparison`` ``significance`` in the baseline's
``bias_drift_decision`` block, what this analyzer's baselines ask for) asks for evidence instead:

* every count-based metric has a standard error at a given size (``standard_errors``): a seeded
  multinomial (parametric) bootstrap of each facet group's counts (``GroupCounts``: the eight cells
  per subgroup, resampled with their observed shares at the group's total rows), each replicate's
  metric recomputed by the very ``<metric>_of`` function the analysis uses; a metric that is not
  computable or not finite in some replicate gets no standard error (a rate whose denominator a
  small window may lack), nor does a metric whose own value is infinite;
* a compared metric gets the one-sided p-value of
  ``z = (|current - neutral| - |baseline - neutral| - tolerance) / sqrt(se_window^2 + se_baseline^2)``;
  the baseline's standard error is the one its analysis.json stores; the window's is at least the
  baseline's scaled to the window's size (``se_baseline * sqrt(baseline_rows / window_rows)``), so a
  small window whose resampling is degenerate (every row of a group positive, say) does not claim a
  standard error of 0, and a metric the window's bootstrap could not compute still has one;
* a violation is a metric whose p-value is a Benjamini-Hochberg discovery at ``significance_level``
  across the window's judged metrics (every stage, facet and group together), and whose distance
  from neutral exceeds the baseline's by more than ``tolerance`` (an absolute margin, default 0).

Near a neutral point the distance ``|current - neutral|`` folds both directions into one, so for a
metric whose true value is neutral the test's real size is up to twice the nominal one; the false
alarms measured in ``bench/bias_verdicts.py`` include that.

The flip test (FT) has no count form (it needs the rows' features), so it has no standard error; nor
has a metric whose value is infinite on either side (a window without a false positive in d makes TE
infinite) or that no replicate could give one on either side. Such a metric keeps Clarify's rule,
outside the Benjamini-Hochberg family, with ``tolerance`` as its only margin, and so is judged only
when ``tolerance`` is above 0: with 0, Clarify's rule on FT flags 35 to 95 % of unchanged windows in
``bench/bias_verdicts.py`` (FT's nearest-neighbour step depends on the window's size too), so the
metric is left unjudged and the run says so. ``comparison`` ``threshold``, and a baseline without the
block (a Clarify-made analysis.json), is Clarify's rule for every metric, tolerance 0 included.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import constraint_rules as rules
from ..profile.bias_counts import GroupCounts
from .bias import (
    POST_TRAINING_METRICS,
    PRE_TRAINING_METRICS,
    BiasAnalysis,
    BiasDriftViolation,
    BiasStage,
    GroupData,
    MetricDefinition,
    bias_drift_violations,
    placed_metrics,
)
from .bias_groups import group_identity
from .bias_pretraining import BiasMetricError
from .drift import benjamini_hochberg, normal_sf

RESAMPLES = 300
RESAMPLE_SEED = 0
#: The metric that has no count form, so no standard error (Clarify's rule judges it).
FLIP_TEST = "FT"
MetricKey = tuple[BiasStage, str, str, str]  # ``PlacedMetric.key``: stage, facet, group identity, metric

_DEFINITIONS: Mapping[BiasStage, Mapping[str, MetricDefinition]] = {
    BiasStage.PRE_TRAINING: {d.name: d for d in PRE_TRAINING_METRICS},
    BiasStage.POST_TRAINING: {d.name: d for d in POST_TRAINING_METRICS},
}


# -- standard errors ---------------------------------------------------------------------------------


def analysis_rows(analysis: BiasAnalysis) -> int | None:
    """The rows the analysis counted (None for an analysis read from a file)."""
    if analysis.state is None or not analysis.state.counts or not analysis.state.counts[0]:
        return None
    return int(analysis.state.counts[0][0].counts.sum())


class ReplicateCounts(GroupCounts):
    """``GroupCounts`` of one bootstrap replicate whose ``count`` answers from the eight cell totals, kept
    as Python integers: the metrics ask some hundred counts of each replicate, and numpy's per-call cost
    would dominate the bootstrap. Same answers as ``GroupCounts.count``."""

    def count(self, *, facet: bool | None = None, positive: bool | None = None, predicted: bool | None = None) -> int:
        answers: dict[tuple[bool | None, bool | None, bool | None], int] | None = self.__dict__.get("_answers")
        if answers is None:  # every question's answer at once (27 of them), then each a look-up
            totals = [int(c) for c in self.cells()]
            choices = ((None, (0, 1)), (False, (0,)), (True, (1,)))
            answers = {(f, p, q): sum(totals[4 * i + 2 * j + k] for i in fs for j in ps for k in qs)
                       for f, fs in choices for p, ps in choices for q, qs in choices}
            object.__setattr__(self, "_answers", answers)
        return answers[facet, positive, predicted]


def _replicates(counts: GroupCounts, resamples: int, generator: np.random.Generator) -> np.ndarray:
    """``resamples`` multinomial draws of the group's cells at its total rows, with the observed shares."""
    table = counts.counts
    total = int(table.sum())
    shares = table.ravel() / total
    return generator.multinomial(total, shares, size=resamples).reshape(resamples, *table.shape)


def _bootstrap_errors(counts: GroupCounts, definitions: list[MetricDefinition], resamples: int,
                      generator: np.random.Generator) -> list[float]:
    values = np.full((len(definitions), resamples), np.nan)
    for r, cells in enumerate(_replicates(counts, resamples, generator)):
        data = GroupData(counts=ReplicateCounts(keys=counts.keys, counts=cells, grouped=counts.grouped))
        for m, definition in enumerate(definitions):
            # not computable in this replicate: the metric gets no standard error (its NaN stays)
            with contextlib.suppress(BiasMetricError):
                values[m, r] = definition.compute(data)
    return [float(np.std(row, ddof=1)) if np.isfinite(row).all() else math.nan for row in values]


def standard_errors(analysis: BiasAnalysis, *, resamples: int = RESAMPLES,
                    seed: int = RESAMPLE_SEED) -> dict[MetricKey, float]:
    """Each count-based metric's standard error at the analysis's size (``PlacedMetric.key`` -> error).

    Needs the counts (``analysis.state``: an analysis computed here, not read from a file). Metrics
    left out: FT, those without a finite value, and those some replicate could not compute."""
    state = analysis.state
    if state is None:
        return {}
    generator = np.random.default_rng(seed)
    errors: dict[MetricKey, float] = {}
    for i, facet_counts in enumerate(state.counts):
        for j, counts in enumerate(facet_counts):
            if not counts.counts.sum():
                continue
            wanted: list[tuple[MetricKey, MetricDefinition]] = []
            for stage, result in analysis.stages():
                facet = result.facets[i]
                group = facet.values[j]
                for metric in group.metrics:
                    if metric.name == FLIP_TEST or metric.value is None or not math.isfinite(metric.value):
                        continue
                    key = (stage, facet.name, group_identity(str(group.value_or_threshold)), metric.name)
                    wanted.append((key, _DEFINITIONS[stage][metric.name]))
            if not wanted:
                continue
            found = _bootstrap_errors(counts, [d for _, d in wanted], resamples, generator)
            errors.update((key, error) for (key, _), error in zip(wanted, found, strict=True) if math.isfinite(error))
    return errors


def decision_for_baseline(analysis: BiasAnalysis, *,
                          significance_level: float = rules.DEFAULT_QUALITY_SIGNIFICANCE_LEVEL,
                          resamples: int = RESAMPLES, seed: int = RESAMPLE_SEED) -> rules.BiasDecision:
    """The ``bias_drift_decision`` a baseline records: the significance comparison, its rows and each
    metric's standard error keyed as analysis.json prints its groups."""
    errors = standard_errors(analysis, resamples=resamples, seed=seed)
    printed: dict[tuple[str, str, str, str], float] = {}
    for placed in placed_metrics(analysis):
        error = errors.get(placed.key)
        if error is not None:
            printed[(placed.stage.value, placed.facet, placed.facet_value, placed.metric.name)] = error
    return rules.BiasDecision(comparison=rules.SIGNIFICANCE, significance_level=significance_level,
                              baseline_size=analysis_rows(analysis), standard_errors=printed)


# -- the decision -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BiasVerdict:
    """A window's bias-drift verdict.

    :param violations: in analysis.json's order.
    :param judged: every metric judged (a value on both sides), violated or not.
    :param p_values: the metrics judged by significance, with their one-sided p-values.
    :param by_clarify_rule: the judged metrics judged by Clarify's rule (no standard error and a
        tolerance above 0, or the whole window when the baseline asks for ``threshold``).
    :param not_judged: metrics with a value on both sides but no standard error, left unjudged because
        the tolerance is 0.
    """

    violations: tuple[BiasDriftViolation, ...]
    judged: tuple[MetricKey, ...]
    p_values: Mapping[MetricKey, float]
    by_clarify_rule: tuple[MetricKey, ...]
    not_judged: tuple[MetricKey, ...] = ()

    def violated(self, key: MetricKey) -> bool:
        """Whether the metric at ``key`` violates."""
        return any((v.stage, v.facet, group_identity(v.facet_value), v.metric_name) == key for v in self.violations)


def _baseline_errors(baseline: BiasAnalysis, decision: rules.BiasDecision) -> dict[MetricKey, float]:
    found = {}
    for placed in placed_metrics(baseline):
        error = decision.standard_errors.get((placed.stage.value, placed.facet, placed.facet_value, placed.metric.name))
        if error is not None:
            found[placed.key] = error
    return found


def decide(*, baseline: BiasAnalysis, current: BiasAnalysis, decision: rules.BiasDecision, tolerance: float = 0.0,
           window_errors: Mapping[MetricKey, float] | None = None,
           neutral_values: Mapping[str, float] = rules.CLARIFY_NEUTRAL_VALUES) -> BiasVerdict:
    """The violations of ``current`` against ``baseline`` under ``decision`` (see the module docstring).

    ``window_errors``: the window's standard errors (default: bootstrapped from ``current.state``).
    Metrics are compared as ``checks.bias.bias_drift_violations`` compares them (same stage, facet,
    group and name, a value on both sides)."""
    baseline_values = {m.key: float(m.metric.value) for m in placed_metrics(baseline) if m.metric.value is not None}
    compared = [m for m in placed_metrics(current) if m.metric.value is not None and m.key in baseline_values]
    judged = tuple(m.key for m in compared)
    if decision.comparison == rules.THRESHOLD:
        violations = bias_drift_violations(baseline=baseline, current=current, neutral_values=neutral_values,
                                           tolerance=tolerance)
        return BiasVerdict(violations=violations, judged=judged, p_values={}, by_clarify_rule=judged)
    errors = standard_errors(current) if window_errors is None else window_errors
    baseline_errors = _baseline_errors(baseline, decision)
    rows = analysis_rows(current)
    excesses: dict[MetricKey, float] = {}
    p_values: dict[MetricKey, float] = {}
    by_rule: list[MetricKey] = []
    unjudged: list[MetricKey] = []
    for placed in compared:
        current_value, baseline_value = float(placed.metric.value), baseline_values[placed.key]  # type: ignore[arg-type]
        neutral = rules.neutral_value(placed.metric.name, neutral_values)
        excess = abs(current_value - neutral) - abs(baseline_value - neutral) - tolerance
        baseline_error = baseline_errors.get(placed.key, math.nan)
        window_error = errors.get(placed.key, math.nan)
        if decision.baseline_size and rows and math.isfinite(baseline_error):
            scaled = baseline_error * math.sqrt(decision.baseline_size / rows)
            window_error = scaled if math.isnan(window_error) else max(window_error, scaled)
        spread = math.sqrt(sum(e * e for e in (window_error, baseline_error) if math.isfinite(e)))
        if placed.metric.name == FLIP_TEST or not (math.isfinite(current_value) and math.isfinite(baseline_value)) \
                or spread == 0:
            (by_rule if tolerance > 0 else unjudged).append(placed.key)
            continue
        excesses[placed.key] = excess
        p_values[placed.key] = normal_sf(excess / spread)
    # by position: keys hold the stage enum, which does not sort when two p-values tie
    tested = list(p_values)
    found = benjamini_hochberg({str(i): p_values[key] for i, key in enumerate(tested)}, decision.significance_level)
    discoveries = {tested[int(i)] for i in found}
    violations = []
    for placed in compared:
        if placed.key in unjudged:
            continue
        current_value, baseline_value = float(placed.metric.value), baseline_values[placed.key]  # type: ignore[arg-type]
        if placed.key in p_values:
            violated = placed.key in discoveries and excesses[placed.key] > 0
        else:
            violated = rules.is_bias_drift(current_value, baseline_value,
                                           rules.neutral_value(placed.metric.name, neutral_values), tolerance)
        if violated:
            violations.append(BiasDriftViolation(stage=placed.stage, facet=placed.facet, facet_value=placed.facet_value,
                                                 metric_name=placed.metric.name, current=current_value,
                                                 baseline=baseline_value))
    return BiasVerdict(violations=tuple(violations), judged=tuple(k for k in judged if k not in unjudged),
                       p_values=p_values, by_clarify_rule=tuple(by_rule), not_judged=tuple(unjudged))
