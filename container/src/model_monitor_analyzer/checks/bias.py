"""Clarify's bias analysis of a table, and the bias-drift check of one analysis against a baseline.

``analyze_bias`` computes, for each facet and each facet value or threshold, the pre-training
metrics (labels only) and the post-training metrics (labels and predicted labels), in the
order and with the names and descriptions Clarify writes to analysis.json. A metric that has
no value for the data (an empty group, no positive labels, a rate whose denominator is 0) is
``null`` with the reason in ``error``, as Clarify writes its errors; the other metrics keep
their values. ``not_computable`` lists those metrics.

``bias_drift_violations`` applies the bias-drift rule: a metric violates when its current value
is farther from zero than its baseline value (|current| > |baseline|). Clarify applies this to
DI too, although DI's neutral point is 1: in the real bias-drift run of AWS's adult example, DI
fell from 0.178 (baseline) to 0.083 without a violation. ``neutral_values`` lets a caller
choose another neutral point per metric (e.g. ``{"DI": 1.0}``).
"""

from __future__ import annotations

import enum
import functools
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from .. import constraint_rules as rules
from ..errors import AnalyzerInputError
from ..profile.bias_counts import GroupCounts, count_rows
from . import bias_posttraining as post
from . import bias_pretraining as pre
from .bias_groups import (
    ColumnKind,
    Selection,
    group_identity,
    kind_of_group,
    subgroup_keys,
    value_text,
)
from .bias_summary import (
    ColumnSummary,
    distinct_needed,
    facet_selections,
    label_selection,
    predicted_selection,
    present_count,
    summarize,
)


class BiasStage(enum.Enum):
    """The two stages Clarify reports, with their analysis.json key and CloudWatch dimension value."""

    PRE_TRAINING = "pre_training_bias_metrics"
    POST_TRAINING = "post_training_bias_metrics"

    @property
    def metric_dimension(self) -> str:
        return "Pre-training" if self is BiasStage.PRE_TRAINING else "Post-Training"


@dataclass(frozen=True, kw_only=True)
class GroupData:
    """What the metrics of one facet value see: the rows' counts (every metric but the flip test),
    and how to run the flip test, which needs the rows themselves (None: no predictions)."""

    counts: GroupCounts
    flip_test: Callable[[], float] | None = None


@dataclass(frozen=True)
class MetricDefinition:
    """A metric as analysis.json names and describes it, and how to compute it."""

    name: str
    description: str
    compute: Callable[[GroupData], float]


def _flip_test(data: GroupData) -> float:
    assert data.flip_test is not None, "post-training metrics are computed only with predicted labels"
    return data.flip_test()


PRE_TRAINING_METRICS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        "CDDL",
        "Conditional Demographic Disparity in Labels (CDDL)",
        lambda g: pre.conditional_demographic_disparity_of(g.counts),
    ),
    MetricDefinition("CI", "Class Imbalance (CI)", lambda g: pre.class_imbalance_of(g.counts)),
    MetricDefinition(
        "DPL",
        "Difference in Positive Proportions in Labels (DPL)",
        lambda g: pre.positive_proportion_difference_of(g.counts),
    ),
    MetricDefinition("JS", "Jensen-Shannon Divergence (JS)", lambda g: pre.js_divergence_of(g.counts)),
    # "Liebler" is Clarify's spelling; analysis.json consumers match on it.
    MetricDefinition("KL", "Kullback-Liebler Divergence (KL)", lambda g: pre.kl_divergence_of(g.counts)),
    MetricDefinition("KS", "Kolmogorov-Smirnov Distance (KS)", lambda g: pre.kolmogorov_smirnov_of(g.counts)),
    MetricDefinition("LP", "L-p Norm (LP)", lambda g: pre.lp_norm_of(g.counts)),
    MetricDefinition(
        "TVD", "Total Variation Distance (TVD)", lambda g: pre.total_variation_distance_of(g.counts)
    ),
)

POST_TRAINING_METRICS: tuple[MetricDefinition, ...] = (
    MetricDefinition("AD", "Accuracy Difference (AD)", lambda g: post.accuracy_difference_of(g.counts)),
    MetricDefinition(
        "CDDPL",
        "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
        lambda g: pre.conditional_demographic_disparity_of(g.counts, predicted=True),
    ),
    MetricDefinition(
        "DAR", "Difference in Acceptance Rates (DAR)", lambda g: post.acceptance_rate_difference_of(g.counts)
    ),
    MetricDefinition(
        "DCA",
        "Difference in Conditional Acceptance (DCA)",
        lambda g: post.conditional_acceptance_difference_of(g.counts),
    ),
    MetricDefinition(
        "DCR",
        "Difference in Conditional Rejection (DCR)",
        lambda g: post.conditional_rejection_difference_of(g.counts),
    ),
    MetricDefinition("DI", "Disparate Impact (DI)", lambda g: post.disparate_impact_of(g.counts)),
    MetricDefinition(
        "DPPL",
        "Difference in Positive Proportions in Predicted Labels (DPPL)",
        lambda g: pre.positive_proportion_difference_of(g.counts, predicted=True),
    ),
    MetricDefinition(
        "DRR", "Difference in Rejection Rates (DRR)", lambda g: post.rejection_rate_difference_of(g.counts)
    ),
    MetricDefinition("FT", "Flip Test (FT)", _flip_test),
    MetricDefinition("GE", "Generalized Entropy (GE)", lambda g: post.generalized_entropy_of(g.counts)),
    MetricDefinition("RD", "Recall Difference (RD)", lambda g: post.recall_difference_of(g.counts)),
    MetricDefinition("SD", "Specificity Difference (SD)", lambda g: post.specificity_difference_of(g.counts)),
    MetricDefinition("TE", "Treatment Equality (TE)", lambda g: post.treatment_equality_of(g.counts)),
)

# Clarify's drift rule measures every metric's distance from 0 (see the module docstring); defined
# once with the rule itself, which the constructs' bias alarms read too.
CLARIFY_NEUTRAL_VALUES: Mapping[str, float] = rules.CLARIFY_NEUTRAL_VALUES
is_drift = rules.is_bias_drift


@dataclass(frozen=True, kw_only=True)
class MetricResult:
    """One metric of one facet value: ``value`` (may be +-inf) or ``None`` with Clarify's ``error``."""

    name: str
    description: str
    value: float | None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class FacetValueResult:
    """The metrics of one facet value or threshold (``value_or_threshold`` as Clarify prints it)."""

    value_or_threshold: str
    metrics: tuple[MetricResult, ...]


@dataclass(frozen=True, kw_only=True)
class FacetResult:
    """All facet values of one facet column."""

    name: str
    values: tuple[FacetValueResult, ...]


@dataclass(frozen=True, kw_only=True)
class StageResult:
    """One stage of analysis.json: label, positive label values and the per-facet metrics."""

    label: str
    label_value_or_threshold: str
    facets: tuple[FacetResult, ...]


@dataclass(frozen=True, kw_only=True)
class BiasAnalysis:
    """What analysis.json holds: the stages that were computed.

    ``problems`` says, in the user's terms, why metrics could not be computed from this data
    (a facet value or a label value that matches no row, no positive prediction...); analysis.json
    does not hold them. A baseline with problems is refused (its metrics would be missing from
    every comparison); in a monitoring window they are what a small window lacks.
    """

    pre_training: StageResult | None = None
    post_training: StageResult | None = None
    problems: tuple[str, ...] = ()
    # The counts the metrics came from (None for an analysis read from a file): their standard errors need them.
    state: BiasState | None = field(default=None, compare=False, repr=False)

    def stages(self) -> tuple[tuple[BiasStage, StageResult], ...]:
        """The computed stages in analysis.json's order (post-training first)."""
        found = ((BiasStage.POST_TRAINING, self.post_training), (BiasStage.PRE_TRAINING, self.pre_training))
        return tuple((stage, result) for stage, result in found if result is not None)


@dataclass(frozen=True, kw_only=True)
class FacetSpec:
    """A facet to analyse: its column and, optionally, the sensitive values or one threshold."""

    column: str
    values: tuple[object, ...] | None = None


def select_metrics(
    definitions: Sequence[MetricDefinition], names: Sequence[str] | None
) -> tuple[MetricDefinition, ...]:
    """The metrics to compute (``None`` = all), in analysis.json's order (sorted by name)."""
    if names is None:
        return tuple(definitions)
    known = {d.name for d in definitions}
    unknown = sorted(set(names) - known)
    if unknown:
        raise AnalyzerInputError(
            f'unknown bias metric(s) {", ".join(unknown)}: use "all" or names from {", ".join(sorted(known))}'
        )
    return tuple(d for d in definitions if d.name in set(names))


def compute_metric(definition: MetricDefinition, data: GroupData) -> MetricResult:
    """Run one metric; a ``BiasMetricError`` becomes a ``null`` value with the error text."""
    try:
        value = definition.compute(data)
    except pre.BiasMetricError as error:
        return MetricResult(
            name=definition.name, description=definition.description, value=None, error=str(error)
        )
    return MetricResult(name=definition.name, description=definition.description, value=value)


@dataclass(frozen=True, kw_only=True)
class FacetPlan:
    """One facet column and its groups: each group's name as analysis.json prints it, and how its rows are chosen."""

    column: str
    groups: tuple[tuple[str, Selection], ...]


@dataclass(frozen=True, kw_only=True)
class BiasPlan:
    """What a bias analysis decides from the whole table before its rows are counted.

    How the label, predicted label and facet columns are read (categorical or continuous, by the
    5 % rule or the baseline), which facet groups there are (the given values or thresholds, or
    each distinct value in order of first appearance) and how they print (a threshold group's
    upper bound is the column's maximum), and whether the group variable's subgroups are keyed by
    number (``keys_are_numbers``); ``problems`` says why metrics will lack a value. With a plan, any
    part of the rows is counted alike (``count_bias``).
    """

    label: str
    label_value_or_threshold: str
    positive: Selection
    predicted_label: str | None
    predicted: Selection | None
    group_variable: str | None
    group_keys_are_numbers: bool
    facets: tuple[FacetPlan, ...]
    stages: tuple[tuple[BiasStage, tuple[MetricDefinition, ...]], ...]
    excluded_columns: tuple[str, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class BiasState:
    """The mergeable state of a bias analysis: one ``GroupCounts`` per facet group, in the plan's
    order (``counts[facet][group]``). The states of parts of the rows merge into the state of the
    whole; every metric but the flip test derives from it (``analysis_from_state``)."""

    counts: tuple[tuple[GroupCounts, ...], ...]

    def merge(self, other: BiasState) -> BiasState:
        """The state of both parts' rows together (same plan)."""
        return BiasState(counts=tuple(
            tuple(mine.merge(theirs) for mine, theirs in zip(facet_mine, facet_theirs, strict=True))
            for facet_mine, facet_theirs in zip(self.counts, other.counts, strict=True)))

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form (``from_dict`` reads it back)."""
        return {"facets": [[group.to_dict() for group in facet] for facet in self.counts]}

    @classmethod
    def from_dict(cls, document: Mapping[str, object]) -> BiasState:
        """The state ``to_dict`` wrote."""
        return cls(counts=tuple(tuple(GroupCounts.from_dict(group) for group in facet)
                                for facet in document["facets"]))  # type: ignore[union-attr]


class BiasRunner(Protocol):
    """Where the rows of a planned table are counted and its flip test's queries answered: in this process
    (``None`` where a runner is asked for: ``count_bias`` and ``bias_posttraining.flip_counts``), or split over
    Spark's partitions (``spark.bias.SparkBiasRunner``). Any split gives the same numbers."""

    def count(self, plan: BiasPlan, columns: Mapping[str, np.ndarray]) -> BiasState:
        """The merged state of the rows (``count_bias`` of parts, merged)."""
        ...

    def flip_counts(self, reference: np.ndarray, reference_predicted: np.ndarray, queries: np.ndarray,
                    query_predicted: np.ndarray, neighbours: int) -> tuple[int, int]:
        """F^+ and F^- of group d's rows (``bias_posttraining.flip_counts``)."""
        ...

    def map_parts(self, function: PartFunction, columns: Mapping[str, np.ndarray]) -> list[object]:
        """``function(index, part)`` of each part of the rows of ``columns`` (the parts numbered in row order), in any
        order: how ``plan_bias`` summarises the columns and flags the rows part by part."""
        ...


#: one part's share of planning: ``function(index, columns)`` -> a mergeable summary or flags
PartFunction = Callable[[int, Mapping[str, np.ndarray]], object]


def plan_bias(
    columns: Mapping[str, np.ndarray],
    *,
    label: str,
    label_values: Sequence[object],
    facets: Sequence[FacetSpec],
    group_variable: str | None = None,
    predicted_label: str | None = None,
    pre_training_methods: Sequence[str] | None = None,
    post_training_methods: Sequence[str] | None = None,
    run_pre_training: bool = True,
    run_post_training: bool = True,
    excluded_columns: Sequence[str] = (),
    known_kinds: Mapping[str, ColumnKind] | None = None,
    runner: BiasRunner | None = None,
) -> BiasPlan:
    """The decisions of ``analyze_bias`` (same arguments), taken on the whole table ``columns``: in one piece, or
    from the merged summaries and row flags of its parts (``runner.map_parts``), which decide alike."""
    known = known_kinds or {}
    for name in [label, *(f.column for f in facets), group_variable, predicted_label, *excluded_columns]:
        if name is not None and name not in columns:
            raise AnalyzerInputError(
                f"column {name!r} is not in the dataset (columns: {', '.join(columns)}): fix the name in the "
                "analysis config or the dataset's headers"
            )
    if not facets:
        raise AnalyzerInputError(
            "the analysis config lists no facet: add facet[{name_or_index, value_or_threshold}]"
        )
    roles = summary_roles(label=label, predicted_label=predicted_label, group_variable=group_variable, facets=facets)
    if runner is None:
        summaries = {name: summarize(columns[name], listing=listing, keys=keys)
                     for name, (listing, keys) in roles.items()}
    else:
        summaries = _summaries_in_parts(runner, columns, roles)
    plan = plan_from_summaries(
        summaries, label=label, label_values=label_values, facets=facets, group_variable=group_variable,
        predicted_label=predicted_label, pre_training_methods=pre_training_methods,
        post_training_methods=post_training_methods, run_pre_training=run_pre_training,
        run_post_training=run_post_training, excluded_columns=excluded_columns, known_kinds=known,
    )
    if runner is None:
        rows = plan_rows(plan, columns)
    else:
        planned = {name: columns[name] for name in _planned_columns(plan)}
        rows = functools.reduce(PlanRows.merge, runner.map_parts(functools.partial(_part_rows, plan), planned))
    return with_problems(plan, summaries, rows, label_values=label_values, facets=facets, known_kinds=known)


def _present_counts(names: Sequence[str], index: int, part: Mapping[str, np.ndarray]) -> dict[str, int]:
    return {name: present_count(part[name]) for name in names}


def _part_summaries(roles: Mapping[str, tuple[bool, bool]], caps: Mapping[str, int | None], index: int,
                    part: Mapping[str, np.ndarray]) -> dict[str, ColumnSummary]:
    return {name: summarize(part[name], part=index, cap=caps[name], listing=listing, keys=keys)
            for name, (listing, keys) in roles.items()}


def _part_rows(plan: BiasPlan, index: int, part: Mapping[str, np.ndarray]) -> PlanRows:
    return plan_rows(plan, part)


def _planned_columns(plan: BiasPlan) -> list[str]:
    names = [plan.label, plan.predicted_label, *(facet.column for facet in plan.facets)]
    return [name for name in dict.fromkeys(names) if name is not None]


def _summaries_in_parts(runner: BiasRunner, columns: Mapping[str, np.ndarray],
                        roles: Mapping[str, tuple[bool, bool]]) -> dict[str, ColumnSummary]:
    """The columns' summaries from their parts in two passes: the present values counted, then each part summarised
    with its distinct values capped at what Clarify's 5 % rule needs of the whole column (a listed column keeps all)."""
    chosen = {name: columns[name] for name in roles}
    counted = runner.map_parts(functools.partial(_present_counts, list(roles)), chosen)
    present = {name: sum(int(counts[name]) for counts in counted) for name in roles}  # type: ignore[index]
    caps = {name: None if listing else distinct_needed(present[name]) for name, (listing, _) in roles.items()}
    parts = runner.map_parts(functools.partial(_part_summaries, roles, caps), chosen)
    return {name: functools.reduce(ColumnSummary.merge, (summaries[name] for summaries in parts))  # type: ignore[index]
            for name in roles}


def summary_roles(*, label: str, predicted_label: str | None, group_variable: str | None,
                  facets: Sequence[FacetSpec]) -> dict[str, tuple[bool, bool]]:
    """The columns a plan summarises, each with what its summary must hold (``bias_summary.summarize``'s ``listing``:
    a facet without values lists its values; ``keys``: the group variable's keys)."""
    roles: dict[str, tuple[bool, bool]] = {}
    for name, listing, keys in [(label, False, False), (predicted_label, False, False), (group_variable, False, True),
                                *((spec.column, not spec.values, False) for spec in facets)]:
        if name is not None:
            had = roles.get(name, (False, False))
            roles[name] = (had[0] or listing, had[1] or keys)
    return roles


def plan_from_summaries(
    summaries: Mapping[str, ColumnSummary],
    *,
    label: str,
    label_values: Sequence[object],
    facets: Sequence[FacetSpec],
    group_variable: str | None = None,
    predicted_label: str | None = None,
    pre_training_methods: Sequence[str] | None = None,
    post_training_methods: Sequence[str] | None = None,
    run_pre_training: bool = True,
    run_post_training: bool = True,
    excluded_columns: Sequence[str] = (),
    known_kinds: Mapping[str, ColumnKind] | None = None,
) -> BiasPlan:
    """``plan_bias`` from the merged summaries of the columns' parts (``checks.bias_summary``, columns as
    ``summary_roles`` names them): kinds, facet groups in first-seen order, threshold maxima, subgroup keys. The plan
    has no ``problems`` yet: they need to know which groups select no row or every row (``plan_rows``,
    ``with_problems``)."""
    known = known_kinds or {}
    positive_name, positive = label_selection(summaries[label], list(label_values), label, known=known.get(label))
    predicted = None
    if run_post_training and predicted_label is not None:
        predicted = predicted_selection(
            summaries[predicted_label], summaries[label], list(label_values), predicted_label, known=known.get(label)
        )
    stages = []
    if run_pre_training:
        stages.append((BiasStage.PRE_TRAINING, select_metrics(PRE_TRAINING_METRICS, pre_training_methods)))
    if predicted is not None:
        stages.append((BiasStage.POST_TRAINING, select_metrics(POST_TRAINING_METRICS, post_training_methods)))
    facet_plans = tuple(
        FacetPlan(column=spec.column, groups=facet_selections(summaries[spec.column], spec.values, spec.column,
                                                              known=known.get(spec.column)))
        for spec in facets)
    return BiasPlan(
        label=label, label_value_or_threshold=positive_name, positive=positive,
        predicted_label=predicted_label if predicted is not None else None, predicted=predicted,
        group_variable=group_variable,
        group_keys_are_numbers=group_variable is None or summaries[group_variable].keys_are_numbers,
        facets=facet_plans, stages=tuple(stages),
        excluded_columns=tuple(excluded_columns), problems=(),
    )


@dataclass(frozen=True, kw_only=True)
class PlanRows:
    """Whether a plan's selections choose any row, and whether a facet group chooses every row, over some rows: the
    flags of parts of the rows merge (or / and) into those of the whole (``plan_rows``)."""

    positive: bool
    predicted: bool
    groups: tuple[tuple[tuple[bool, bool], ...], ...]  # per facet and group: (any row, every row)

    def merge(self, other: PlanRows) -> PlanRows:
        return PlanRows(
            positive=self.positive or other.positive, predicted=self.predicted or other.predicted,
            groups=tuple(tuple((mine[0] or theirs[0], mine[1] and theirs[1])
                               for mine, theirs in zip(facet_mine, facet_theirs, strict=True))
                         for facet_mine, facet_theirs in zip(self.groups, other.groups, strict=True)))


def plan_rows(plan: BiasPlan, columns: Mapping[str, np.ndarray]) -> PlanRows:
    """The flags of some rows (``columns``: a part of the table, or all of it) under ``plan``."""
    positive, predicted = _labelled_rows(plan, columns)
    groups = []
    for facet in plan.facets:
        flags = []
        for _, selection in facet.groups:
            rows = selection.rows(columns[facet.column], facet.column)
            flags.append((bool(rows.any()), bool(rows.all())))
        groups.append(tuple(flags))
    return PlanRows(positive=bool(positive.any()), predicted=predicted is not None and bool(predicted.any()),
                    groups=tuple(groups))


def with_problems(
    plan: BiasPlan, summaries: Mapping[str, ColumnSummary], rows: PlanRows, *, label_values: Sequence[object],
    facets: Sequence[FacetSpec], known_kinds: Mapping[str, ColumnKind] | None = None,
) -> BiasPlan:
    """The plan with why metrics will lack a value (``problems``), from the columns' summaries and the merged flags
    of the rows (``plan_rows``)."""
    known = known_kinds or {}
    label = plan.label
    problems: list[str] = []
    if not rows.positive:
        continuous = summaries[label].kind(list(label_values), known=known.get(label)) is ColumnKind.CONTINUOUS
        reading = (
            " The column is read as continuous (whole numbers of which 5 % or more are distinct, or as its baseline "
            f"read it), so {_given_text(label_values)} is a threshold (positive above it)"
            if continuous else ""
        )
        problems.append(
            f"label value(s) {plan.label_value_or_threshold or _given_text(label_values)} match no row of column "
            f"{label!r} (its values: {summaries[label].some_values()}).{reading}"
        )
    if plan.predicted_label is not None and not rows.predicted:
        problems.append(
            f"no predicted label in column {plan.predicted_label!r} is positive ({_given_text(label_values)}; its "
            f"values: {summaries[plan.predicted_label].some_values()})"
        )
    if plan.group_variable is not None and summaries[plan.group_variable].all_missing:
        problems.append(f"group variable {plan.group_variable!r} has no values (every row is missing)")
    for spec, facet, flags in zip(facets, plan.facets, rows.groups, strict=True):
        problems.extend(_facet_problems(spec, facet.groups, flags, summaries[spec.column]))
    return replace(plan, problems=tuple(problems))


def _labelled_rows(plan: BiasPlan, columns: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
    positive = plan.positive.rows(columns[plan.label], plan.label)
    if plan.predicted is None or plan.predicted_label is None:
        return positive, None
    return positive, plan.predicted.rows(columns[plan.predicted_label], plan.predicted_label)


def count_bias(plan: BiasPlan, columns: Mapping[str, np.ndarray]) -> BiasState:
    """The state of some rows (``columns``: a part of the table, or all of it) under ``plan``:
    whole columns compared and counted at once, no loop over rows."""
    positive, predicted = _labelled_rows(plan, columns)
    group = (None if plan.group_variable is None
             else subgroup_keys(columns[plan.group_variable], numbers=plan.group_keys_are_numbers))
    return BiasState(counts=tuple(
        tuple(count_rows(selection.rows(columns[facet.column], facet.column), positive, predicted, group)
              for _, selection in facet.groups)
        for facet in plan.facets))


def analysis_from_state(
    plan: BiasPlan, state: BiasState, *, columns: Mapping[str, np.ndarray] | None = None,
    flip_counter: post.FlipCounter | None = None, flip_tests: FlipTests | None = None,
) -> BiasAnalysis:
    """The analysis the plan's metrics give for the counted rows.

    The flip test is the one metric that needs the rows: it runs on ``columns`` (all the rows the
    state counted) and is an error when they are not given. See ``checks.bias_posttraining.flip_test``
    for how it can run over parts (``flip_counter``). ``flip_tests``: each facet group's flip test already
    under way (``flip_tests_started``); by default each runs here when its metric is computed.
    """
    tests = flip_tests if flip_tests is not None else flip_tests_of(plan, columns, flip_counter)
    results: dict[BiasStage, list[FacetResult]] = {stage: [] for stage, _ in plan.stages}
    for facet, facet_counts, facet_tests in zip(plan.facets, state.counts, tests, strict=True):
        per_stage: dict[BiasStage, list[FacetValueResult]] = {stage: [] for stage, _ in plan.stages}
        for (name, _), counts, flip_test in zip(facet.groups, facet_counts, facet_tests, strict=True):
            data = GroupData(counts=counts, flip_test=flip_test)
            for stage, definitions in plan.stages:
                metrics = tuple(compute_metric(d, data) for d in definitions)
                per_stage[stage].append(FacetValueResult(value_or_threshold=name, metrics=metrics))
        for stage, _ in plan.stages:
            results[stage].append(FacetResult(name=facet.column, values=tuple(per_stage[stage])))

    def stage_result(stage: BiasStage) -> StageResult | None:
        if stage not in results:
            return None
        return StageResult(label=plan.label, label_value_or_threshold=plan.label_value_or_threshold,
                           facets=tuple(results[stage]))

    return BiasAnalysis(
        pre_training=stage_result(BiasStage.PRE_TRAINING),
        post_training=stage_result(BiasStage.POST_TRAINING),
        problems=plan.problems,
        state=state,
    )


def _feature_columns(columns: Mapping[str, np.ndarray] | None, facet: str, plan: BiasPlan) -> list[np.ndarray]:
    """The flip test's features: every column but the facet, the label, the predicted label and the excluded ones."""
    if columns is None:
        return []
    left_out = {facet, plan.label, plan.predicted_label, *plan.excluded_columns}
    return [values for name, values in columns.items() if name not in left_out]


def _flip_test_of(columns: Mapping[str, np.ndarray] | None, facet: str, selection: Selection,
                  predicted: np.ndarray | None, features: list[np.ndarray],
                  counter: post.FlipCounter | None) -> Callable[[], float] | None:
    if predicted is None:
        return None

    def run() -> float:
        if columns is None:
            raise pre.BiasMetricError("FlipTest needs the rows themselves, not only their counts")
        return post.flip_test_of_columns(features, selection.rows(columns[facet], facet), predicted, counter=counter)

    return run


#: each facet group's flip test (per facet, per group, in the plan's order): called, it gives FT or raises
#: ``BiasMetricError``; None without predicted labels
FlipTests = list[list[Callable[[], float] | None]]


def flip_tests_of(plan: BiasPlan, columns: Mapping[str, np.ndarray] | None,
                  counter: post.FlipCounter | None = None) -> FlipTests:
    """The flip tests of the plan's facet groups, each run when called (``counter``: see ``post.flip_test``)."""
    predicted = _labelled_rows(plan, columns)[1] if columns is not None else None
    tests: FlipTests = []
    for facet in plan.facets:
        features = _feature_columns(columns, facet.column, plan)
        tests.append([_flip_test_of(columns, facet.column, selection, predicted, features, counter)
                      for _, selection in facet.groups])
    return tests


# Python's thread switch interval while the flip tests run beside the rest (see ``flip_tests_started``)
_FLIP_TEST_SWITCH_INTERVAL = 0.0002


def flip_tests_started(tests: FlipTests) -> FlipTests:
    """The flip tests run one after the other on a thread of their own, started now; each returned one waits for
    its result (or raises its error). The k-d tree's build and queries leave Python's lock, so the rows are counted
    and the other metrics computed meanwhile."""
    pending = [(test, Future[float]()) for facet in tests for test in facet if test is not None]
    if not pending:
        return tests

    interval = sys.getswitchinterval()

    def run_all() -> None:
        for number, (test, future) in enumerate(pending, start=1):
            try:
                outcome = functools.partial(future.set_result, test())
            except BaseException as error:  # handed to whoever asks for this test's result
                outcome = functools.partial(future.set_exception, error)
            if number == len(pending):
                sys.setswitchinterval(interval)  # before the last result wakes whoever waits for it
            outcome()

    # Each of the flip test's numpy and k-d tree calls leaves Python's lock and takes it back: at Python's default
    # interval (5 ms) it waits that long after each while the other thread counts the rows or bootstraps the
    # standard errors (Python code), which took back most of what running them side by side saves.
    sys.setswitchinterval(min(interval, _FLIP_TEST_SWITCH_INTERVAL))
    threading.Thread(target=run_all, name="flip-test", daemon=True).start()
    waits = iter([future.result for _, future in pending])
    return [[None if test is None else next(waits) for test in facet] for facet in tests]


def analyze_bias(
    columns: Mapping[str, np.ndarray],
    *,
    label: str,
    label_values: Sequence[object],
    facets: Sequence[FacetSpec],
    group_variable: str | None = None,
    predicted_label: str | None = None,
    pre_training_methods: Sequence[str] | None = None,
    post_training_methods: Sequence[str] | None = None,
    run_pre_training: bool = True,
    run_post_training: bool = True,
    excluded_columns: Sequence[str] = (),
    known_kinds: Mapping[str, ColumnKind] | None = None,
    runner: BiasRunner | None = None,
    meanwhile: Callable[[BiasAnalysis], object] | None = None,
) -> BiasAnalysis:
    """Clarify's bias metrics of a table (``columns``: name -> equally long 1-D arrays, in dataset order).

    Post-training metrics are computed when ``run_post_training`` and a ``predicted_label`` column
    is given. The flip test's features are all columns except the facet, label, predicted label
    and ``excluded_columns``. ``known_kinds`` maps label and facet columns to the kind a baseline
    read them as (``baseline_column_kinds``), so that a window reads them the same way.

    The table is planned (``plan_bias``), counted (``count_bias``: the mergeable state) and the
    metrics derived from the counts (``analysis_from_state``); ``runner`` counts the rows and answers the flip
    test's queries elsewhere (default: here). ``meanwhile`` is called with the analysis of the counted metrics,
    every flip test still without a value, before the flip tests are waited for: work that needs only the counts
    (a baseline's standard errors) runs while they do.
    """
    plan = plan_bias(
        columns, label=label, label_values=label_values, facets=facets, group_variable=group_variable,
        predicted_label=predicted_label, pre_training_methods=pre_training_methods,
        post_training_methods=post_training_methods, run_pre_training=run_pre_training,
        run_post_training=run_post_training, excluded_columns=excluded_columns, known_kinds=known_kinds,
        runner=runner,
    )
    if runner is None:
        tests = flip_tests_of(plan, columns)
        if any(d.compute is _flip_test for _, definitions in plan.stages for d in definitions):
            # The flip tests (most of a large run's time) go on while the rows are counted.
            tests = flip_tests_started(tests)
        state = count_bias(plan, columns)
    else:
        tests, state = flip_tests_of(plan, columns, runner.flip_counts), runner.count(plan, columns)
    if meanwhile is not None:
        meanwhile(analysis_from_state(plan, state, flip_tests=[[_flip_test_pending] * len(facet) for facet in tests]))
    return analysis_from_state(plan, state, columns=columns, flip_tests=tests)


def _flip_test_pending() -> float:
    raise pre.BiasMetricError("FlipTest is still running")


def _given_text(values: Sequence[object]) -> str:
    return ",".join(value_text(v) for v in values)


def _facet_problems(spec: FacetSpec, groups: Sequence[tuple[str, Selection]], flags: Sequence[tuple[bool, bool]],
                    summary: ColumnSummary) -> list[str]:
    """Why a facet's groups leave the metrics without a value: a sensitive group with no row, or
    with every row (nothing left to compare it with)."""
    problems = []
    for (name, _), (some, every) in zip(groups, flags, strict=True):
        given = _given_text(spec.values) if spec.values else name
        if not some:
            problems.append(
                f"facet {spec.column!r} value_or_threshold {given} matches no row "
                f"(the column's values: {summary.some_values()})"
            )
        elif every:
            problems.append(
                f"facet {spec.column!r} value_or_threshold {given} matches every row, so no row is left to "
                "compare it with"
            )
    return problems


@dataclass(frozen=True, kw_only=True)
class BiasDriftViolation:
    """A metric whose current value is farther from its neutral point than the baseline's."""

    stage: BiasStage
    facet: str
    facet_value: str
    metric_name: str
    current: float
    baseline: float


@dataclass(frozen=True, kw_only=True)
class PlacedMetric:
    """One metric of an analysis with where it sits: stage, facet and facet group."""

    stage: BiasStage
    facet: str
    facet_value: str
    metric: MetricResult

    @property
    def group(self) -> tuple[str, str]:
        """The facet group, as it matches the same group of another analysis (``group_identity``)."""
        return self.facet, group_identity(self.facet_value)

    @property
    def key(self) -> tuple[BiasStage, str, str, str]:
        """What a baseline's metric and a window's metric share when they are the same metric."""
        return self.stage, *self.group, self.metric.name


def placed_metrics(analysis: BiasAnalysis) -> Iterator[PlacedMetric]:
    """Every metric of ``analysis`` in analysis.json's order, with its stage, facet and group."""
    for stage, result in analysis.stages():
        for facet in result.facets:
            for facet_value in facet.values:
                for metric in facet_value.metrics:
                    yield PlacedMetric(stage=stage, facet=facet.name, facet_value=str(facet_value.value_or_threshold),
                                       metric=metric)


def not_computable(analysis: BiasAnalysis) -> tuple[PlacedMetric, ...]:
    """The metrics that have no value (``null`` in analysis.json), each with its reason in ``metric.error``."""
    return tuple(m for m in placed_metrics(analysis) if m.metric.value is None)


def baseline_column_kinds(baseline: BiasAnalysis) -> dict[str, ColumnKind]:
    """How the baseline read its label and facet columns, from the groups' names in analysis.json
    (an interval such as ``(40, 75]`` is a threshold on a continuous column). A window reads them
    the same way whatever its size: a 0/1 label of 30 rows, or ages of 5 rows, are not re-decided."""
    kinds: dict[str, ColumnKind] = {}
    for _, result in baseline.stages():
        kinds[result.label] = kind_of_group(result.label_value_or_threshold)
        for facet in result.facets:
            for value in facet.values:
                kinds[facet.name] = kind_of_group(str(value.value_or_threshold))
    return kinds


def unmatched_groups(*, baseline: BiasAnalysis, current: BiasAnalysis) -> tuple[int, list[str]]:
    """How many of ``current``'s facet groups the baseline has metrics for, and the facet groups
    (``facet=value``) of ``current`` it has none for: a facet or value renamed in the analysis config
    since the baseline would otherwise be compared with nothing, and pass as "no violations".

    A group counts whether or not the window could compute its metrics: a group with no row in a
    small window is still the baseline's group. A threshold group matches by its threshold, since
    its printed upper bound is each window's maximum (``group_identity``).
    """
    theirs = {m.group for m in placed_metrics(baseline) if m.metric.value is not None}
    ours = {m.group: f"{m.facet}={m.facet_value}" for m in placed_metrics(current)}
    matched = [group for group in ours if group in theirs]
    return len(matched), sorted(name for group, name in ours.items() if group not in theirs)


def label_mismatch(*, baseline: BiasAnalysis, current: BiasAnalysis) -> str | None:
    """Why ``current``'s positive labels are not the baseline's (another label value or threshold
    in the analysis config), or None: their metrics would be compared as if they were the same."""
    for stage, result in current.stages():
        theirs = dict(baseline.stages()).get(stage)
        if theirs is None:
            continue
        if group_identity(result.label_value_or_threshold) != group_identity(theirs.label_value_or_threshold):
            return (f"the window's positive labels {result.label} = {result.label_value_or_threshold} are not the "
                    f"baseline's ({theirs.label} = {theirs.label_value_or_threshold})")
    return None


def bias_drift_violations(
    *,
    baseline: BiasAnalysis,
    current: BiasAnalysis,
    neutral_values: Mapping[str, float] = CLARIFY_NEUTRAL_VALUES,
    tolerance: float = 0.0,
) -> tuple[BiasDriftViolation, ...]:
    """Violations of ``current`` against ``baseline``, in analysis.json order (rule: ``is_drift``).

    A metric is compared when both analyses have a value for the same stage, facet, facet group
    (``PlacedMetric.key``) and metric name; a metric with a ``null`` value on either side (not
    computable for that data) is skipped: it is neither a violation nor a pass.
    ``neutral_values`` maps metric names to their neutral point (default 0, as Clarify).
    """
    baseline_values = {m.key: float(m.metric.value) for m in placed_metrics(baseline) if m.metric.value is not None}
    violations = []
    for placed in placed_metrics(current):
        if placed.metric.value is None or placed.key not in baseline_values:
            continue
        current_value, baseline_value = float(placed.metric.value), baseline_values[placed.key]
        neutral = rules.neutral_value(placed.metric.name, neutral_values)
        if is_drift(current_value, baseline_value, neutral, tolerance):
            violations.append(
                BiasDriftViolation(
                    stage=placed.stage,
                    facet=placed.facet,
                    facet_value=placed.facet_value,
                    metric_name=placed.metric.name,
                    current=current_value,
                    baseline=baseline_value,
                )
            )
    return tuple(violations)
