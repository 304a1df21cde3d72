"""The data-quality monitor's typed job definition on the native engine (SageMaker's built-in image)."""

from __future__ import annotations

from aws_cdk import CfnResource
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ...engines.native import common_properties, definition_environment, endpoint_input, output_config
from ...engines.protocol import EngineMonitor


def job_definition(scope: Construct, monitor: EngineMonitor, *, key_arn: str | None) -> CfnResource:
    """``AWS::SageMaker::DataQualityJobDefinition`` with the monitor's baseline statistics and constraints."""
    d = sagemaker.CfnDataQualityJobDefinition
    return d(
        scope, "JobDefinition",
        data_quality_app_specification=d.DataQualityAppSpecificationProperty(
            image_uri=monitor.image.image_uri, environment=definition_environment(monitor)),
        data_quality_baseline_config=d.DataQualityBaselineConfigProperty(
            constraints_resource=d.ConstraintsResourceProperty(s3_uri=monitor.baseline.constraints_s3_uri),
            statistics_resource=d.StatisticsResourceProperty(s3_uri=monitor.baseline.statistics_s3_uri)),
        data_quality_job_input=d.DataQualityJobInputProperty(**endpoint_input(d, monitor)),
        data_quality_job_output_config=output_config(d, monitor, key_arn),
        **common_properties(d, monitor, key_arn))
