#!/usr/bin/env python3
"""Example app: one monitored SageMaker model per stack, configured from cdk.json context.

    cdk synth                                   # every model in cdk.json
    cdk deploy ModelMonitor-churn \
        -c 'cdk-model-monitor:models=[{"name":"churn","imageUri":"<ecr image>","modelDataUrl":"s3://.../model.tar.gz"}]'

Context key ``cdk-model-monitor:models``: a list (or a JSON string of a list) of objects with
``name`` (required), ``imageUri`` (the model's inference image in ECR: required to deploy, see below),
``modelDataUrl`` (default: none, the image holds the model), ``instanceType`` (``ml.m5.large``),
``instanceCount`` (1), ``samplingPercentage`` (100), ``endpointName`` (generated),
``alarmEmails`` (addresses notified of alarms and retraining; default none), ``retrainingPipeline``
(a SageMaker pipeline started once when the model looks unhealthy; default none).
Context key ``engine``: ``standalone`` (default) or ``model-monitor`` (native SageMaker Model Monitor).
Context key ``cdk-model-monitor:assetKmsKeyArn``: the KMS key of the CDK asset bucket when the account was
bootstrapped with ``cdk bootstrap --bootstrap-kms-key-id`` (the monitoring jobs read their baselines there).

A model without ``imageUri`` still synthesizes, so that ``cdk synth`` shows the stack, with a warning; its template
has a ``ModelImageUri`` parameter (``none`` by default) and a rule that refuses the deployment, before CloudFormation
creates anything, saying which context key to set. ``python app.py`` and ``cdk synth`` cannot tell a look from a
deployment (the CDK CLI runs the app alike for both), so the refusal is the template's own.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk_model_monitor as mm  # first: selects a supported Node for aws-cdk-lib

# isort: split
import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

CONTEXT_KEY = "cdk-model-monitor:models"
ENGINE_KEY = "engine"
ASSET_KEY_KEY = "cdk-model-monitor:assetKmsKeyArn"
NO_IMAGE_WARNING = "cdk-model-monitor:no-model-image"
NO_IMAGE = "none"  # the ModelImageUri parameter's default: no image configured
EXAMPLE_IMAGE = "<account>.dkr.ecr.<region>.amazonaws.com/{name}:<tag>"
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
DEMO_BASELINE = Path(__file__).resolve().parent / "demo" / "baseline"
DEMO_BASELINE_MODEL_QUALITY = DEMO_BASELINE.with_name("baseline-model-quality")
DEMO_BASELINE_BIAS = DEMO_BASELINE.with_name("baseline-bias")
# The request's columns of the demo model (demo/data.py): the bias monitor names them.
DEMO_FEATURES = ("account_length", "day_minutes", "eve_minutes", "night_minutes", "intl_calls",
                 "customer_service_calls", "senior", "plan", "state")


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """One model's settings from the context."""

    name: str
    image_uri: str | None = None
    model_data_url: str | None = None
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    sampling_percentage: int = 100
    endpoint_name: str | None = None
    alarm_emails: tuple[str, ...] = ()
    retraining_pipeline: str | None = None

    _KEYS = {"name": "name", "imageUri": "image_uri", "modelDataUrl": "model_data_url",
             "instanceType": "instance_type", "instanceCount": "instance_count",
             "samplingPercentage": "sampling_percentage", "endpointName": "endpoint_name",
             "alarmEmails": "alarm_emails", "retrainingPipeline": "retraining_pipeline"}

    @classmethod
    def from_context(cls, raw: Any) -> list[ModelSettings]:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as err:
                raise ValueError(f"context {CONTEXT_KEY} is not valid JSON: {err}") from None
        if isinstance(raw, dict):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise ValueError(f"context {CONTEXT_KEY} must be a non-empty list of models, e.g. [{{\"name\": \"churn\"}}]")
        models = []
        for i, entry in enumerate(raw):
            if not isinstance(entry, dict) or not entry.get("name"):
                raise ValueError(f"context {CONTEXT_KEY}[{i}] needs at least a \"name\"")
            unknown = set(entry) - set(cls._KEYS)
            if unknown:
                raise ValueError(f"context {CONTEXT_KEY}[{i}]: unknown keys {sorted(unknown)}; "
                                 f"known keys are {sorted(cls._KEYS)}")
            # empty strings in cdk.json mean "use the default"
            values = {cls._KEYS[k]: v for k, v in entry.items() if v not in ("", None)}
            emails = values.get("alarm_emails", ())
            if isinstance(emails, str):
                emails = [emails]
            if not isinstance(emails, (list, tuple)) or not all(isinstance(e, str) for e in emails):
                raise ValueError(f"context {CONTEXT_KEY}[{i}].alarmEmails must be a list of email addresses")
            values["alarm_emails"] = tuple(emails)
            models.append(cls(**values))
        return models


def missing_image_message(model_name: str, stack_name: str) -> str:
    """What to do when a model has no image: the context key to set, with an example."""
    example = json.dumps([{"name": model_name, "imageUri": EXAMPLE_IMAGE.format(name=model_name)}],
                         separators=(",", ":"))
    return (f"No inference image is configured for model '{model_name}': its endpoint cannot be created. Set "
            f"imageUri of the model in the context key {CONTEXT_KEY} (cdk.json, or -c), e.g. "
            f"cdk deploy {stack_name} -c '{CONTEXT_KEY}={example}'")


class MonitoredModelStack(cdk.Stack):
    """One monitored model: endpoint with data capture, data-quality, model-quality and bias-drift
    monitoring, alarms, dashboard, notifications and (with ``retrainingPipeline``) retraining, through
    the ``ModelMonitor`` facade."""

    def __init__(self, scope: Construct, id: str, *, model: ModelSettings, engine: mm.Engine = mm.Engine.STANDALONE,
                 asset_kms_key_arn: str | None = None, **kwargs: Any) -> None:
        super().__init__(scope, id, description=f"Monitored SageMaker model '{model.name}' (cdk-model-monitor)",
                         **kwargs)
        #: what to do before deploying, when the model has no image (else None)
        self.missing_image: str | None = None
        image_uri = model.image_uri or self._image_parameter(model.name)
        asset_key = kms.Key.from_key_arn(self, "AssetKey", asset_kms_key_arn) if asset_kms_key_arn else None
        self.monitor = mm.ModelMonitor(
            self, "Model",
            model_name=model.name,
            endpoint=mm.EndpointProps(
                image_uri=image_uri,
                model_data_url=model.model_data_url,
                endpoint_name=model.endpoint_name,
                variants=[mm.ProductionVariant(instance_type=model.instance_type,
                                               instance_count=model.instance_count)],
                capture=mm.CaptureConfig(sampling_percentage=model.sampling_percentage, prefix=model.name)),
            # The demo's baseline, computed by `model-monitor-analyzer baseline` from the embedded
            # validation set (see demo/); replace it with one made from your model's data.
            data_quality=mm.DataQualityProps(baseline=mm.Baseline.from_directory(str(DEMO_BASELINE), version="demo-1")),
            # Labels arrive under the monitoring bucket's ground-truth prefix (`model-monitor-analyzer
            # put-ground-truth`); the endpoint returns the churn probability as its only CSV column.
            model_quality=mm.ModelQualityProps(
                baseline=mm.Baseline.from_directory(str(DEMO_BASELINE_MODEL_QUALITY), version="demo-1"),
                settings=mm.ModelQualitySettings(problem_type=mm.ProblemType.BINARY_CLASSIFICATION,
                                                 probability_attribute="0", probability_threshold=0.5)),
            bias=mm.BiasProps(
                baseline=mm.Baseline.from_directory(str(DEMO_BASELINE_BIAS), version="demo-1"),
                settings=mm.BiasSettings(label="churn", label_values_or_threshold=[1], facets=[mm.Facet("senior", [1])],
                                         headers=[*DEMO_FEATURES, "churn"], probability_attribute="0",
                                         probability_threshold=0.5, pre_training_methods=["CI", "DPL"],
                                         post_training_methods=["DPPL", "AD", "RD", "DAR"], drift_tolerance=0.2)),
            schedule=mm.Schedule.hourly(),
            engine=engine,
            asset_kms_key=asset_key,
            notifications=mm.NotificationProps(emails=list(model.alarm_emails)),
            retraining=(mm.RetrainingProps(pipeline_name=model.retraining_pipeline,
                                           pipeline_parameters={"ModelName": "model", "TriggerAlarm": "alarm_name"})
                        if model.retraining_pipeline else None),
        )
        self.storage = self.monitor.storage
        endpoint = self.monitor.endpoint
        assert endpoint is not None  # the facade was given an endpoint (it is None for a batch_source)
        self.endpoint = endpoint
        self.data_quality = self.monitor.data_quality
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name)
        cdk.CfnOutput(self, "CaptureS3Uri", value=self.endpoint.capture_s3_uri)
        cdk.CfnOutput(self, "MonitoringBucketName", value=self.storage.bucket.bucket_name)
        notifications, unhealthy, dashboard = (self.monitor.notifications, self.monitor.composite_alarm,
                                               self.monitor.dashboard)
        # the facade makes all three with the props above (each is None only when turned off)
        assert notifications is not None and unhealthy is not None and dashboard is not None
        cdk.CfnOutput(self, "AlarmTopicArn", value=notifications.topic.topic_arn)
        cdk.CfnOutput(self, "ModelUnhealthyAlarm", value=unhealthy.alarm_name)
        cdk.CfnOutput(self, "DashboardName", value=dashboard.dashboard.dashboard_name)
        # the state machine to start for one window by hand (README: "Analysing a window again")
        for kind, monitor in (("DataQuality", self.monitor.data_quality), ("ModelQuality", self.monitor.model_quality),
                              ("Bias", self.monitor.bias)):
            machine = getattr(monitor.engine, "state_machine", None) if monitor is not None else None
            if machine is not None:
                cdk.CfnOutput(self, f"{kind}StateMachineArn", value=machine.state_machine_arn)

    def _image_parameter(self, model_name: str) -> str:
        """No image configured: a ``ModelImageUri`` parameter, ``none`` by default, and a rule that refuses to deploy
        while it is (evaluated before any resource is created), with the fix; a warning says it at synth."""
        self.missing_image = missing_image_message(model_name, self.stack_name)
        parameter = cdk.CfnParameter(
            self, "ModelImageUri", type="String", default=NO_IMAGE,
            allowed_pattern=rf"^{NO_IMAGE}$|^[0-9]{{12}}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*"
                            r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})?$",
            constraint_description="an image in Amazon ECR: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>",
            description=f"The model's inference image in ECR. {NO_IMAGE}: set imageUri in the context key {CONTEXT_KEY}")
        cdk.CfnRule(self, "ModelImageIsConfigured", assertions=[cdk.CfnRuleAssertion(
            assert_=cdk.Fn.condition_not(cdk.Fn.condition_equals(parameter.value_as_string, NO_IMAGE)),
            assert_description=self.missing_image)])
        cdk.Annotations.of(self).add_warning_v2(NO_IMAGE_WARNING, self.missing_image)
        return parameter.value_as_string


def build_app(app: cdk.App) -> list[MonitoredModelStack]:
    """Add one stack per model of the context to ``app``."""
    raw = app.node.try_get_context(CONTEXT_KEY)
    models = ModelSettings.from_context([{"name": "churn"}] if raw is None else raw)
    engines = {e.value: e for e in mm.Engine}
    engine_name = app.node.try_get_context(ENGINE_KEY) or mm.Engine.STANDALONE.value
    if engine_name not in engines:
        raise ValueError(f"context {ENGINE_KEY}={engine_name!r}: use one of {sorted(engines)}")
    asset_key = app.node.try_get_context(ASSET_KEY_KEY) or None
    if asset_key is not None and (not isinstance(asset_key, str) or not _KMS_KEY_ARN.match(asset_key)):
        raise ValueError(f"context {ASSET_KEY_KEY}={asset_key!r}: give the ARN of the asset bucket's KMS key, "
                         "e.g. arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    return [MonitoredModelStack(app, f"ModelMonitor-{m.name}", model=m, engine=engines[engine_name],
                                asset_kms_key_arn=asset_key) for m in models]


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json, for runs of ``python app.py`` without the CDK CLI (which passes it itself)."""
    path = Path(__file__).with_name("cdk.json")
    return json.loads(path.read_text()).get("context", {}) if path.is_file() else {}


def main() -> int:
    run_by_cli = "CDK_CONTEXT_JSON" in os.environ or "CDK_OUTDIR" in os.environ
    app = cdk.App() if run_by_cli else cdk.App(context=cdk_json_context(), outdir="cdk.out")
    try:
        build_app(app)
    except (ValueError, TypeError) as err:  # ConfigurationError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2
    app.synth()  # prints the warnings (cdk.json's @aws-cdk/core:annotationsInValidationReport)
    return 0


if __name__ == "__main__":
    sys.exit(main())
