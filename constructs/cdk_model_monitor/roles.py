"""Permissions every SageMaker execution role of the project needs: its logs and its metrics."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam

from .nag import acknowledge


def grant_sagemaker_logs_and_metrics(role: iam.Role, *, log_groups: str, metric_namespaces: list[str],
                                     why_log_groups: str) -> None:
    """Let SageMaker write ``role``'s container logs under ``log_groups`` (a log-group name pattern
    such as ``/aws/sagemaker/Endpoints/*``) and put metrics into ``metric_namespaces`` only."""
    log_group_arn = Stack.of(role).format_arn(service="logs", resource="log-group", resource_name=log_groups,
                                              arn_format=ArnFormat.COLON_RESOURCE_NAME)
    role.add_to_policy(iam.PolicyStatement(
        actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        resources=[log_group_arn]))
    role.add_to_policy(iam.PolicyStatement(
        actions=["cloudwatch:PutMetricData"], resources=["*"],
        conditions={"StringLike": {"cloudwatch:namespace": metric_namespaces}}))
    acknowledge(role, "AwsSolutions-IAM5", why_log_groups, resource=log_group_arn)
    acknowledge(role, "AwsSolutions-IAM5",
                "actions without resource ARNs (cloudwatch:PutMetricData, limited by a namespace condition; "
                "ecr:GetAuthorizationToken; the EC2 network-interface actions of models in a VPC)", resource="*")
