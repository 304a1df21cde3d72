"""The native engine: a SageMaker Model Monitor schedule, for accounts that still have the service.

With the project's analyzer (or any custom image) the schedule embeds its job definition, the
"bring your own container" path. With SageMaker's built-in image it references a typed job
definition (``AWS::SageMaker::DataQualityJobDefinition``), which is how the SDK deploys it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Fn
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..job import CAPTURE_LOCAL_PATH, OUTPUT_LOCAL_PATH

if TYPE_CHECKING:
    from ..monitors.base import MonitorBase

_S = sagemaker.CfnMonitoringSchedule


class NativeEngine(Construct):
    """A ``AWS::SageMaker::MonitoringSchedule`` running one monitor."""

    def __init__(self, scope: Construct, id: str, *, monitor: MonitorBase) -> None:
        super().__init__(scope, id)
        window = monitor.schedule.window
        custom_window = not window.is_default_hourly or monitor.schedule.sagemaker_expression == "NOW"
        schedule_config = _S.ScheduleConfigProperty(
            schedule_expression=monitor.schedule.sagemaker_expression,
            data_analysis_start_time=window.start if custom_window else None,
            data_analysis_end_time=window.end if custom_window else None)
        key = monitor.storage.encryption_key
        key_arn = key.key_arn if key is not None else None
        self.job_definition: sagemaker.CfnDataQualityJobDefinition | None = None

        if monitor.image_source.is_builtin:
            self.job_definition = self._builtin_job_definition(monitor, key_arn)
            config = _S.MonitoringScheduleConfigProperty(
                schedule_config=schedule_config,
                monitoring_type=monitor.kind.sagemaker_type,
                # The generated name is no attribute of the resource: take it from the ARN.
                monitoring_job_definition_name=Fn.select(1, Fn.split("/", self.job_definition.attr_job_definition_arn)))
        else:
            config = _S.MonitoringScheduleConfigProperty(
                schedule_config=schedule_config,
                monitoring_job_definition=_S.MonitoringJobDefinitionProperty(
                    role_arn=monitor.job_role.role_arn,
                    monitoring_app_specification=_S.MonitoringAppSpecificationProperty(
                        image_uri=monitor.image.image_uri),
                    environment=monitor.user_environment or None,
                    baseline_config=_S.BaselineConfigProperty(
                        constraints_resource=_S.ConstraintsResourceProperty(s3_uri=monitor.baseline.constraints_s3_uri),
                        statistics_resource=(_S.StatisticsResourceProperty(s3_uri=monitor.baseline.statistics_s3_uri)
                                             if monitor.baseline.statistics_s3_uri else None)),
                    monitoring_inputs=[_S.MonitoringInputProperty(endpoint_input=_S.EndpointInputProperty(
                        endpoint_name=monitor.endpoint_name, local_path=CAPTURE_LOCAL_PATH))],
                    monitoring_output_config=_S.MonitoringOutputConfigProperty(
                        kms_key_id=key_arn,
                        monitoring_outputs=[_S.MonitoringOutputProperty(s3_output=_S.S3OutputProperty(
                            local_path=OUTPUT_LOCAL_PATH, s3_uri=monitor.report_s3_uri, s3_upload_mode="EndOfJob"))]),
                    monitoring_resources=_S.MonitoringResourcesProperty(cluster_config=_S.ClusterConfigProperty(
                        instance_count=monitor.compute.instance_count, instance_type=monitor.compute.instance_type,
                        volume_size_in_gb=monitor.compute.volume_size_gb, volume_kms_key_id=key_arn)),
                    network_config=_network(_S, monitor),
                    stopping_condition=_S.StoppingConditionProperty(
                        max_runtime_in_seconds=int(monitor.compute.max_runtime.to_seconds()))))
        self.schedule = _S(self, "Schedule", monitoring_schedule_name=monitor.schedule_name,
                           endpoint_name=monitor.endpoint_name, monitoring_schedule_config=config)
        # SageMaker checks the role's permissions when the schedule is created.
        self.schedule.node.add_dependency(monitor.job_role)
        if monitor.baseline.dependency is not None:
            self.schedule.node.add_dependency(monitor.baseline.dependency)

    def _builtin_job_definition(self, monitor: MonitorBase, key_arn: str | None) -> sagemaker.CfnDataQualityJobDefinition:
        d = sagemaker.CfnDataQualityJobDefinition
        if monitor.kind.sagemaker_type != "DataQuality":
            raise NotImplementedError(f"built-in image for {monitor.kind.sagemaker_type}")
        definition = d(
            self, "JobDefinition",
            # No name: every property is create-only, so a change replaces the definition cleanly.
            role_arn=monitor.job_role.role_arn,
            data_quality_app_specification=d.DataQualityAppSpecificationProperty(
                image_uri=monitor.image.image_uri, environment=monitor.user_environment or None),
            data_quality_baseline_config=d.DataQualityBaselineConfigProperty(
                constraints_resource=d.ConstraintsResourceProperty(s3_uri=monitor.baseline.constraints_s3_uri),
                statistics_resource=d.StatisticsResourceProperty(s3_uri=monitor.baseline.statistics_s3_uri)),
            data_quality_job_input=d.DataQualityJobInputProperty(endpoint_input=d.EndpointInputProperty(
                endpoint_name=monitor.endpoint_name, local_path=CAPTURE_LOCAL_PATH)),
            data_quality_job_output_config=d.MonitoringOutputConfigProperty(
                kms_key_id=key_arn,
                monitoring_outputs=[d.MonitoringOutputProperty(s3_output=d.S3OutputProperty(
                    local_path=OUTPUT_LOCAL_PATH, s3_uri=monitor.report_s3_uri, s3_upload_mode="EndOfJob"))]),
            job_resources=d.MonitoringResourcesProperty(cluster_config=d.ClusterConfigProperty(
                instance_count=monitor.compute.instance_count, instance_type=monitor.compute.instance_type,
                volume_size_in_gb=monitor.compute.volume_size_gb, volume_kms_key_id=key_arn)),
            network_config=_network(d, monitor),
            stopping_condition=d.StoppingConditionProperty(
                max_runtime_in_seconds=int(monitor.compute.max_runtime.to_seconds())))
        definition.node.add_dependency(monitor.job_role)
        return definition


def _network(resource: type, monitor: MonitorBase) -> object:
    network = monitor.network
    vpc = (resource.VpcConfigProperty(subnets=list(network.subnet_ids),
                                      security_group_ids=list(network.security_group_ids))
           if network.subnet_ids else None)
    return resource.NetworkConfigProperty(
        enable_inter_container_traffic_encryption=network.encrypt_inter_container_traffic,
        enable_network_isolation=network.enable_network_isolation, vpc_config=vpc)
