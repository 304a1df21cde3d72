"""Clarify's bias ``analysis_config.json``: the bias monitor's own document, parsed and validated.

The config is the one users already give Clarify (processing job or ``ModelBiasJobDefinition``
``ConfigUri``): ``label``, ``label_values_or_threshold``, ``facet[]``, ``group_variable``,
``headers``, ``dataset_type``, ``predicted_label``, ``probability_threshold``, ``features``,
``excluded_columns`` and ``methods``. Keys that only matter to Clarify's model calls
(``predictor``, ``report``, explainability methods) are accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.report.documents import (
    DocumentKind,
    expect_document,
    placement_on_the_command_line,
)
from model_monitor_analyzer.report.jsonfile import load_json

DATASET_TYPES = ("text/csv", "application/jsonlines", "application/json", "application/x-parquet")

ColumnRef = str | int


@dataclass(frozen=True, kw_only=True)
class FacetConfig:
    """One ``facet`` entry: the column, and the sensitive values or one threshold (None = every value)."""

    name_or_index: ColumnRef
    value_or_threshold: tuple[object, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class BiasAnalysisConfig:
    """A validated Clarify bias analysis config.

    ``*_methods`` is None for "all" metrics of a stage, else the metric names; ``run_*`` says
    whether the stage was requested (both, when the config has no ``methods``).
    ``post_training_required`` is True when ``methods`` asks for post-training explicitly, so
    missing predictions are an error rather than a skipped stage.
    """

    label: ColumnRef
    label_values_or_threshold: tuple[object, ...]
    facets: tuple[FacetConfig, ...]
    group_variable: ColumnRef | None = None
    headers: tuple[str, ...] | None = None
    dataset_type: str = "text/csv"
    predicted_label: ColumnRef | None = None
    probability_threshold: float | None = None
    features: str | None = None
    excluded_columns: tuple[ColumnRef, ...] = ()
    run_pre_training: bool = True
    run_post_training: bool = True
    post_training_required: bool = False
    pre_training_methods: tuple[str, ...] | None = None
    post_training_methods: tuple[str, ...] | None = None


def _fail(message: str, path: str | None) -> AnalyzerInputError:
    return AnalyzerInputError(message, path=path)


def _column_ref(value: object, key: str, path: str | None) -> ColumnRef:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _fail(f'"{key}" must be a column name or a 0-based column index, got {value!r}', path)
    return value


def _values(value: object, key: str, path: str | None) -> tuple[object, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(
            f'"{key}" must be a non-empty list of values, or of one threshold for a numeric column '
            f"(e.g. [1] or [40]), got {value!r}",
            path,
        )
    for item in value:
        if not isinstance(item, str | int | float):
            raise _fail(f'"{key}" holds {item!r}: values must be numbers or text', path)
    return tuple(value)


def _facets(value: object, path: str | None) -> tuple[FacetConfig, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(
            '"facet" must be a non-empty list such as [{"name_or_index": "Sex", "value_or_threshold": [0]}]',
            path,
        )
    facets = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or "name_or_index" not in entry:
            raise _fail(
                f'"facet[{i}]" must be an object with "name_or_index" (and optional "value_or_threshold")',
                path,
            )
        given = entry.get("value_or_threshold")
        facets.append(
            FacetConfig(
                name_or_index=_column_ref(entry["name_or_index"], f"facet[{i}].name_or_index", path),
                value_or_threshold=None
                if given is None
                else _values(given, f"facet[{i}].value_or_threshold", path),
            )
        )
    return tuple(facets)


def _stage_methods(
    methods: Mapping[str, object], key: str, path: str | None
) -> tuple[bool, tuple[str, ...] | None]:
    if key not in methods:
        return False, None
    stage = methods[key]
    chosen = stage.get("methods", "all") if isinstance(stage, dict) else None
    if chosen == "all":
        return True, None
    if isinstance(chosen, list) and chosen and all(isinstance(n, str) for n in chosen):
        return True, tuple(chosen)
    raise _fail(
        f'"methods.{key}.methods" must be "all" or a list of metric names such as ["CI", "DPL"]', path
    )


def parse_analysis_config(document: object, *, path: str | None = None) -> BiasAnalysisConfig:
    """Validate a parsed analysis_config.json; ``path`` only names the file in error messages."""
    if not isinstance(document, dict):
        raise _fail("the analysis config must be a JSON object", path)
    if "label" not in document:
        raise _fail(
            '"label" is missing: set it to the label column\'s name (or index, or JMESPath for JSON)', path
        )
    if "label_values_or_threshold" not in document:
        raise _fail('"label_values_or_threshold" is missing: list the positive label values, e.g. [1]', path)
    if "facet" not in document:
        raise _fail(
            '"facet" is missing: add [{"name_or_index": <column>, "value_or_threshold": [<values>]}]', path
        )
    dataset_type = document.get("dataset_type", "text/csv")
    if dataset_type not in DATASET_TYPES:
        raise _fail(
            f'"dataset_type" {dataset_type!r} is not supported: use one of {", ".join(DATASET_TYPES)}', path
        )
    headers = document.get("headers")
    if headers is not None and (
        not isinstance(headers, list) or not all(isinstance(h, str) for h in headers)
    ):
        raise _fail('"headers" must be a list of column names', path)
    threshold = document.get("probability_threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1
    ):  # NaN fails the range too
        raise _fail(f'"probability_threshold" must be a number from 0 to 1 such as 0.5, got {threshold!r}', path)
    excluded = document.get("excluded_columns", [])
    if not isinstance(excluded, list):
        raise _fail('"excluded_columns" must be a list of column names or indices', path)
    features = document.get("features")
    if features is not None and not isinstance(features, str):
        raise _fail('"features" must be a JMESPath string such as "features"', path)

    run_pre, pre_methods, run_post, post_methods, post_required = True, None, True, None, False
    methods = document.get("methods")
    if methods is not None:
        if not isinstance(methods, dict):
            raise _fail('"methods" must be an object such as {"pre_training_bias": {"methods": "all"}}', path)
        run_pre, pre_methods = _stage_methods(methods, "pre_training_bias", path)
        run_post, post_methods = _stage_methods(methods, "post_training_bias", path)
        post_required = run_post
        if not (run_pre or run_post):
            raise _fail(
                '"methods" asks for no bias metrics: add "pre_training_bias" and/or "post_training_bias"',
                path,
            )

    group_variable = document.get("group_variable")
    predicted_label = document.get("predicted_label")
    return BiasAnalysisConfig(
        label=_column_ref(document["label"], "label", path),
        label_values_or_threshold=_values(
            document["label_values_or_threshold"], "label_values_or_threshold", path
        ),
        facets=_facets(document["facet"], path),
        group_variable=None
        if group_variable is None
        else _column_ref(group_variable, "group_variable", path),
        headers=None if headers is None else tuple(headers),
        dataset_type=dataset_type,
        predicted_label=None
        if predicted_label is None
        else _column_ref(predicted_label, "predicted_label", path),
        probability_threshold=None if threshold is None else float(threshold),
        features=features,
        excluded_columns=tuple(_column_ref(c, "excluded_columns", path) for c in excluded),
        run_pre_training=run_pre,
        run_post_training=run_post,
        post_training_required=post_required,
        pre_training_methods=pre_methods,
        post_training_methods=post_methods,
    )


def read_analysis_config(path: Path, *, name: str = "--analysis-config",
                         place: Callable[[DocumentKind], str] = placement_on_the_command_line) -> BiasAnalysisConfig:
    """Read and validate an analysis_config.json file; ``name`` is how the user gave it (an option or
    the job environment's key) and ``place`` where each document goes in the same words, for the message
    when the file is another document."""
    document = load_json(path, what="analysis config (Clarify's analysis_config.json)", allow_nan=True)
    if isinstance(document, dict):
        expect_document(document, DocumentKind.BIAS_ANALYSIS_CONFIG, path=str(path), option=name, place=place)
    return parse_analysis_config(document, path=str(path))


def resolve_column(ref: ColumnRef, columns: Sequence[str], key: str, *, path: str | None = None) -> str:
    """The column name a config entry refers to: a name, or a 0-based index into the columns."""
    if isinstance(ref, int):
        if 0 <= ref < len(columns):
            return columns[ref]
        raise _fail(f'"{key}" index {ref} is outside the dataset\'s {len(columns)} columns', path)
    if ref in columns:
        return ref
    raise _fail(
        f'"{key}" names column {ref!r}, which the dataset does not have (columns: {", ".join(columns)}); '
        'fix the name or the config\'s "headers"',
        path,
    )
