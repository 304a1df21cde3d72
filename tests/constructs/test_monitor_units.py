"""Each monitor type is one unit: its parameters are its settings class, its names come from the table the
Lambda functions read, and the alarms watch the status metrics the publisher writes."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

from cdk_model_monitor import statuses
from cdk_model_monitor.bundled import lambda_asset
from cdk_model_monitor.monitors.bias import MODEL_BIAS, BiasDriftMonitor, BiasSettings
from cdk_model_monitor.monitors.data_quality import DATA_QUALITY, DataQualityMonitor, DataQualitySettings
from cdk_model_monitor.monitors.model_quality import MODEL_QUALITY, ModelQualityMonitor, ModelQualitySettings
from cdk_model_monitor.monitors.settings import MonitorTarget

from .conftest import REPO_ROOT

LAMBDA_ROOT = REPO_ROOT / "lambda"
UNITS = [(DataQualityMonitor, DataQualitySettings), (ModelQualityMonitor, ModelQualitySettings),
         (BiasDriftMonitor, BiasSettings)]


def _load(folder: str, name: str = "index"):
    """A Lambda module as the function imports it (``_shared`` beside its folder)."""
    if str(LAMBDA_ROOT) not in sys.path:
        sys.path.insert(0, str(LAMBDA_ROOT))
    spec = importlib.util.spec_from_file_location(f"units_{folder}_{name}", LAMBDA_ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("monitor_class, settings_type", UNITS)
def test_every_monitor_parameter_is_a_field_of_its_settings_or_its_target(monitor_class, settings_type):
    parameters = set(inspect.signature(monitor_class.__init__).parameters) - {"self", "scope", "id"}
    described = {f.name for f in dataclasses.fields(settings_type)} | {f.name for f in dataclasses.fields(MonitorTarget)}
    assert parameters == described


def test_monitor_type_names_are_the_rows_of_the_table_the_lambdas_read():
    table = _load("_shared", "monitor_types")
    for kind, row in ((DATA_QUALITY, table.DATA_QUALITY), (MODEL_QUALITY, table.MODEL_QUALITY),
                      (MODEL_BIAS, table.MODEL_BIAS)):
        assert (kind.name, kind.sagemaker_type, kind.endpoint_namespace, kind.analysis_type) == \
               (row.name, row.sagemaker_type, row.endpoint_namespace, row.analysis_type)
        assert kind.baseline_kind.value == row.short_name


def test_status_metrics_of_the_alarms_are_those_the_publisher_writes():
    publisher = _load("metrics_publisher")
    assert tuple(publisher.STATUSES) == statuses.EXECUTION_STATUSES
    assert {s: statuses.status_metric_name(s) for s in statuses.EXECUTION_STATUSES} == publisher.STATUS_METRIC_NAMES
    assert (statuses.STATUS_NAMESPACE, statuses.VIOLATIONS_METRIC_NAME, statuses.SKIPPED_METRIC_NAME,
            statuses.LATE_CAPTURES_METRIC_NAME) == (publisher.DEFAULT_STATUS_NAMESPACE, publisher.VIOLATIONS_METRIC_NAME,
                                                   publisher.SKIPPED_METRIC_NAME, publisher.LATE_CAPTURES_METRIC_NAME)


@pytest.mark.parametrize("function", ["window_planner", "metrics_publisher"])
def test_the_tables_ship_in_every_function_that_reads_them(function):
    directory, exclude = lambda_asset(function)
    assert "!/_shared/" in exclude
    for table in ("monitor_types.py", "statuses.py"):
        assert (Path(directory) / "_shared" / table).is_file()
