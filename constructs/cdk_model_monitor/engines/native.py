"""The native engine: a SageMaker Model Monitor schedule, for accounts that still have the service.

With the project's analyzer (or any custom image) a data-quality schedule embeds its job definition,
the "bring your own container" path. SageMaker's built-in images, and every monitor that joins
ground truth (model quality, bias drift: the embedded definition has no ground-truth input), use a
typed job definition (``AWS::SageMaker::<MonitoringType>JobDefinition``), which is how the SDK deploys
them; the schedule references it by the name taken from its ARN. Each monitor type builds its own typed
definition (``monitors/<type>/native.py``) from the parts below; the engine asks the monitor for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnResource, Duration, Fn
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..job import BATCH_LOCAL_PATH, CAPTURE_LOCAL_PATH, OUTPUT_LOCAL_PATH
from ..schedule import iso_offset
from .protocol import EngineMonitor
from .regions import check_native_region

_S = sagemaker.CfnMonitoringSchedule
_SCHEDULE_TYPE = "AWS::SageMaker::MonitoringSchedule"
_JOB_DEFINITION_TYPE = "AWS::SageMaker::{}JobDefinition"  # of the monitor type's SageMaker name


class NativeEngine(Construct):
    """A ``AWS::SageMaker::MonitoringSchedule`` running one monitor."""

    def __init__(self, scope: Construct, id: str, *, monitor: EngineMonitor) -> None:
        super().__init__(scope, id)
        window = monitor.schedule.window
        typed = monitor.image_source.is_builtin or monitor.kind.ground_truth
        check_native_region(scope, [_SCHEDULE_TYPE, *([_JOB_DEFINITION_TYPE.format(monitor.kind.sagemaker_type)]
                                                        if typed else [])])
        # Label-joining definitions carry their window as Start/EndTimeOffset on the endpoint input;
        # SageMaker requires the schedule's own analysis times with NOW.
        custom_window = ((not window.is_default_hourly and not monitor.kind.ground_truth)
                         or monitor.schedule.sagemaker_expression == "NOW")
        expression = monitor.schedule.sagemaker_expression
        assert expression is not None  # the monitor refuses schedules SageMaker cannot run on this engine
        schedule_config = _S.ScheduleConfigProperty(
            schedule_expression=expression,
            data_analysis_start_time=window.start if custom_window else None,
            data_analysis_end_time=window.end if custom_window else None)
        key = monitor.storage.encryption_key
        key_arn = key.key_arn if key is not None else None
        self.job_definition: CfnResource | None = None

        if typed:
            # No name: every property is create-only, so a change replaces the definition cleanly.
            self.job_definition = monitor.native_job_definition(self, key_arn=key_arn)
            self.job_definition.node.add_dependency(monitor.job_role)
            config = _S.MonitoringScheduleConfigProperty(
                schedule_config=schedule_config,
                monitoring_type=monitor.kind.sagemaker_type,
                # The generated name is no attribute of the resource: take it from the ARN.
                monitoring_job_definition_name=Fn.select(1, Fn.split(
                    "/", self.job_definition.get_att("JobDefinitionArn").to_string())))
        else:
            config = _S.MonitoringScheduleConfigProperty(
                schedule_config=schedule_config,
                monitoring_job_definition=_S.MonitoringJobDefinitionProperty(
                    role_arn=monitor.job_role.role_arn,
                    monitoring_app_specification=_S.MonitoringAppSpecificationProperty(
                        image_uri=monitor.image.image_uri),
                    environment=monitor.native_environment() or None,
                    baseline_config=_S.BaselineConfigProperty(
                        constraints_resource=_S.ConstraintsResourceProperty(s3_uri=monitor.baseline.constraints_s3_uri),
                        statistics_resource=(_S.StatisticsResourceProperty(s3_uri=monitor.baseline.statistics_s3_uri)
                                             if monitor.baseline.statistics_s3_uri else None)),
                    monitoring_inputs=[_S.MonitoringInputProperty(**source_input(_S, monitor))],
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
                           endpoint_name=monitor.endpoint_name or None, monitoring_schedule_config=config)
        # SageMaker checks the role's permissions when the schedule is created.
        self.schedule.node.add_dependency(monitor.job_role)
        if monitor.baseline.dependency is not None:
            self.schedule.node.add_dependency(monitor.baseline.dependency)


# -- the parts every typed job definition shares (each monitor type builds its own definition with them) ------


@dataclass(frozen=True, kw_only=True)
class LabelledEndpointInput:
    """What a typed definition of a label-joining monitor adds to its endpoint input and ground truth."""

    attributes: Mapping[str, str | float]
    """``inference_attribute``, ``probability_attribute``, ... in snake case, as the CDK properties."""
    capture_window: tuple[Duration, Duration]
    """(start, end) offsets before the scheduled time of the captures a window joins with labels."""
    ground_truth_s3_uri: str


def definition_environment(monitor: EngineMonitor) -> dict[str, str] | None:
    """The definition's Environment: the monitor's (the user's, the captured payloads when they are not
    SageMaker's default, and for an image of ours where the baseline files land), plus ``analysis_type``
    for an image of ours (the built-in images know what they analyse; ours defaults to data quality).
    No variable names where SageMaker puts a bias ``ConfigUri``: our analyzer finds it by its content."""
    environment = monitor.native_environment()
    if not monitor.image_source.is_builtin and monitor.kind.analysis_type:
        environment.setdefault("analysis_type", monitor.kind.analysis_type)
    return environment or None


def _offsets(window: tuple[Duration, Duration]) -> dict[str, str]:
    """``start_time_offset`` / ``end_time_offset`` of the captures a labelled window reads."""
    start, end = window
    offsets = {"start_time_offset": iso_offset(start, negative=True)}
    if end.to_minutes() > 0:
        offsets["end_time_offset"] = iso_offset(end, negative=True)
    return offsets


# ``d`` below is the L1 class of one typed definition (CfnDataQualityJobDefinition, ...), whose property
# classes have the same names and fields in each.

def common_properties(d: Any, monitor: EngineMonitor, key_arn: str | None) -> dict[str, Any]:
    """Role, resources, network and stopping condition of a typed definition."""
    return dict(
        role_arn=monitor.job_role.role_arn,
        job_resources=d.MonitoringResourcesProperty(cluster_config=d.ClusterConfigProperty(
            instance_count=monitor.compute.instance_count, instance_type=monitor.compute.instance_type,
            volume_size_in_gb=monitor.compute.volume_size_gb, volume_kms_key_id=key_arn)),
        network_config=_network(d, monitor),
        stopping_condition=d.StoppingConditionProperty(
            max_runtime_in_seconds=int(monitor.compute.max_runtime.to_seconds())))


def output_config(d: Any, monitor: EngineMonitor, key_arn: str | None) -> Any:
    """The definition's output: the monitor's report folder, encrypted with the monitoring key."""
    return d.MonitoringOutputConfigProperty(
        kms_key_id=key_arn,
        monitoring_outputs=[d.MonitoringOutputProperty(s3_output=d.S3OutputProperty(
            local_path=OUTPUT_LOCAL_PATH, s3_uri=monitor.report_s3_uri, s3_upload_mode="EndOfJob"))])


def source_input(d: Any, monitor: EngineMonitor, **attributes: Any) -> dict[str, Any]:
    """``endpoint_input`` of a definition that reads an endpoint's captures, or ``batch_transform_input`` (the
    capture destination of the transform jobs, their files' format) for a batch source; with a monitor type's
    ``attributes`` (snake case, as the CDK properties)."""
    source = monitor.batch_source
    if source is not None:
        return {"batch_transform_input": d.BatchTransformInputProperty(
            data_captured_destination_s3_uri=source.capture.destination_s3_uri,
            dataset_format=source.dataset_format.to_cfn(d), local_path=BATCH_LOCAL_PATH, **attributes)}
    return {"endpoint_input": d.EndpointInputProperty(endpoint_name=monitor.endpoint_name,
                                                      local_path=CAPTURE_LOCAL_PATH, **attributes)}


def endpoint_input(d: Any, monitor: EngineMonitor) -> dict[str, Any]:
    """The input of a definition that reads the captures alone (``endpoint_input`` or ``batch_transform_input``)."""
    return source_input(d, monitor)


def labelled_input(d: Any, monitor: EngineMonitor, labelled: LabelledEndpointInput) -> dict[str, Any]:
    """The endpoint input (with the monitor's attributes and window offsets) and the ground truth
    of a model-quality or model-bias job definition."""
    return {
        **source_input(d, monitor, **labelled.attributes, **_offsets(labelled.capture_window)),
        "ground_truth_s3_input": d.MonitoringGroundTruthS3InputProperty(s3_uri=labelled.ground_truth_s3_uri),
    }


def _network(resource: Any, monitor: EngineMonitor) -> Any:
    network, placement = monitor.network, monitor.vpc_placement
    vpc = (resource.VpcConfigProperty(subnets=list(placement.subnet_ids),
                                      security_group_ids=list(placement.security_group_ids))
           if placement is not None else None)
    return resource.NetworkConfigProperty(
        enable_inter_container_traffic_encryption=network.encrypt_inter_container_traffic,
        enable_network_isolation=network.isolated, vpc_config=vpc)
