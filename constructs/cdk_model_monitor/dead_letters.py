"""The library's dead-letter queues (SQS): what could not be delivered waits there, and self-monitoring alarms on it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .nag import acknowledge

_DLQ_RETENTION = Duration.days(14)


def dead_letter_queue(scope: Construct, id: str, *, key: kms.IKey | None,
                      removal_policy: RemovalPolicy = RemovalPolicy.DESTROY) -> sqs.Queue:
    """An SQS dead-letter queue: encrypted with ``key`` (SQS-managed keys without one), TLS only, 14 days."""
    queue = sqs.Queue(
        scope, id,
        encryption=sqs.QueueEncryption.KMS if key is not None else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key, enforce_ssl=True, retention_period=_DLQ_RETENTION,
        removal_policy=removal_policy)
    acknowledge(queue, "AwsSolutions-SQS3", "this queue is itself a dead-letter queue")
    return queue
