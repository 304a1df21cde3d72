"""The bias-drift monitor's typed job definition on the native engine (Clarify's, or the project's analyzer)."""

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


def job_definition(scope: Construct, monitor: EngineMonitor, *, key_arn: str | None, config_uri: str,
                   labelled: LabelledEndpointInput) -> CfnResource:
    """``AWS::SageMaker::ModelBiasJobDefinition``: the analysis config, the baseline analysis, the endpoint input
    with its attributes and the captures' window, and the ground truth."""
    d = sagemaker.CfnModelBiasJobDefinition
    return d(
        scope, "JobDefinition",
        model_bias_app_specification=d.ModelBiasAppSpecificationProperty(
            image_uri=monitor.image.image_uri, config_uri=config_uri, environment=definition_environment(monitor)),
        model_bias_baseline_config=d.ModelBiasBaselineConfigProperty(
            constraints_resource=d.ConstraintsResourceProperty(s3_uri=monitor.baseline.constraints_s3_uri)),
        model_bias_job_input=d.ModelBiasJobInputProperty(**labelled_input(d, monitor, labelled)),
        model_bias_job_output_config=output_config(d, monitor, key_arn),
        **common_properties(d, monitor, key_arn))
