"""What a new user's first app tripped over: each now works as meant or says what to do at synth."""

from __future__ import annotations

import re

import pytest

from cdk_model_monitor import CapturedEndpoint, ConfigurationError, MonitoringBucket, Notifications, Schedule

from .conftest import template_of

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-model:1.0"
MODEL_DATA = "s3://example-artifacts/churn/model.tar.gz"


def test_one_email_given_as_a_string_is_one_subscription(stack):
    Notifications(stack, "Notify", emails="ml-oncall@example.com", https_endpoints="https://hooks.example.com/x")
    subscriptions = template_of(stack).find_resources("AWS::SNS::Subscription")
    assert sorted((s["Properties"]["Protocol"], s["Properties"]["Endpoint"]) for s in subscriptions.values()) == [
        ("email", "ml-oncall@example.com"), ("https", "https://hooks.example.com/x")]


@pytest.mark.parametrize("hours", [5, 7, 9, 10, 11, 13, 23])
def test_every_n_hours_that_do_not_divide_a_day_are_refused_with_the_steady_alternative(hours):
    with pytest.raises(ConfigurationError, match=re.escape(f"Schedule.rate(Duration.hours({hours}))")):
        Schedule.every_hours(hours)


@pytest.mark.parametrize("hours", [1, 2, 3, 4, 6, 8, 12, 24])
def test_every_n_hours_that_divide_a_day_are_steady(hours):
    assert Schedule.every_hours(hours).expression == f"cron(0 0/{hours} * * ? *)"


@pytest.mark.parametrize("image", ["churn:latest", "docker.io/library/churn:1", "ghcr.io/team/churn:1"])
def test_an_image_sagemaker_cannot_pull_is_refused_at_synth(stack, image):
    storage = MonitoringBucket(stack, "Storage")
    with pytest.raises(ConfigurationError, match="SageMaker runs inference images from Amazon ECR"):
        CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=image, model_data_url=MODEL_DATA)


def test_an_ecr_image_by_digest_is_accepted(stack):
    storage = MonitoringBucket(stack, "Storage")
    CapturedEndpoint(stack, "Endpoint", bucket=storage, model_data_url=MODEL_DATA,
                     image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn@sha256:" + "a" * 64)


def test_the_model_cannot_write_the_monitoring_metric_namespaces(stack):
    storage = MonitoringBucket(stack, "Storage")
    CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=IMAGE, model_data_url=MODEL_DATA)
    policies = template_of(stack).find_resources("AWS::IAM::Policy")
    conditions = [statement["Condition"] for policy in policies.values()
                  for statement in policy["Properties"]["PolicyDocument"]["Statement"]
                  if statement["Action"] == "cloudwatch:PutMetricData"]
    # no pattern: "aws/sagemaker/Endpoints*" also matched aws/sagemaker/Endpoints/data-metrics and the others
    assert conditions == [{"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/Endpoints", "aws/sagemaker/Endpoints"]}}]


def test_an_image_in_another_regions_registry_is_refused_at_synth(app):
    import aws_cdk as cdk

    stack = cdk.Stack(app, "Pinned", env=cdk.Environment(account="123456789012", region="us-east-1"))
    storage = MonitoringBucket(stack, "Storage")
    with pytest.raises(ConfigurationError, match="push it to a repository in us-east-1"):
        CapturedEndpoint(stack, "Endpoint", bucket=storage, model_data_url=MODEL_DATA,
                         image_uri="123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")
    CapturedEndpoint(stack, "Same", bucket=storage, model_data_url=MODEL_DATA,
                     image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")


@pytest.mark.parametrize(("kwargs", "prefix"), [
    ({"endpoint_name": "churn-prod"}, "datacapture/churn-prod/*"),
    ({"endpoint_name": "churn-prod", "capture": {"prefix": "team-a"}}, "datacapture/team-a/churn-prod/*"),
    ({}, "datacapture/*"),  # the name is the endpoint's own attribute: scoping to it would be a cycle
])
def test_the_model_writes_captures_under_its_own_endpoint_when_its_name_is_known(stack, kwargs, prefix):
    from cdk_model_monitor import CaptureConfig

    if "capture" in kwargs:
        kwargs = {**kwargs, "capture": CaptureConfig(prefix=kwargs["capture"]["prefix"])}
    storage = MonitoringBucket(stack, "Storage")
    CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=IMAGE, model_data_url=MODEL_DATA, **kwargs)
    policies = template_of(stack).find_resources("AWS::IAM::Policy")
    [writes] = [statement for policy in policies.values() for statement in policy["Properties"]["PolicyDocument"]["Statement"]
                if "s3:PutObject" in statement["Action"]]
    assert writes["Resource"]["Fn::Join"][1][-1] == f"/{prefix}"
