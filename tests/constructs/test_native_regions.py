"""The native engine only where CloudFormation has its resource types (cfn-lint's region data): a stack pinned
to a region without them is refused at synth naming the standalone engine; a region-agnostic stack warns."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match

from cdk_model_monitor import ConfigurationError, _native_regions
from cdk_model_monitor._generate_native_regions import TARGET, load_cfn_lint_tables, render_module
from cdk_model_monitor.engines.regions import WARNING_ID
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.job import Engine
from cdk_model_monitor.monitors.capture_columns import BaselineColumns

from .conftest import cfn_lint_findings, new_app, template_of
from .test_data_quality_monitor import _monitor as data_quality_monitor
from .test_model_quality_monitor import _monitor as model_quality_monitor

SCHEDULE = "AWS::SageMaker::MonitoringSchedule"


def _stack(app: cdk.App, region: str | None) -> cdk.Stack:
    env = cdk.Environment(account="123456789012", region=region) if region else None
    return cdk.Stack(app, f"In-{region or 'any-region'}", env=env)


def test_generated_table_is_what_the_installed_cfn_lint_data_gives():
    assert TARGET.read_text() == render_module(load_cfn_lint_tables())


def test_table_holds_the_regions_cfn_lint_reports_without_the_types():
    missing = _native_regions.MISSING_RESOURCE_TYPES
    for region in ("af-south-1", "ap-southeast-3", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1"):
        assert SCHEDULE in missing[region], region
    # China has the schedule, not the typed job definitions
    assert SCHEDULE not in missing["cn-north-1"]
    assert "AWS::SageMaker::ModelQualityJobDefinition" in missing["cn-northwest-1"]
    assert "us-east-1" not in missing and "eu-west-1" not in missing


@pytest.mark.parametrize("region", ["af-south-1", "eu-south-1", "il-central-1"])
def test_pinned_region_without_the_schedule_is_refused_naming_the_region_and_the_standalone_engine(tmp_path,
                                                                                                  region):
    stack = _stack(new_app(tmp_path), region)
    with pytest.raises(ConfigurationError) as raised:
        data_quality_monitor(stack, engine=Engine.MODEL_MONITOR)
    message = str(raised.value)
    assert f"invalid region='{region}'" in message
    assert f"{SCHEDULE}, which CloudFormation does not have in {region}" in message
    assert "use engine=Engine.STANDALONE" in message


def test_china_takes_an_embedded_schedule_but_not_a_typed_job_definition(tmp_path):
    app = new_app(tmp_path)
    embedded = _stack(app, "cn-north-1")
    data_quality_monitor(embedded, engine=Engine.MODEL_MONITOR)  # our image: the definition is embedded
    template = template_of(embedded).to_json()
    assert [r["Type"] for r in template["Resources"].values() if r["Type"].startswith("AWS::SageMaker::Mon")] \
        == [SCHEDULE]

    typed = cdk.Stack(app, "Typed", env=cdk.Environment(account="123456789012", region="cn-north-1"))
    with pytest.raises(ConfigurationError, match="needs AWS::SageMaker::ModelQualityJobDefinition, which "
                                                 "CloudFormation does not have in cn-north-1"):
        model_quality_monitor(typed, engine=Engine.MODEL_MONITOR)


def test_the_standalone_engine_runs_where_the_native_one_cannot(tmp_path):
    stack = _stack(new_app(tmp_path), "af-south-1")
    data_quality_monitor(stack, engine=Engine.STANDALONE)
    template_of(stack).resource_count_is("AWS::StepFunctions::StateMachine", 1)


def test_region_agnostic_native_stack_warns_with_the_regions_and_still_synthesizes(tmp_path):
    stack = _stack(new_app(tmp_path), None)
    data_quality_monitor(stack, engine=Engine.MODEL_MONITOR, image=AnalyzerImage.builtin(),
                         baseline_columns=BaselineColumns.OUTPUT_AND_FEATURES)

    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("native engine"))
    assert len(warnings) == 1
    text = warnings[0].entry.data
    assert WARNING_ID in text
    assert "AWS::SageMaker::DataQualityJobDefinition, AWS::SageMaker::MonitoringSchedule" in text
    for region in ("af-south-1", "cn-north-1", "il-central-1"):
        assert region in text
    assert "us-east-1" not in text and "engine=Engine.STANDALONE" in text
    assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_region_agnostic_standalone_stack_does_not_warn(tmp_path):
    stack = _stack(new_app(tmp_path), None)
    data_quality_monitor(stack, engine=Engine.STANDALONE)
    assert Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("native engine")) == []
