"""Clarify's bias ``analysis_config.json`` and the bias monitor's container environment.

The config is the one users already give Clarify (processing job or ``ModelBiasJobDefinition``
``ConfigUri``): ``label``, ``label_values_or_threshold``, ``facet[]``, ``group_variable``,
``headers``, ``dataset_type``, ``predicted_label``, ``probability_threshold``, ``features``,
``excluded_columns`` and ``methods``. Keys that only matter to Clarify's model calls
(``predictor``, ``report``, explainability methods) are accepted and ignored.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import AnalyzerInputError
from ..report.documents import DocumentKind, expect_document
from ..report.jsonfile import load_json
from .environment import InputKind, check_window, env_number, env_switch, parse_dataset_format
from .input_documents import BASELINE_CONSTRAINTS_FOLDER, InputDocument
from .paths import container_paths, metrics_dir

DATASET_TYPES = ("text/csv", "application/jsonlines", "application/json")
# Where Clarify's processing contract places the config, the dataset and the results.
ANALYSIS_CONFIG_FOLDER = "/opt/ml/processing/input/config"
DEFAULT_ANALYSIS_CONFIG = f"{ANALYSIS_CONFIG_FOLDER}/analysis_config.json"
DEFAULT_DATASET = "/opt/ml/processing/input/data"
DEFAULT_OUTPUT = "/opt/ml/processing/output"
# Where a monitoring job finds the window's captures (or merged records) and the ground truth.
DEFAULT_CAPTURE = "/opt/ml/processing/input_data"
DEFAULT_GROUND_TRUTH = "/opt/ml/processing/groundtruth"
BASELINE_MODE = "baseline"
MONITOR_MODE = "monitor"
# The documents a bias run reads, found by what they are: no variable says where SageMaker downloads
# a ModelBiasJobDefinition's ConfigUri, and it keeps the object's name (a CDK asset's is a hash).
ANALYSIS_CONFIG = InputDocument(key="analysis_config", kind=DocumentKind.BIAS_ANALYSIS_CONFIG,
                                folder=ANALYSIS_CONFIG_FOLDER,
                                source="the job definition's ConfigUri (or the processing job's config input)")
BASELINE = InputDocument(key="baseline_constraints", kind=DocumentKind.BIAS_ANALYSIS,
                         folder=BASELINE_CONSTRAINTS_FOLDER,
                         source="the job definition's ModelBiasBaselineConfig (ConstraintsResource)", required=False)

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


def read_analysis_config(path: Path) -> BiasAnalysisConfig:
    """Read and validate an analysis_config.json file."""
    document = load_json(path, what="analysis config (Clarify's analysis_config.json)", allow_nan=True)
    if isinstance(document, dict):
        expect_document(document, DocumentKind.BIAS_ANALYSIS_CONFIG, path=str(path), option="--analysis-config")
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


def _text(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key)
    return value.strip() if value and value.strip() else None


def mode_of(env: Mapping[str, str]) -> str:
    """``monitor`` when the environment names baseline constraints or a schedule, else ``baseline``."""
    if _text(env, "baseline_constraints") or _text(env, "sagemaker_monitoring_schedule_name"):
        return MONITOR_MODE
    return BASELINE_MODE


def input_documents(env: Mapping[str, str]) -> tuple[InputDocument, ...]:
    """The documents the run ``env`` describes reads from its inputs: the analysis config, and a
    monitoring run's baseline analysis."""
    return (ANALYSIS_CONFIG, BASELINE) if mode_of(env) == MONITOR_MODE else (ANALYSIS_CONFIG,)


def args_from_environment(env: Mapping[str, str]) -> argparse.Namespace:
    """The ``jobs.bias`` arguments a processing job's environment describes; ``mode`` says which run.

    Names follow the Model Monitor container contract (``dataset_source``, ``output_path``,
    ``baseline_constraints``, ``start_time``, ``end_time``, ``metric_time``,
    ``sagemaker_endpoint_name``, ``sagemaker_monitoring_schedule_name``,
    ``publish_cloudwatch_metrics``, ``features_attribute``, ``inference_attribute``,
    ``probability_attribute``, ``probability_threshold_attribute``) plus ``analysis_config`` (the
    ``ConfigUri`` file's local path; Clarify's processing location by default).

    Baseline: ``dataset_source`` is the dataset (Clarify's processing input by default). Monitor:
    with ``dataset_format`` ``sagemakerMergeJson`` it holds merged records; otherwise it holds
    captures and ``ground_truth_source`` (default /opt/ml/processing/groundtruth) the labels.
    """
    paths = container_paths(env)
    mode = mode_of(env)
    source = _text(env, "dataset_source")
    threshold = env_number(env, "probability_threshold_attribute", default=None)
    args = argparse.Namespace(
        mode=mode,
        analysis_config=paths.rebase(_text(env, "analysis_config") or DEFAULT_ANALYSIS_CONFIG),
        output=paths.rebase(_text(env, "output_path") or DEFAULT_OUTPUT),
        dataset_type=None,
        dataset=None,
        merged=None,
        capture=None,
        ground_truth=None,
        progress=True,  # as for data quality: at most a line a minute in the job's log (jobs.progress)
        overwrite=True,  # each execution has an output folder of its own
    )
    if mode == BASELINE_MODE:
        args.dataset = paths.rebase(source or DEFAULT_DATASET)
        return args
    check_window(env)
    merged = parse_dataset_format(env.get("dataset_format")).kind is InputKind.MERGED
    window_source = paths.rebase(source or DEFAULT_CAPTURE)
    if merged:
        args.merged = window_source
    else:
        args.capture = window_source
        args.ground_truth = paths.rebase(_text(env, "ground_truth_source") or DEFAULT_GROUND_TRUTH)
    baseline = _text(env, "baseline_constraints")
    publish = env_switch(env, "publish_cloudwatch_metrics", default=False)
    args.baseline = paths.rebase(baseline) if baseline else None
    args.start = _text(env, "start_time")
    args.end = _text(env, "end_time")
    args.metric_time = _text(env, "metric_time") or args.start
    args.endpoint_name = _text(env, "sagemaker_endpoint_name")
    args.schedule_name = _text(env, "sagemaker_monitoring_schedule_name")
    args.features_attribute = _text(env, "features_attribute")
    args.inference_attribute = _text(env, "inference_attribute")
    args.probability_attribute = _text(env, "probability_attribute")
    args.probability_threshold = threshold
    args.publish_metrics = publish
    args.metrics_dir = metrics_dir(env, paths) if publish else None
    # the project's own extensions (as for model quality): late labels, and a tolerance for noise
    args.ground_truth_lookback = _text(env, "ground_truth_lookback") or "PT0H"
    args.drift_tolerance = env_number(env, "bias_drift_tolerance", default=0.0, high=None)
    return args
