"""One registry of monitor types serves the command line and the container contract."""

from __future__ import annotations

import pytest

from model_monitor_analyzer.cli import build_parser
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs import registry


@pytest.mark.parametrize(
    ("analysis_type", "expected"),
    [(None, "data-quality"), ("", "data-quality"), (" data_quality ", "data-quality"), ("MODEL_QUALITY", "model-quality"),
     ("BIAS", "bias"), ("MODEL_BIAS", "bias"), ("BIAS_DRIFT", "bias")],
)
def test_analysis_types_select_their_monitor_type(analysis_type, expected):
    assert registry.by_analysis_type(analysis_type).name == expected


def test_an_unknown_analysis_type_is_refused_naming_the_known_ones():
    with pytest.raises(AnalyzerInputError, match="'EXPLAINABILITY' is not supported; use one of DATA_QUALITY"):
        registry.by_analysis_type("explainability")


INTERFACE = ("add_baseline_arguments", "add_monitor_arguments", "baseline_request", "monitor_request", "mode_of",
             "input_documents", "baseline_request_from_environment", "monitor_request_from_environment",
             "run_baseline", "run_monitor")


@pytest.mark.parametrize("monitor_type", registry.MONITOR_TYPES, ids=lambda t: t.name)
def test_every_type_is_one_package_with_the_monitor_interface(monitor_type):
    package = registry.monitor_package(monitor_type)
    assert package.__name__ == f"model_monitor_analyzer.monitors.{monitor_type.module}"
    for function in INTERFACE:
        assert callable(getattr(package, function)), function
    commands = build_parser(monitor_type.name)._subparsers._group_actions[0].choices
    assert {"baseline", "monitor"} <= set(commands)


def test_no_type_runs_from_a_namespace_any_more():
    # the jobs and contract packages keep what the types share; none holds a type's module
    import importlib

    for monitor_type in registry.MONITOR_TYPES:
        for package in ("jobs", "contract"):
            with pytest.raises(ModuleNotFoundError):
                importlib.import_module(f"model_monitor_analyzer.{package}.{monitor_type.module}")
