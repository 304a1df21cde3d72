"""Lambda functions of the standalone engine: explicit role, log group, newest runtime."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..bundled import lambda_code_dir

RUNTIME = lambda_.Runtime.PYTHON_3_14


def engine_function(scope: Construct, id: str, *, code: str, description: str,
                    environment: Mapping[str, str] | None = None,
                    timeout: Duration = Duration.minutes(5)) -> lambda_.Function:
    """A function from ``lambda/<code>/index.py`` with its own role and a one-year log group."""
    log_group = logs.LogGroup(scope, f"{id}Logs", retention=logs.RetentionDays.ONE_YEAR,
                              removal_policy=RemovalPolicy.DESTROY)
    role = iam.Role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                    description=description)
    log_group.grant_write(role)
    return lambda_.Function(
        scope, id,
        runtime=RUNTIME,
        handler="index.handler",
        code=lambda_.Code.from_asset(lambda_code_dir(code)),
        description=description,
        role=role,
        log_group=log_group,
        timeout=timeout,
        memory_size=256,
        tracing=lambda_.Tracing.ACTIVE,
        environment=dict(environment or {}),
    )
