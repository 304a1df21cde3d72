"""The model-quality monitor's typed job definition on the native engine (ground truth is its second input)."""

from __future__ import annotations

from aws_cdk import CfnResource
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ...engines.native import (
    LabelledEndpointInput,
    common_properties,
    definition_environment,
    labelled_input,
    output_config,
)
from ...engines.protocol import EngineMonitor


def job_definition(scope: Construct, monitor: EngineMonitor, *, key_arn: str | None, problem_type: str,
                   labelled: LabelledEndpointInput) -> CfnResource:
    """``AWS::SageMaker::ModelQualityJobDefinition``: the problem type, the baseline's constraints, the endpoint
    input with the prediction's attributes and the captures' window, and the ground truth."""
    d = sagemaker.CfnModelQualityJobDefinition
    return d(
        scope, "JobDefinition",
        model_quality_app_specification=d.ModelQualityAppSpecificationProperty(
            image_uri=monitor.image.image_uri, problem_type=problem_type,
            environment=definition_environment(monitor)),
        model_quality_baseline_config=d.ModelQualityBaselineConfigProperty(
            constraints_resource=d.ConstraintsResourceProperty(s3_uri=monitor.baseline.constraints_s3_uri)),
        model_quality_job_input=d.ModelQualityJobInputProperty(**labelled_input(d, monitor, labelled)),
        model_quality_job_output_config=output_config(d, monitor, key_arn),
        **common_properties(d, monitor, key_arn))
