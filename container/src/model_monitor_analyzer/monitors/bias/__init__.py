"""Bias drift as one unit: Clarify's analysis config, the typed requests, their command-line and
container adapters, and the runs.

The CLI builds a request with ``baseline_request(args)`` / ``monitor_request(args)`` after
``add_baseline_arguments`` / ``add_monitor_arguments``; the container with
``baseline_request_from_environment(env, paths)`` / ``monitor_request_from_environment(env, paths)``
as ``mode_of(env)`` says, once the documents ``input_documents(env)`` lists are found. Either
request goes to ``run_baseline`` / ``run_monitor``.
"""

from model_monitor_analyzer.monitors.bias.command_line import (
    add_baseline_arguments,
    add_monitor_arguments,
    baseline_request,
    monitor_request,
)
from model_monitor_analyzer.monitors.bias.environment import (
    baseline_request_from_environment,
    input_documents,
    mode_of,
    monitor_request_from_environment,
)
from model_monitor_analyzer.monitors.bias.request import BiasBaselineRequest, BiasMonitorRequest
from model_monitor_analyzer.monitors.bias.run import run_baseline, run_monitor

__all__ = [
    "BiasBaselineRequest",
    "BiasMonitorRequest",
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
