"""A SageMaker endpoint that captures a share of its requests and predictions to S3."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, Node

from .errors import ConfigurationError, require_members
from .images import ecr_repository_arn
from .nag import acknowledge, is_construct
from .network import VpcPlacement, grant_vpc_access, place_in_vpc
from .roles import grant_sagemaker_logs_and_metrics, sagemaker_principal
from .storage import MonitoringBucket

# SageMaker's pattern for endpoint, endpoint-config, model and variant names.
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# SageMaker's EndpointName (CreateEndpoint API reference).
ENDPOINT_NAME = _NAME
ENDPOINT_NAME_FIX = ("SageMaker endpoint names are 1-63 letters, digits and hyphens, starting and ending with a "
                     "letter or digit (no underscores), e.g. 'churn-model-prod'.")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_ECR_REGION = re.compile(r"^\d{12}\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.")
_S3_URL = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")
_CAPTURE_URI = re.compile(r"^s3://(?P<bucket>[^/]+)(/(?P<key>.*))?$")
_CONTENT_TYPE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*/[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*$")


class CaptureMode(enum.Enum):
    """What the endpoint captures for each sampled invocation."""

    INPUT = "Input"
    OUTPUT = "Output"


@dataclass(frozen=True, kw_only=True)
class CaptureConfig:
    """Data capture settings of an endpoint.

    :param sampling_percentage: share of invocations captured, an integer from 0 to 100.
        Default: 100 (monitoring statistics are most reliable on all traffic; lower it for
        high-traffic endpoints).
    :param modes: capture requests, predictions or both. Default: both.
    :param csv_content_types: content types stored as CSV text. Default: ``("text/csv",)``.
    :param json_content_types: content types stored as JSON text. Default: ``("application/json",)``.
        Other content types are stored base64-encoded.
    :param prefix: extra key prefix under the bucket's capture prefix. Default: none.
    :param enabled: capture on or off (the configuration stays in place). Default: on.
    """

    sampling_percentage: int = 100
    modes: tuple[CaptureMode, ...] = (CaptureMode.INPUT, CaptureMode.OUTPUT)
    csv_content_types: tuple[str, ...] = ("text/csv",)
    json_content_types: tuple[str, ...] = ("application/json",)
    prefix: str | None = None
    enabled: bool = True

    def validate(self, scope: Construct) -> None:
        """Raise ``ConfigurationError`` for settings SageMaker would reject."""
        pct = self.sampling_percentage
        if isinstance(pct, bool) or not isinstance(pct, int) or not 0 <= pct <= 100:
            raise ConfigurationError(scope, "capture.sampling_percentage", pct,
                                     "Use a whole number from 0 to 100 (percent of invocations captured).")
        if not self.modes:
            raise ConfigurationError(scope, "capture.modes", self.modes,
                                     "Capture at least one of CaptureMode.INPUT and CaptureMode.OUTPUT.")
        require_members(scope, "capture.modes", self.modes, CaptureMode)
        if len(set(self.modes)) != len(self.modes):
            raise ConfigurationError(scope, "capture.modes", self.modes,
                                     "List each CaptureMode (INPUT, OUTPUT) at most once.")
        for field_name, types in (("csv_content_types", self.csv_content_types),
                                  ("json_content_types", self.json_content_types)):
            if len(types) > 10:
                raise ConfigurationError(scope, f"capture.{field_name}", types,
                                         "SageMaker accepts at most 10 content types per list.")
            for content_type in types:
                if not _CONTENT_TYPE.match(content_type):
                    raise ConfigurationError(scope, f"capture.{field_name}", content_type,
                                             "Use a MIME type such as 'text/csv' or 'application/json'.")
        overlap = set(self.csv_content_types) & set(self.json_content_types)
        if overlap:
            raise ConfigurationError(scope, "capture.json_content_types", sorted(overlap),
                                     "A content type is captured either as CSV or as JSON, not both.")
        if self.prefix is not None and (not self.prefix.strip("/") or "//" in self.prefix):
            raise ConfigurationError(scope, "capture.prefix", self.prefix,
                                     "Use a key prefix such as 'my-model' (no empty parts).")

    def destination_s3_uri(self, bucket: MonitoringBucket) -> str:
        """The capture destination; SageMaker appends ``<endpoint>/<variant>/yyyy/mm/dd/HH/``."""
        return bucket.s3_uri(bucket.prefixes.capture, self.prefix or "")

    def render(self, scope: Construct, *, bucket: MonitoringBucket) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
        """The ``DataCaptureConfig`` of an endpoint configuration.

        For an endpoint configuration you build yourself: put the result on it, and grant its
        model's execution role ``bucket.grant_write_capture(role)``.
        """
        self.validate(scope)
        key = bucket.encryption_key
        return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
            enable_capture=self.enabled,
            initial_sampling_percentage=self.sampling_percentage,
            destination_s3_uri=self.destination_s3_uri(bucket),
            kms_key_id=key.key_arn if key is not None else None,
            capture_options=[sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=m.value)
                             for m in self.modes],
            capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                csv_content_types=list(self.csv_content_types) or None,
                json_content_types=list(self.json_content_types) or None,
            ),
        )


@dataclass(frozen=True, kw_only=True)
class ProductionVariant:
    """One production variant of the endpoint, serving the endpoint's model.

    :param name: variant name. Default: ``AllTraffic`` (SageMaker's default).
    :param instance_type: ML instance type. Default: ``ml.m5.large``.
    :param instance_count: initial instance count. Default: 1.
    :param weight: initial traffic weight. Default: 1.0.
    """

    name: str = "AllTraffic"
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    weight: float = 1.0


def _check_name(scope: Construct, prop: str, value: str | None) -> None:
    if value is None or Token.is_unresolved(value):
        return
    if not _NAME.match(value):
        raise ConfigurationError(scope, prop, value,
                                 "SageMaker names are 1-63 letters, digits and hyphens, starting and ending "
                                 "with a letter or digit (e.g. 'churn-model-prod').")


@runtime_checkable
class ICapturedEndpoint(Protocol):
    """A SageMaker endpoint with data capture on: what monitors, the facade and dashboards use of it.

    Implemented by ``CapturedEndpoint`` (deployed by this app) and by
    ``CapturedEndpoint.from_endpoint_attributes(...)`` (deployed elsewhere).
    """

    @property
    def node(self) -> Node:
        """The construct tree node."""
        ...

    @property
    def endpoint_name(self) -> str:
        """The endpoint's name (may be a token)."""
        ...

    @property
    def default_variant(self) -> str:
        """The production variant monitored unless a monitor names another."""
        ...

    @property
    def bucket(self) -> MonitoringBucket | None:
        """The monitoring bucket that receives the captures, when it is one of this app's; else None."""
        ...

    @property
    def capture_destination_s3_uri(self) -> str:
        """The capture destination configured on the endpoint (``DataCaptureConfig.DestinationS3Uri``)."""
        ...

    @property
    def capture_s3_uri(self) -> str:
        """Where this endpoint's captured data lands: ``<destination>/<endpoint name>``."""
        ...

    def capture_s3_uri_for(self, variant: str) -> str:
        """Captured data of one variant: ``<destination>/<endpoint name>/<variant>``."""
        ...

    @property
    def capture_key(self) -> kms.IKey | None:
        """The KMS key of the captured objects, if any."""
        ...

    @property
    def capture_modes(self) -> frozenset[CaptureMode] | None:
        """What the capture holds (requests, predictions); None when unknown."""
        ...

    def metric(self, metric_name: str, *, variant: str | None = None, statistic: str = "Sum",
               period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """An endpoint metric of the ``AWS/SageMaker`` namespace (e.g. ``Invocations``)."""
        ...

    def metric_invocations(self, *, variant: str | None = None, statistic: str = "Sum",
                           period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Invocations of a variant (the default variant unless named)."""
        ...

    def metric_model_latency(self, *, variant: str | None = None, statistic: str = "Average",
                             period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Model latency of a variant, in microseconds."""
        ...

    def grant_read_capture(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read and list this endpoint's captured data."""
        ...


def endpoint_metric(endpoint_name: str, variant: str, metric_name: str, statistic: str,
                    period: Duration) -> cloudwatch.Metric:
    """A metric SageMaker publishes per endpoint and variant (``AWS/SageMaker``)."""
    return cloudwatch.Metric(namespace="AWS/SageMaker", metric_name=metric_name, statistic=statistic,
                             period=period, dimensions_map={"EndpointName": endpoint_name, "VariantName": variant})


class _EndpointMetrics:
    """The ``ICapturedEndpoint`` metric methods, from ``endpoint_name`` and ``default_variant``."""

    @property
    def endpoint_name(self) -> str:
        raise NotImplementedError

    @property
    def default_variant(self) -> str:
        raise NotImplementedError

    def metric(self, metric_name: str, *, variant: str | None = None, statistic: str = "Sum",
               period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """An endpoint metric of the ``AWS/SageMaker`` namespace (e.g. ``Invocations``)."""
        return endpoint_metric(self.endpoint_name, variant or self.default_variant, metric_name, statistic, period)

    def metric_invocations(self, *, variant: str | None = None, statistic: str = "Sum",
                           period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Invocations of a variant (the first unless named)."""
        return self.metric("Invocations", variant=variant, statistic=statistic, period=period)

    def metric_model_latency(self, *, variant: str | None = None, statistic: str = "Average",
                             period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Model latency of a variant, in microseconds."""
        return self.metric("ModelLatency", variant=variant, statistic=statistic, period=period)


class CapturedEndpoint(Construct, _EndpointMetrics):
    """Model + EndpointConfig with data capture + Endpoint.

    :param bucket: the monitoring bucket that receives captured data.
    :param image_uri: the inference container image.
    :param model_data_url: S3 URL of the model artifact (``s3://bucket/key/model.tar.gz``).
        Default: none (the image holds the model).
    :param environment: environment of the inference container. Default: none.
    :param execution_role: the model's execution role. Default: a new least-privilege role that
        pulls the image, reads the model artifact, writes logs and writes captured data.
    :param variants: production variants. Default: one ``ProductionVariant()``.
    :param capture: data capture settings. Default: ``CaptureConfig()``.
    :param endpoint_name: physical endpoint name. Default: generated by CloudFormation.
    :param encrypt_storage_volume: encrypt the instances' ML storage volume with the bucket's KMS
        key. Default: True. Turn off for instance types with local NVMe storage (e.g. ``ml.m5d``),
        which SageMaker refuses with a key.
    :param vpc: run the model's containers in this VPC. Default: no VPC.
    :param vpc_subnets: which of its subnets. Default: the VPC's default selection (its private
        subnets if it has any).
    :param security_groups: the model's security groups. Default: one created, with no inbound rules.
    :param subnet_ids: deprecated (use ``vpc``): subnet ids as strings. Default: none.
    :param security_group_ids: deprecated (use ``security_groups``): required with ``subnet_ids``.
    :param enable_network_isolation: no network access from the inference container. Default: False.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: MonitoringBucket,
        image_uri: str,
        model_data_url: str | None = None,
        environment: Mapping[str, str] | None = None,
        execution_role: iam.IRole | None = None,
        variants: Sequence[ProductionVariant] = (ProductionVariant(),),
        capture: CaptureConfig = CaptureConfig(),
        endpoint_name: str | None = None,
        encrypt_storage_volume: bool = True,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        subnet_ids: Sequence[str] = (),
        security_group_ids: Sequence[str] = (),
        enable_network_isolation: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self._validate(image_uri, model_data_url, variants, endpoint_name, execution_role)
        capture.validate(self)
        self.bucket = bucket
        self.capture = capture
        self.variants = tuple(variants)

        # the model's subnets and security groups (``vpc_placement.connections``), None outside a VPC
        self.vpc_placement: VpcPlacement | None = place_in_vpc(
            self, prop_prefix="", description="A monitored SageMaker model", vpc=vpc, vpc_subnets=vpc_subnets,
            security_groups=security_groups, subnet_ids=subnet_ids, security_group_ids=security_group_ids)
        self.role = execution_role or self._create_role(image_uri, model_data_url,
                                                        in_vpc=self.vpc_placement is not None)
        if execution_role is None:
            # SageMaker's capture writes with the model's role: under this endpoint's own folder when its name
            # is known now (a name given as a token would tie the role to the endpoint it serves: a cycle)
            capture_parts = [bucket.prefixes.capture.strip("/"),
                             *([capture.prefix.strip("/")] if capture.prefix else []),
                             *([endpoint_name] if endpoint_name and not Token.is_unresolved(endpoint_name) else [])]
            bucket.grant_prefix(self.role, "/".join(capture_parts), write=True)

        self.model = sagemaker.CfnModel(
            self, "Model",
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=enable_network_isolation or None,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=list(self.vpc_placement.subnet_ids),
                security_group_ids=list(self.vpc_placement.security_group_ids))
            if self.vpc_placement is not None else None,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image_uri, model_data_url=model_data_url,
                environment=dict(environment) if environment else None),
        )
        # CreateModel checks that the role can pull the image, so its policy must exist first.
        self.model.node.add_dependency(self.role)

        storage_key = bucket.encryption_key if encrypt_storage_volume else None
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self, "EndpointConfig",
            kms_key_id=storage_key.key_arn if storage_key is not None else None,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=v.name, model_name=self.model.attr_model_name,
                    initial_instance_count=v.instance_count, instance_type=v.instance_type,
                    initial_variant_weight=v.weight)
                for v in self.variants
            ],
            data_capture_config=capture.render(self, bucket=bucket),
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint",
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            endpoint_name=endpoint_name,
        )

    # -- what monitors need (ICapturedEndpoint) ---------------------------------------------

    @staticmethod
    def from_endpoint_attributes(scope: Construct, id: str, *, endpoint_name: str, capture_s3_uri: str,
                                 capture_key: kms.IKey | None = None, variant: str = "AllTraffic",
                                 capture_modes: Sequence[CaptureMode] | None = None) -> ICapturedEndpoint:
        """An endpoint deployed elsewhere, with data capture on.

        :param endpoint_name: its name.
        :param capture_s3_uri: its capture destination (``DataCaptureConfig.DestinationS3Uri``).
        :param capture_key: the KMS key of the captured objects. Default: none (SSE-S3).
        :param variant: the variant monitored unless a monitor names another. Default: ``AllTraffic``.
        :param capture_modes: what its data capture holds (``CaptureOptions``), if you know it: the monitors
            then check it and choose the captured columns at synth. Default: unknown.
        """
        return _ImportedCapturedEndpoint(scope, id, endpoint_name=endpoint_name, capture_s3_uri=capture_s3_uri,
                                         capture_key=capture_key, variant=variant, capture_modes=capture_modes)

    @property
    def endpoint_name(self) -> str:
        """The endpoint's name (a token unless ``endpoint_name`` was given)."""
        return self.endpoint.attr_endpoint_name

    @property
    def default_variant(self) -> str:
        """The first production variant."""
        return self.variants[0].name

    @property
    def capture_key(self) -> kms.IKey | None:
        """The monitoring bucket's key, which encrypts the captured objects."""
        return self.bucket.encryption_key

    @property
    def capture_modes(self) -> frozenset[CaptureMode]:
        """What the capture configuration holds."""
        return frozenset(self.capture.modes)

    @property
    def capture_destination_s3_uri(self) -> str:
        """The capture destination configured on the endpoint (without the endpoint name)."""
        return self.capture.destination_s3_uri(self.bucket)

    @property
    def capture_s3_uri(self) -> str:
        """Where this endpoint's captured data lands: ``<destination>/<endpoint name>``."""
        return f"{self.capture_destination_s3_uri}/{self.endpoint_name}"

    def capture_s3_uri_for(self, variant: str) -> str:
        """Captured data of one variant: ``<destination>/<endpoint name>/<variant>``."""
        if variant not in {v.name for v in self.variants}:
            raise ConfigurationError(self, "variant", variant,
                                     f"Use one of {[v.name for v in self.variants]}.")
        return f"{self.capture_s3_uri}/{variant}"

    def grant_read_capture(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read and list this endpoint's captured data (``<capture prefix>/<endpoint name>``, not the other
        endpoints' of the bucket), and decrypt with the bucket's key."""
        parts = [self.bucket.prefixes.capture.strip("/"), *([self.capture.prefix.strip("/")] if self.capture.prefix else []),
                 self.endpoint_name]
        return self.bucket.grant_prefix(grantee, "/".join(parts), read=True)

    # -- internals -------------------------------------------------------------------------

    def _validate(self, image_uri: str, model_data_url: str | None, variants: Sequence[ProductionVariant],
                  endpoint_name: str | None, execution_role: iam.IRole | None) -> None:
        if not Token.is_unresolved(image_uri) and not image_uri.strip():
            raise ConfigurationError(self, "image_uri", image_uri,
                                     "Give the inference image, e.g. '<account>.dkr.ecr.<region>.amazonaws.com/repo:tag'.")
        image_region = _ECR_REGION.match(image_uri) if not Token.is_unresolved(image_uri) else None
        stack_region = Stack.of(self).region
        if image_region and not Token.is_unresolved(stack_region) and image_region["region"] != stack_region:
            raise ConfigurationError(self, "image_uri", image_uri,
                                     f"SageMaker pulls a model's image from ECR in the model's own region: push it to "
                                     f"a repository in {stack_region} (or deploy the stack to {image_region['region']}).")
        if not Token.is_unresolved(image_uri) and ecr_repository_arn(self, image_uri) is None:
            # SageMaker pulls a model's image from ECR (a Docker Hub name fails at deployment, late)
            raise ConfigurationError(self, "image_uri", image_uri,
                                     "SageMaker runs inference images from Amazon ECR: push the image to a repository "
                                     "and give '<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>' (or "
                                     "'@sha256:<digest>').")
        if model_data_url is not None and not Token.is_unresolved(model_data_url):
            if not (model_data_url.startswith("s3://") or model_data_url.startswith("https://")):
                raise ConfigurationError(self, "model_data_url", model_data_url,
                                         "Use an S3 URL such as 's3://bucket/path/model.tar.gz'.")
            if execution_role is None and not _S3_URL.match(model_data_url):
                raise ConfigurationError(self, "model_data_url", model_data_url,
                                         "Use an s3:// URL, or pass execution_role with access to the artifact.")
        if model_data_url is not None and Token.is_unresolved(model_data_url) and execution_role is None:
            raise ConfigurationError(self, "model_data_url", model_data_url,
                                     "The artifact location is only known at deploy time, so the least-privilege "
                                     "role cannot be scoped to it: pass execution_role with read access to it.")
        _check_name(self, "endpoint_name", endpoint_name)
        if not variants:
            raise ConfigurationError(self, "variants", variants, "Give at least one ProductionVariant.")
        names = [v.name for v in variants]
        if len(set(names)) != len(names):
            raise ConfigurationError(self, "variants", names, "Give each variant its own name.")
        for v in variants:
            _check_name(self, "variants.name", v.name)
            if not Token.is_unresolved(v.instance_type) and not _INSTANCE_TYPE.match(v.instance_type):
                raise ConfigurationError(self, "variants.instance_type", v.instance_type,
                                         "Use an ML instance type such as 'ml.m5.large'.")
            if isinstance(v.instance_count, bool) or not isinstance(v.instance_count, int) or v.instance_count < 1:
                raise ConfigurationError(self, "variants.instance_count", v.instance_count,
                                         "Use a whole number of instances, at least 1.")
            if not v.weight >= 0:
                raise ConfigurationError(self, "variants.weight", v.weight, "Use a non-negative weight.")

    def _create_role(self, image_uri: str, model_data_url: str | None, *, in_vpc: bool) -> iam.Role:
        stack = Stack.of(self)
        role = iam.Role(self, "ExecutionRole", assumed_by=sagemaker_principal(self),
                        description="Execution role of a monitored SageMaker model")
        # The image's own repository, also when the URI is built from tokens; only a URI that is one token
        # as a whole (a stack parameter) leaves the repository unknown until deployment.
        repository = ecr_repository_arn(self, image_uri)
        if repository is None:
            repository = stack.format_arn(service="ecr", resource="repository", resource_name="*")
            acknowledge(role, "AwsSolutions-IAM5",
                        "the image URI is one deploy-time value; pulls are limited to this account's repositories",
                        resource=repository)
        role.add_to_policy(iam.PolicyStatement(
            actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            resources=[repository]))
        role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        if model_data_url is not None and (artifact := _S3_URL.match(model_data_url)):
            role.add_to_policy(iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[stack.format_arn(service="s3", region="", account="", resource=artifact["bucket"],
                                            resource_name=artifact["key"])]))
        if in_vpc:
            grant_vpc_access(role)
        grant_sagemaker_logs_and_metrics(
            role, log_groups="/aws/sagemaker/Endpoints/*",
            # exactly the endpoint namespaces: "aws/sagemaker/Endpoints*" would let the model's code write
            # the data-, model- and bias-metrics namespaces the alarms and retraining act on
            metric_namespaces=["/aws/sagemaker/Endpoints", "aws/sagemaker/Endpoints"],
            why_log_groups="SageMaker creates one log group per endpoint under /aws/sagemaker/Endpoints/")
        return role


def check_capture_modes(scope: Construct | None, prop: str, capture_modes: object) -> frozenset[CaptureMode]:
    """``capture_modes`` as a set, refused unless a non-empty sequence of ``CaptureMode`` members."""
    if isinstance(capture_modes, CaptureMode) or not isinstance(capture_modes, Sequence) or not capture_modes:
        raise ConfigurationError(scope, prop, capture_modes,
                                 "List what the endpoint captures, e.g. (CaptureMode.INPUT, CaptureMode.OUTPUT).")
    require_members(scope, prop, capture_modes, CaptureMode)
    return frozenset(capture_modes)


def check_endpoint_name(scope: Construct | None, prop: str, endpoint_name: object) -> None:
    """Refuse a name SageMaker would refuse (tokens pass: they are checked by CloudFormation)."""
    if not Token.is_unresolved(endpoint_name) and not (isinstance(endpoint_name, str)
                                                       and ENDPOINT_NAME.match(endpoint_name)):
        raise ConfigurationError(scope, prop, endpoint_name, ENDPOINT_NAME_FIX)


class _ImportedCapturedEndpoint(Construct, _EndpointMetrics):
    """An endpoint deployed elsewhere (``CapturedEndpoint.from_endpoint_attributes``): no resources."""

    def __init__(self, scope: Construct, id: str, *, endpoint_name: str, capture_s3_uri: str,
                 capture_key: kms.IKey | None, variant: str,
                 capture_modes: Sequence[CaptureMode] | None) -> None:
        super().__init__(scope, id)
        check_endpoint_name(self, "from_endpoint_attributes(endpoint_name)", endpoint_name)
        if not isinstance(capture_s3_uri, str) or (
                not Token.is_unresolved(capture_s3_uri) and not _CAPTURE_URI.match(capture_s3_uri.rstrip("/"))):
            raise ConfigurationError(self, "from_endpoint_attributes(capture_s3_uri)", capture_s3_uri,
                                     "Use the endpoint's capture destination, e.g. 's3://bucket/datacapture'.")
        _check_name(self, "from_endpoint_attributes(variant)", variant)
        if capture_key is not None and not hasattr(capture_key, "grant_decrypt"):
            raise ConfigurationError(self, "from_endpoint_attributes(capture_key)", capture_key,
                                     "Use a kms.IKey, e.g. kms.Key.from_key_arn(self, 'CaptureKey', arn).")
        self._endpoint_name = endpoint_name
        self._destination = capture_s3_uri.rstrip("/")
        self._capture_key = capture_key
        self._variant = variant
        self._capture_modes = (None if capture_modes is None else
                               check_capture_modes(self, "from_endpoint_attributes(capture_modes)", capture_modes))

    @property
    def endpoint_name(self) -> str:
        return self._endpoint_name

    @property
    def default_variant(self) -> str:
        return self._variant

    @property
    def bucket(self) -> MonitoringBucket | None:
        return None

    @property
    def capture_destination_s3_uri(self) -> str:
        return self._destination

    @property
    def capture_s3_uri(self) -> str:
        return f"{self._destination}/{self._endpoint_name}"

    def capture_s3_uri_for(self, variant: str) -> str:
        # the endpoint's variants are not known here: any name is taken as given
        return f"{self.capture_s3_uri}/{variant}"

    @property
    def capture_key(self) -> kms.IKey | None:
        return self._capture_key

    @property
    def capture_modes(self) -> frozenset[CaptureMode] | None:
        return self._capture_modes

    def grant_read_capture(self, grantee: iam.IGrantable) -> iam.Grant:
        """GetObject under the capture destination, ListBucket limited to it, and decrypt with its key."""
        match = _CAPTURE_URI.match(self._destination)
        if match is None:
            raise ConfigurationError(self, "from_endpoint_attributes(capture_s3_uri)", self._destination,
                                     "Read access is scoped to the capture prefix at synth: give the URI as "
                                     "'s3://<bucket>/<prefix>' (tokens inside it are fine).")
        partition = Stack.of(self).partition
        bucket, destination = match["bucket"], (match["key"] or "").strip("/")
        # SageMaker writes under <destination>/<endpoint name>/: other endpoints' captures stay out of reach
        prefix = f"{destination}/{self._endpoint_name}" if destination else self._endpoint_name
        objects = f"arn:{partition}:s3:::{bucket}/{prefix}/*"
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=["s3:GetObject"], resource_arns=[objects])
        grant = grant.combine(iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:ListBucket"], resource_arns=[f"arn:{partition}:s3:::{bucket}"],
            conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}))
        principal = grantee.grant_principal
        if is_construct(principal):
            acknowledge(principal, "AwsSolutions-IAM5", "read access limited to the endpoint's capture prefix",
                        resource=objects)
        if self._capture_key is not None:
            grant = grant.combine(self._capture_key.grant_decrypt(grantee))
        return grant

