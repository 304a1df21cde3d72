"""Who may assume the project's service roles, and what every SageMaker execution role needs: its logs
and its metrics."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from .nag import acknowledge

_LOGS_MAY_ENCRYPT = "CloudWatchLogsMayEncrypt"


def sagemaker_principal(scope: IConstruct) -> iam.ServicePrincipal:
    """SageMaker, acting for this stack's account only (``aws:SourceAccount``): another account's job or
    endpoint cannot be made to run with the role (the confused-deputy problem)."""
    return iam.ServicePrincipal("sagemaker.amazonaws.com",
                                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}})


def scheduler_principal(scope: IConstruct) -> iam.ServicePrincipal:
    """EventBridge Scheduler, running a schedule of this account's default group only."""
    stack = Stack.of(scope)
    group = stack.format_arn(service="scheduler", resource="schedule-group", resource_name="default")
    return iam.ServicePrincipal("scheduler.amazonaws.com", conditions={
        "StringEquals": {"aws:SourceAccount": stack.account, "aws:SourceArn": group}})


def states_principal(scope: IConstruct, state_machine_name: str) -> iam.ServicePrincipal:
    """Step Functions, running the state machine ``state_machine_name`` of this account only
    (``aws:SourceAccount`` and ``aws:SourceArn``), not any state machine of the account."""
    stack = Stack.of(scope)
    arn = stack.format_arn(service="states", resource="stateMachine", resource_name=state_machine_name,
                           arn_format=ArnFormat.COLON_RESOURCE_NAME)
    return iam.ServicePrincipal("states.amazonaws.com", conditions={
        # the machine itself, or one of its versions or aliases
        "StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": [arn, f"{arn}:*"]}})


def grant_pass_to_sagemaker(role: iam.IRole, grantee: iam.IGrantable) -> iam.Grant:
    """Let ``grantee`` pass ``role`` to SageMaker only (``iam:PassedToService``), to run a job or an endpoint with
    it: not to any other service that accepts a role."""
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=["iam:PassRole"], resource_arns=[role.role_arn],
        conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})


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


def allow_log_encryption(key: kms.IKey) -> kms.IKey:
    """``key``, whose policy now lets CloudWatch Logs of this account and region encrypt log groups with it
    (once per key; a key imported into the stack keeps its own policy, which must allow it)."""
    if key.node.try_find_child(_LOGS_MAY_ENCRYPT) is None:
        # marks the key: the statement is added once (an IKey is a construct; the typing asks for the class)
        Construct(key, _LOGS_MAY_ENCRYPT)  # type: ignore[arg-type]
        stack = Stack.of(key)
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchLogsEncryptLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.{stack.url_suffix}")],
            actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME)}}))
    return key
