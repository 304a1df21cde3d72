"""Where alarms and retraining outcomes are sent: an SNS topic (created encrypted and TLS-only, or yours)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import ArnFormat, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from .errors import ConfigurationError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Notifications(Construct):
    """An SNS topic for a model's alarms (ALARM and OK) and its retraining outcomes.

    A created topic is encrypted with its own rotating KMS key, whose policy lets CloudWatch alarms
    publish (they encrypt with the key), and refuses requests without TLS.

    :param topic: an existing topic to use instead. Default: a new topic. For an encrypted topic of
        yours, give its key as ``encryption_key`` (so publishers get kms access) and let
        ``cloudwatch.amazonaws.com`` use that key.
    :param encryption_key: the topic's key. Default: a new key with rotation (new topic only).
    :param display_name: the topic's display name (email subject sender). Default: none.
    :param emails: email addresses to subscribe (each confirms by email). Default: none.
    :param https_endpoints: HTTPS URLs to subscribe (e.g. a chat or incident webhook). Default: none.
    :param functions: Lambda functions to subscribe. Default: none.
    :param removal_policy: of the created key. Default: RETAIN.
    """

    def __init__(self, scope: Construct, id: str, *, topic: sns.ITopic | None = None,
                 encryption_key: kms.IKey | None = None, display_name: str | None = None,
                 emails: Sequence[str] = (), https_endpoints: Sequence[str] = (),
                 functions: Sequence[lambda_.IFunction] = (),
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> None:
        super().__init__(scope, id)
        # one address given as a string is one address, not a sequence of letters
        emails = (emails,) if isinstance(emails, str) else tuple(emails)
        https_endpoints = (https_endpoints,) if isinstance(https_endpoints, str) else tuple(https_endpoints)
        for email in emails:
            if not Token.is_unresolved(email) and not _EMAIL.match(email):
                raise ConfigurationError(self, "emails", email, "Use an address such as 'ml-oncall@example.com'.")
        for url in https_endpoints:
            if not Token.is_unresolved(url) and not url.startswith("https://"):
                raise ConfigurationError(self, "https_endpoints", url,
                                         "Use an https:// URL (SNS sends plain HTTP in the clear).")
        if topic is not None:
            self.topic = topic
            self.encryption_key = encryption_key
        else:
            self.encryption_key = encryption_key or kms.Key(
                self, "Key", description="Encrypts the model monitoring notifications topic",
                enable_key_rotation=True, removal_policy=removal_policy)
            if encryption_key is None:
                self.encryption_key.add_to_resource_policy(iam.PolicyStatement(
                    sid="CloudWatchAlarmsPublishToTheTopic",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}))
            self.topic = sns.Topic(self, "Topic", master_key=self.encryption_key, enforce_ssl=True,
                                   display_name=display_name)
            # The TLS-only topic policy replaces SNS's default one: allow this account's alarms explicitly.
            stack = Stack.of(self)
            self.topic.add_to_resource_policy(iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"], resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                            "ArnLike": {"aws:SourceArn": stack.format_arn(
                                service="cloudwatch", resource="alarm", resource_name="*",
                                arn_format=ArnFormat.COLON_RESOURCE_NAME)}}))
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        for url in https_endpoints:
            self.topic.add_subscription(subscriptions.UrlSubscription(url, protocol=sns.SubscriptionProtocol.HTTPS))
        for fn in functions:
            self.topic.add_subscription(subscriptions.LambdaSubscription(fn))
        self.action = cloudwatch_actions.SnsAction(self.topic)
        """The alarm action that publishes to the topic."""

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        """sns:Publish on the topic and, for an encrypted topic, the key actions publishing needs
        (no wildcards, unlike ``Topic.grant_publish``)."""
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"],
                                           resource_arns=[self.topic.topic_arn])
        if self.encryption_key is not None:
            grant = grant.combine(iam.Grant.add_to_principal(
                grantee=grantee, actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resource_arns=[self.encryption_key.key_arn]))
        return grant

    def notify(self, *alarms: cloudwatch.AlarmBase, ok: bool = True) -> None:
        """Publish to the topic when each of ``alarms`` goes into ALARM (and back to OK)."""
        for alarm in alarms:
            alarm.add_alarm_action(self.action)
            if ok:
                alarm.add_ok_action(self.action)
