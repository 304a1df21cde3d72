"""The job environment: process env vars merged with processingjobconfig.json, and ``dataset_format``."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from model_monitor_analyzer.contract.paths import ContainerPaths
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs.requests import capture_index_names, parse_number, time_window

if TYPE_CHECKING:
    from model_monitor_analyzer.io.batch import BatchSource

#: the job environment's names of the window's sides
WINDOW_KEYS = ("start_time", "end_time")


class RunMode(enum.StrEnum):
    """Which run a job environment describes: a baseline, or a monitoring window."""

    BASELINE = "baseline"
    MONITOR = "monitor"


def job_environment(process_env: Mapping[str, str], paths: ContainerPaths) -> dict[str, str]:
    """``Environment`` of processingjobconfig.json, overlaid with the process environment.

    SageMaker passes the job's environment both ways; reading both lets a test (or a local
    run) set either.
    """
    env: dict[str, str] = {}
    environment = _processing_job_config(paths).get("Environment")
    if isinstance(environment, dict):
        env.update({str(k): str(v) for k, v in environment.items()})
    elif environment is not None:  # read as empty, it would run the job as a baseline
        raise AnalyzerInputError(
            f"the processing job config's Environment is a JSON {type(environment).__name__ if not isinstance(environment, list) else 'list'}, "
            "not an object of names and values such as {\"dataset_source\": \"/opt/ml/processing/input\"}",
            path=str(paths.processing_job_config))
    env.update(process_env)
    for key in SWITCH_KEYS:  # checked whatever the job does with them
        env_switch(env, key, default=False)
    return env


SWITCH_KEYS = ("publish_cloudwatch_metrics",)
SWITCH_ON = frozenset({"enabled", "true", "1", "yes"})
SWITCH_OFF = frozenset({"disabled", "false", "0", "no"})


def env_switch(env: Mapping[str, str], key: str, *, default: bool) -> bool:
    """An Enabled / Disabled setting (``true``/``false``, ``1``/``0``, ``yes``/``no`` too, any case);
    ``default`` when unset or blank; anything else is the user's error naming the key (a misspelt
    Enabled would silently turn the feature off)."""
    text = (env.get(key) or "").strip().lower()
    if not text:
        return default
    if text in SWITCH_ON:
        return True
    if text in SWITCH_OFF:
        return False
    raise AnalyzerInputError(f"{key} {env[key]!r} is neither Enabled nor Disabled")


def processing_inputs(paths: ContainerPaths) -> tuple[tuple[str, str], ...]:
    """``(S3Uri, LocalPath)`` of each S3 object or prefix input processingjobconfig.json lists (none
    without the file): where the job's inputs were downloaded, whatever created the job. Manifest
    inputs (a window's captures or labels) are left out: their URI names the manifest, not what
    was downloaded."""
    inputs = _processing_job_config(paths).get("ProcessingInputs")
    found = []
    for entry in inputs if isinstance(inputs, list) else ():
        s3_input = entry.get("S3Input") if isinstance(entry, dict) else None
        if (isinstance(s3_input, dict) and isinstance(s3_input.get("S3Uri"), str)
                and isinstance(s3_input.get("LocalPath"), str) and s3_input.get("S3DataType") != "ManifestFile"):
            found.append((s3_input["S3Uri"], s3_input["LocalPath"]))
    return tuple(found)


def _processing_job_config(paths: ContainerPaths) -> dict:
    """The processing job's configuration, ``{}`` when the file is absent (a local run)."""
    config_file = paths.processing_job_config
    if not config_file.is_file():
        return {}
    try:
        document = orjson.loads(config_file.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise AnalyzerInputError(f"processing job config is not valid JSON ({exc.msg})", path=str(config_file)) from None
    if not isinstance(document, dict):  # read as empty, it would run the job as a baseline
        raise AnalyzerInputError(f"the processing job config is a JSON {type(document).__name__}, not an object with "
                                 "an Environment and ProcessingInputs", path=str(config_file))
    return document


def env_number(
    env: Mapping[str, str], key: str, *, default: float | None, low: float = 0.0, high: float | None = 1.0
) -> float | None:
    """The number set as ``key`` (``default`` when unset or blank), finite and in ``[low, high]``
    (no upper bound when ``high`` is None); else the user's error naming the key."""
    text = (env.get(key) or "").strip()
    return parse_number(text, name=key, low=low, high=high) if text else default


def check_window(env: Mapping[str, str]) -> None:
    """Refuse a ``start_time`` / ``end_time`` that is no time, or a start not before the end."""
    time_window(env.get(WINDOW_KEYS[0]), env.get(WINDOW_KEYS[1]), names=WINDOW_KEYS)


class InputKind(enum.Enum):
    """Top-level key of ``dataset_format``."""

    CAPTURE = "sagemakerCaptureJson"
    MERGED = "sagemakerMergeJson"
    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


@dataclass(frozen=True, kw_only=True)
class DatasetFormatSpec:
    """A parsed ``dataset_format`` value."""

    kind: InputKind
    header: bool = True
    capture_index_names: tuple[str, ...] = ("endpointInput", "endpointOutput")
    output_first: bool = True
    header_given: bool = False
    lines: bool = True


def parse_dataset_format(text: str | None) -> DatasetFormatSpec:
    """Parse ``dataset_format`` (e.g. ``{"sagemakerCaptureJson": {"captureIndexNames": [...]}}``).

    Keys are matched case-insensitively (the API spells ``Csv``/``Header``, the DG ``csv``/``header``).
    Absent: capture JSON with input and output.
    """
    if not text:
        return DatasetFormatSpec(kind=InputKind.CAPTURE)
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise AnalyzerInputError(f"environment variable dataset_format is not JSON: {text!r}") from None
    if not isinstance(document, dict) or not document:
        raise AnalyzerInputError(f"dataset_format must be a JSON object with one key, got {text!r}")
    key, body = next(iter(document.items()))
    body = {str(k).lower(): v for k, v in (body or {}).items()} if isinstance(body, dict) else {}
    kind = next((k for k in InputKind if k.value.lower() == str(key).lower()), None)
    if kind is None:
        allowed = ", ".join(k.value for k in InputKind)
        raise AnalyzerInputError(f"dataset_format key {key!r} is not supported; use one of {allowed}")
    names = body.get("captureindexnames")
    header = body.get("header", True)
    lines = body.get("line", body.get("lines", True))  # the API spells Json{Line}, the SDK json(lines=...)
    position = str(body.get("output_columns_position", "START")).upper()
    return DatasetFormatSpec(
        kind=kind,
        header=header if isinstance(header, bool) else str(header).lower() == "true",
        header_given="header" in body,
        lines=lines if isinstance(lines, bool) else str(lines).lower() == "true",
        capture_index_names=(capture_index_names(names, setting="dataset_format captureIndexNames") if names is not None
                             else ("endpointInput", "endpointOutput")),
        output_first=position != "END",
    )


#: ``monitoring_input_type`` of a monitoring job reading a batch transform job (``BatchTransformInput``)
BATCH_TRANSFORM = "BATCH_TRANSFORM"
_ENDPOINT_INPUT = "ENDPOINT_INPUT"


def batch_source(env: Mapping[str, str], spec: DatasetFormatSpec) -> BatchSource | None:
    """The transform job ``dataset_source`` holds when ``monitoring_input_type`` is ``BATCH_TRANSFORM`` (its data
    files under ``input/`` and ``output/``, read by ``dataset_format``), or None for an endpoint's captures and
    for merged records (``sagemakerMergeJson``: the merge job has read the transform job already)."""
    text = (env.get("monitoring_input_type") or "").strip()
    wanted = text.upper().replace("-", "_")
    if wanted in ("", _ENDPOINT_INPUT):
        return None
    if wanted not in (BATCH_TRANSFORM, "BATCH_TRANSFORM_INPUT", "BATCHTRANSFORMINPUT", "BATCHTRANSFORM"):
        raise AnalyzerInputError(f"monitoring_input_type {text!r} is neither {_ENDPOINT_INPUT} nor {BATCH_TRANSFORM}")
    if spec.kind is InputKind.MERGED:
        return None
    if spec.kind is InputKind.CAPTURE and (env.get("dataset_format") or "").strip():
        raise AnalyzerInputError(
            f"monitoring_input_type {BATCH_TRANSFORM} reads a transform job's data files: set dataset_format to "
            '{"csv": {"header": false}}, {"json": {"line": true}} or {"parquet": {}}, not sagemakerCaptureJson')
    # imported here: the transform jobs' reader is not needed to read any other job's environment
    from model_monitor_analyzer.io.batch import BatchFormat, BatchSource

    formats = {InputKind.CSV: BatchFormat.CSV, InputKind.JSON: BatchFormat.JSON, InputKind.PARQUET: BatchFormat.PARQUET}
    return BatchSource(data_format=formats.get(spec.kind), header=spec.header and spec.header_given,
                       json_lines=spec.lines)
