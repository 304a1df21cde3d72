"""The monitor types, once: their command-line names, SageMaker ``analysis_type`` values and modules.

The CLI (``--type``) and the container contract (``analysis_type``) both look a type up here, and
import its code lazily, so that a run loads only what it uses: a type that is one unit names its
package (``monitors.<type>``: request, command-line and container adapters, run); the others
still have a job module (``jobs.<module>``) and a contract module (``contract.<module>``).
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
    module: str  # jobs.<module> and contract.<module>
    analysis_types: tuple[str, ...]  # SageMaker's analysis_type values that select it
    package: str | None = None  # the unit's package (model_monitor_analyzer.monitors.<type>), when it is one


DATA_QUALITY = MonitorType(name="data-quality", module="data_quality", analysis_types=("DATA_QUALITY",))
MODEL_QUALITY = MonitorType(name="model-quality", module="model_quality", analysis_types=("MODEL_QUALITY",))
BIAS = MonitorType(name="bias", module="bias", analysis_types=("BIAS", "MODEL_BIAS", "BIAS_DRIFT"),
                   package="model_monitor_analyzer.monitors.bias")
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
    name = monitor_type.package or f"model_monitor_analyzer.{package}.{monitor_type.module}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise NotAvailableError(f"monitor type {monitor_type.name!r} is not available in this build") from None
        raise


def monitor_package(monitor_type: MonitorType) -> ModuleType:
    """The type's unit (``monitors.<type>``): its command-line and container adapters and its runs."""
    if monitor_type.package is None:
        raise NotAvailableError(f"monitor type {monitor_type.name!r} is not one unit yet")
    return _import(monitor_type, "monitors")


def job_module(monitor_type: MonitorType) -> ModuleType:
    """``jobs.<module>``: argument definitions and runs (a unit's package, for a type that is one)."""
    return _import(monitor_type, "jobs")


def contract_module(monitor_type: MonitorType) -> ModuleType:
    """``contract.<module>``: the job's arguments from a SageMaker environment, and the documents it
    reads (a unit's package, for a type that is one)."""
    return _import(monitor_type, "contract")
