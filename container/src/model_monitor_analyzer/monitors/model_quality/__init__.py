"""Model quality: a model's metrics on a labelled baseline dataset, and on monitoring windows of
captured predictions joined with their ground-truth labels, judged against the baseline (see
``model_monitor_analyzer.monitors`` for the interface)."""

from model_monitor_analyzer.monitors.model_quality.command_line import (
    add_baseline_arguments,
    add_monitor_arguments,
    baseline_request,
    monitor_request,
)
from model_monitor_analyzer.monitors.model_quality.environment import (
    baseline_request_from_environment,
    input_documents,
    mode_of,
    monitor_request_from_environment,
)
from model_monitor_analyzer.monitors.model_quality.run import run_baseline, run_monitor

__all__ = [
    "add_baseline_arguments",
    "add_monitor_arguments",
    "baseline_request",
    "baseline_request_from_environment",
    "input_documents",
    "mode_of",
    "monitor_request",
    "monitor_request_from_environment",
    "run_baseline",
    "run_monitor",
]
