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


@pytest.mark.parametrize("monitor_type", registry.MONITOR_TYPES, ids=lambda t: t.name)
def test_every_type_has_a_job_and_a_contract_with_the_job_interface(monitor_type):
    job = registry.job_module(monitor_type)
    contract = registry.contract_module(monitor_type)
    for function in ("add_baseline_arguments", "add_monitor_arguments", "run_baseline", "run_monitor"):
        assert callable(getattr(job, function))
    if monitor_type.package is not None:  # one unit: both adapters and the runs in one package
        unit = registry.monitor_package(monitor_type)
        for function in ("baseline_request", "monitor_request", "baseline_request_from_environment",
                         "monitor_request_from_environment", "mode_of"):
            assert callable(getattr(unit, function))
    elif monitor_type is registry.DATA_QUALITY:  # typed requests (see ``jobs``); the other types follow later
        for function in ("baseline_request", "monitor_request"):
            assert callable(getattr(job, function)) and callable(getattr(contract, function))
    else:
        assert callable(contract.args_from_environment)
    assert callable(contract.input_documents)  # what the entrypoint finds by content before the run
    commands = build_parser(monitor_type.name)._subparsers._group_actions[0].choices
    assert {"baseline", "monitor"} <= set(commands)
