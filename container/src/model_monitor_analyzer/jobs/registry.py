"""The monitor types, once: their command-line names, SageMaker ``analysis_type`` values and packages.

The CLI (``--type``) and the container contract (``analysis_type``) both look a type up here, and
import its package (``monitors.<module>``, see ``model_monitor_analyzer.monitors`` for the interface)
lazily, so that a run loads only the type it runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from model_monitor_analyzer.errors import AnalyzerInputError, NotAvailableError


@dataclass(frozen=True, kw_only=True)
class MonitorType:
    """One kind of monitoring: data quality, model quality or bias drift."""

    name: str  # on the command line: --type NAME
    module: str  # monitors.<module>
    analysis_types: tuple[str, ...]  # SageMaker's analysis_type values that select it


DATA_QUALITY = MonitorType(name="data-quality", module="data_quality", analysis_types=("DATA_QUALITY",))
MODEL_QUALITY = MonitorType(name="model-quality", module="model_quality", analysis_types=("MODEL_QUALITY",))
BIAS = MonitorType(name="bias", module="bias", analysis_types=("BIAS", "MODEL_BIAS", "BIAS_DRIFT"))
MONITOR_TYPES: tuple[MonitorType, ...] = (DATA_QUALITY, MODEL_QUALITY, BIAS)
NAMES: tuple[str, ...] = tuple(t.name for t in MONITOR_TYPES)


def by_name(name: str) -> MonitorType:
    """The type called ``name`` on the command line."""
    for monitor_type in MONITOR_TYPES:
        if monitor_type.name == name:
            return monitor_type
    raise AnalyzerInputError(f"--type {name!r} is not a monitor type; use one of {', '.join(NAMES)}")


def by_analysis_type(value: str | None) -> MonitorType:
    """The type a job environment's ``analysis_type`` selects (data quality when unset)."""
    wanted = (value or "").strip().upper()
    if not wanted:
        return DATA_QUALITY
    for monitor_type in MONITOR_TYPES:
        if wanted in monitor_type.analysis_types:
            return monitor_type
    known = ", ".join(a for t in MONITOR_TYPES for a in t.analysis_types)
    raise AnalyzerInputError(f"analysis_type {wanted!r} is not supported; use one of {known}")


def _import(monitor_type: MonitorType, package: str) -> ModuleType:
    name = f"model_monitor_analyzer.{package}.{monitor_type.module}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise NotAvailableError(f"monitor type {monitor_type.name!r} is not available in this build") from None
        raise


def monitor_package(monitor_type: MonitorType) -> ModuleType:
    """``monitors.<module>``: the type's options, requests from either adapter, and runs."""
    return _import(monitor_type, "monitors")


def spark_runner(monitor_type: MonitorType) -> ModuleType:
    """``spark.<module>``: the type's runs on Spark (``run_baseline``, ``run_monitor``); pyspark is imported
    only when one runs."""
    name = f"model_monitor_analyzer.spark.{monitor_type.module}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise NotAvailableError(f"--engine spark does not run --type {monitor_type.name} yet: use --engine local"
                                    ) from None
        raise
