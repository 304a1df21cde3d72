"""From an analysis config and a table of typed columns to Clarify's bias analysis.

The config names columns by name or index (``config.resolve_column``); predicted labels come from
a predicted-label column or from scores cut at a probability threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from model_monitor_analyzer.checks.bias import BiasAnalysis, BiasRunner, FacetSpec, analyze_bias
from model_monitor_analyzer.checks.bias_groups import ColumnKind
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs.requests import checked_number
from model_monitor_analyzer.monitors.bias.config import BiasAnalysisConfig, ColumnRef, resolve_column
from model_monitor_analyzer.monitors.bias.values import DEFAULT_PREDICTED_LABEL, Columns, number_texts


def _label_column(config: BiasAnalysisConfig, names: Sequence[str], path: str) -> str:
    if config.features is not None and isinstance(config.label, str) and config.label not in names:
        # JSON datasets: the label found by its JMESPath is the column after the features.
        headers = list(config.headers or [])
        feature_count = len(names) - 1 - (1 if isinstance(config.predicted_label, str) else 0)
        return headers[feature_count] if len(headers) > feature_count else "label"
    return resolve_column(config.label, names, "label", path=path)


def _predicted_column(ref: ColumnRef | None, names: Sequence[str], path: str, key: str) -> str | None:
    if ref is None:
        return None
    if isinstance(ref, str) and ref not in names and DEFAULT_PREDICTED_LABEL in names:
        return DEFAULT_PREDICTED_LABEL  # a JMESPath read into the default column
    return resolve_column(ref, names, key, path=path)


def labels_from_scores(scores: np.ndarray, threshold: float, column: str) -> np.ndarray:
    """Predicted labels 1/0 from scores: 1 when score > threshold (Clarify's probability_threshold)."""
    if scores.dtype.kind not in "iuf":
        raise AnalyzerInputError(
            f"column {column!r} holds non-numeric scores, so probability_threshold cannot apply"
        )
    return (scores.astype(np.float64) > threshold).astype(np.int64)


def _refuse_scores_with_words(values: np.ndarray, column: str) -> None:
    """A text column that is mostly numbers under a probability_threshold is scores with a few words
    among them (a model's error text, say): refused naming one, instead of being read as labels none
    of which is positive."""
    if values.dtype.kind not in "OUS" or not len(values):
        return
    numeric = number_texts(values)
    if numeric.any() and not numeric.all():
        row = int(np.flatnonzero(~numeric)[0])
        raise AnalyzerInputError(
            f"column {column!r} holds scores to cut at probability_threshold, but {int((~numeric).sum())} of its "
            f"{len(values)} values are not numbers (e.g. {values[row]!r}, row {row + 1}): fix the model's output, "
            "or remove probability_threshold if the column holds labels"
        )


def run_analysis(
    columns: Columns,
    config: BiasAnalysisConfig,
    *,
    config_path: str,
    label_column: str | None = None,
    predicted_label: ColumnRef | None = None,
    probability_column: ColumnRef | None = None,
    probability_threshold: float | None = None,
    known_kinds: Mapping[str, ColumnKind] | None = None,
    runner: BiasRunner | None = None,
    meanwhile: Callable[[BiasAnalysis], object] | None = None,
) -> BiasAnalysis:
    """The bias analysis of a table per the config.

    Predicted labels come from ``predicted_label`` (default: the config's), or from scores in
    ``probability_column`` cut at ``probability_threshold`` (default: the config's, else 0.5).
    ``label_column`` names the label when the config's ``label`` is a JMESPath (merged records).
    A floating-point predicted-label column with a config ``probability_threshold`` is read as scores.
    ``known_kinds``: how the baseline read the label and facet columns (``baseline_column_kinds``).
    ``runner``: where the rows are counted and FlipTest's queries answered (``checks.bias.BiasRunner``).
    ``meanwhile``: called with the counted metrics while FlipTest runs (``checks.bias.analyze_bias``).
    """
    names = list(columns)
    label = label_column or _label_column(config, names, config_path)
    facets = [
        FacetSpec(
            column=resolve_column(f.name_or_index, names, f"facet[{i}].name_or_index", path=config_path),
            values=f.value_or_threshold,
        )
        for i, f in enumerate(config.facets)
    ]
    group = (
        None
        if config.group_variable is None
        else resolve_column(config.group_variable, names, "group_variable", path=config_path)
    )
    excluded = [
        resolve_column(c, names, "excluded_columns", path=config_path) for c in config.excluded_columns
    ]
    threshold = probability_threshold if probability_threshold is not None else config.probability_threshold
    if threshold is not None:
        threshold = checked_number(threshold, name="probability threshold")
    predicted_name = _predicted_column(
        predicted_label if predicted_label is not None else config.predicted_label,
        names,
        config_path,
        "predicted_label",
    )
    table = dict(columns)
    if probability_column is not None and predicted_name is None:
        score_name = resolve_column(probability_column, names, "probability_attribute", path=config_path)
        predicted_name = DEFAULT_PREDICTED_LABEL
        while predicted_name in table:
            predicted_name = f"_{predicted_name}"
        table[predicted_name] = labels_from_scores(
            table[score_name], 0.5 if threshold is None else threshold, score_name
        )
        excluded.append(score_name)
    elif predicted_name is not None and threshold is not None and table[predicted_name].dtype.kind == "f":
        table[predicted_name] = labels_from_scores(table[predicted_name], threshold, predicted_name)
    elif predicted_name is not None and threshold is not None:
        _refuse_scores_with_words(table[predicted_name], predicted_name)
    if predicted_name is None and config.post_training_required:
        raise AnalyzerInputError(
            'methods asks for post_training_bias but no predicted label is given: set "predicted_label" to the '
            "column holding the model's predictions",
            path=config_path,
        )
    if not next(iter(table.values())).size:
        raise AnalyzerInputError("the dataset has no rows", path=config_path)
    return analyze_bias(
        table,
        label=label,
        label_values=list(config.label_values_or_threshold),
        facets=facets,
        group_variable=group,
        predicted_label=predicted_name,
        pre_training_methods=config.pre_training_methods,
        post_training_methods=config.post_training_methods,
        run_pre_training=config.run_pre_training,
        run_post_training=config.run_post_training,
        excluded_columns=excluded,
        known_kinds=known_kinds,
        runner=runner,
        meanwhile=meanwhile,
    )
