"""The one factory of the library's Lambda functions, with one set of defaults.

Every function (the standalone engine's planner and publisher, the retraining trigger, the baseline
job's custom-resource handlers) is made here: an explicit role, its own log group kept a year, the
newest Python runtime, active X-Ray tracing, and an asset holding the handler's folder and the
handlers' shared package ``lambda/_shared`` (see ``bundled.lambda_asset``).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, IgnoreMode, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..bundled import lambda_asset
from ..nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_14
LOG_RETENTION = logs.RetentionDays.ONE_YEAR
MEMORY_SIZE_MB = 256
DEFAULT_TIMEOUT = Duration.minutes(5)


def monitor_function(scope: Construct, id: str, *, code: str, description: str, handler: str = "handler",
                     environment: Mapping[str, str] | None = None, timeout: Duration = DEFAULT_TIMEOUT,
                     role: iam.Role | None = None, log_group: logs.ILogGroup | None = None,
                     reserved_concurrent_executions: int | None = None) -> lambda_.Function:
    """A function running ``handler`` of ``lambda/<code>/index.py``.

    :param role: the function's role. Default: a new role that only Lambda can assume.
    :param log_group: where it logs. Default: a new log group kept for ``LOG_RETENTION``.
    :param reserved_concurrent_executions: Default: none reserved.
    """
    if log_group is None:
        log_group = logs.LogGroup(scope, f"{id}Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
    if role is None:
        role = iam.Role(scope, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=description[:1000])
    log_group.grant_write(role)
    directory, exclude = lambda_asset(code)
    function = lambda_.Function(
        scope, id,
        runtime=RUNTIME,
        handler=f"{code}/index.{handler}",
        code=lambda_.Code.from_asset(directory, exclude=exclude, ignore_mode=IgnoreMode.GIT),
        description=description[:256],
        role=role,
        log_group=log_group,
        timeout=timeout,
        memory_size=MEMORY_SIZE_MB,
        tracing=lambda_.Tracing.ACTIVE,
        reserved_concurrent_executions=reserved_concurrent_executions,
        environment=dict(environment or {}),
    )
    acknowledge(role, "AwsSolutions-IAM5", "X-Ray trace upload accepts no resource ARN", resource="*")
    return function


def engine_function(scope: Construct, id: str, *, code: str, description: str,
                    environment: Mapping[str, str] | None = None,
                    timeout: Duration = DEFAULT_TIMEOUT) -> lambda_.Function:
    """A function of the standalone engine (``monitor_function`` with its defaults)."""
    return monitor_function(scope, id, code=code, description=description, environment=environment,
                            timeout=timeout)
