"""The container image a monitoring or baselining job runs: our analyzer, an image of yours, or SageMaker's own.

``AnalyzerImage`` says which image; ``bind`` grants the job's role what it needs to pull it and
returns the URI to put in the job definition. SageMaker's own images live in AWS-owned ECR
accounts that differ per region (table generated from the sagemaker SDK's data into
``_image_accounts.py``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from aws_cdk import Aws, CfnMapping, Fn, Stack, Token
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from . import _image_accounts
from .bundled import analyzer_context_dir
from .errors import ConfigurationError
from .nag import acknowledge, is_construct

# <account>.dkr.ecr.<region>.<domain suffix>/<repository>[:tag | @digest]
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.(?P<suffix>[a-z0-9.-]+)/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
# The same shape in a URI that holds deploy-time values: each ``${Token[...]}`` marker stands for one part
# (``f"{Aws.ACCOUNT_ID}.dkr.ecr.{Aws.REGION}.{Aws.URL_SUFFIX}/churn:latest"``, ``repository_uri_for_tag``).
_TOKEN = r"\$\{Token\[[^\]]+\]\}"
_ECR_IMAGE_WITH_TOKENS = re.compile(
    rf"^(?P<account>(?:{_TOKEN}|\d)+)\.dkr\.ecr(?:-fips)?\.(?P<region>(?:{_TOKEN}|[a-z0-9-])+)\.(?:{_TOKEN}|[a-z0-9.-])+/"
    rf"(?P<repository>(?:{_TOKEN}|[a-z0-9._/-])+?)(?::(?:{_TOKEN}|[A-Za-z0-9_.-])+|@sha256:[0-9a-f]{{64}})?$"
)
ANALYZER_ASSET_ID = "CdkModelMonitorAnalyzerImage"
_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")


class BuiltinImage(enum.Enum):
    """SageMaker's own monitoring images."""

    MODEL_MONITOR = "model-monitor"  # data quality and model quality (Spark/Deequ analyzer)
    CLARIFY = "clarify"  # bias drift and feature-attribution drift


@dataclass(frozen=True)
class BoundImage:
    """An image bound to a job: the URI to put in its ``ImageUri``."""

    image_uri: str


def _table(kind: BuiltinImage) -> tuple[dict[str, str], str, str | None]:
    if kind is BuiltinImage.MODEL_MONITOR:
        return (_image_accounts.MODEL_MONITOR_ACCOUNTS, _image_accounts.MODEL_MONITOR_REPOSITORY,
                _image_accounts.MODEL_MONITOR_TAG)
    if kind is BuiltinImage.CLARIFY:
        return _image_accounts.CLARIFY_ACCOUNTS, _image_accounts.CLARIFY_REPOSITORY, _image_accounts.CLARIFY_TAG
    raise TypeError(f"not a BuiltinImage: {kind!r}")


def _mapping_id(kind: BuiltinImage) -> str:
    return "SageMakerImageAccounts" + "".join(part.title() for part in kind.value.split("-"))


def builtin_image_uri(scope: Construct, kind: BuiltinImage) -> str:
    """URI of SageMaker's own ``kind`` image in the region of ``scope``'s stack.

    Pinned region: a literal ``<account>.dkr.ecr.<region>.<suffix>/<repository>[:<tag>]`` (Model
    Monitor has no tag, Clarify ``:1.0``). Region-agnostic stack: the account comes from a
    ``Mappings`` table (created once per stack, region -> account) through ``Fn::FindInMap`` on
    ``AWS::Region``, and the suffix from ``AWS::URLSuffix``; a region missing from the table then
    fails the deployment at that lookup.
    """
    if not isinstance(kind, BuiltinImage):
        raise ConfigurationError(scope, "kind", kind, "Use BuiltinImage.MODEL_MONITOR or BuiltinImage.CLARIFY.")
    accounts, repository, tag = _table(kind)
    path = repository + (f":{tag}" if tag else "")
    stack = Stack.of(scope)
    region = stack.region
    if not Token.is_unresolved(region):
        if region not in accounts:
            raise ConfigurationError(
                scope, "region", region,
                f"SageMaker publishes no {kind.value} image in {region} (it does in: {', '.join(accounts)}). "
                "Deploy to one of those regions, or use AnalyzerImage.from_asset() (our analyzer) or "
                "AnalyzerImage.from_uri(...) with an image of yours.")
        suffix = RegionInfo.get(region).domain_suffix or stack.url_suffix
        return f"{accounts[region]}.dkr.ecr.{region}.{suffix}/{path}"
    mapping = stack.node.try_find_child(_mapping_id(kind))
    if not isinstance(mapping, CfnMapping):
        mapping = CfnMapping(stack, _mapping_id(kind), lazy=True,
                             mapping={r: {"account": a} for r, a in accounts.items()})
    account = mapping.find_in_map(Aws.REGION, "account")
    return Fn.join("", [account, ".dkr.ecr.", Aws.REGION, ".", Aws.URL_SUFFIX, "/", path])


class AnalyzerImage:
    """The image a monitoring job runs."""

    def __init__(self, *, source: str, uri: str | None = None, repository: ecr.IRepository | None = None,
                 builtin_kind: BuiltinImage | None = None) -> None:
        self._source = source
        self._uri = uri
        self._repository = repository
        self._builtin = builtin_kind

    # -- sources ---------------------------------------------------------------------------

    @staticmethod
    def from_asset() -> AnalyzerImage:
        """Our analyzer, built from the library's Docker context (``container/``) as a linux/amd64
        ``DockerImageAsset``; one asset per stack, however many jobs use it."""
        return AnalyzerImage(source="asset")

    @staticmethod
    def from_uri(uri: str, *, repository: ecr.IRepository | None = None) -> AnalyzerImage:
        """An image you built and pushed to ECR (``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``).

        :param repository: the image's repository; pull access is granted on it. Default: parsed from
            ``uri``, also when parts of it are tokens (``f"{Aws.ACCOUNT_ID}.dkr.ecr.{Aws.REGION}.
            {Aws.URL_SUFFIX}/analyzer:1"``, ``repo.repository_uri_for_tag("v1")``): pull access on that one
            repository. Only a URI that is a single token as a whole (a stack parameter, an SSM value) gets
            pull access to every repository of this account: pass ``repository`` then.
        """
        return AnalyzerImage(source="uri", uri=uri, repository=repository)

    @staticmethod
    def builtin(kind: BuiltinImage = BuiltinImage.MODEL_MONITOR) -> AnalyzerImage:
        """SageMaker's own image (the Model Monitor analyzer or Clarify); the service pulls it itself."""
        return AnalyzerImage(source="builtin", builtin_kind=kind)

    # -- use -------------------------------------------------------------------------------

    @property
    def is_builtin(self) -> bool:
        return self._source == "builtin"

    @property
    def builtin_kind(self) -> BuiltinImage | None:
        """Which SageMaker image, for ``builtin`` images."""
        return self._builtin

    def bind(self, scope: Construct, *, grantee: iam.IGrantable) -> BoundImage:
        """Grant ``grantee`` (the job's execution role) what pulling the image takes; return its URI."""
        if self._builtin is not None:  # set by builtin() only
            return BoundImage(image_uri=builtin_image_uri(scope, self._builtin))
        if self._source == "asset":
            asset = self.analyzer_asset(scope)
            asset.repository.grant_pull(grantee)
            _acknowledge_token_call(grantee)
            return BoundImage(image_uri=asset.image_uri)
        if self._uri is None:
            raise ValueError(f"AnalyzerImage without a source ({self._source!r}): use one of its factories")
        return BoundImage(image_uri=self._bind_uri(scope, grantee, self._uri))

    @staticmethod
    def analyzer_asset(scope: Construct) -> ecr_assets.DockerImageAsset:
        """The stack's analyzer ``DockerImageAsset`` (created on first use)."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(ANALYZER_ASSET_ID)
        if isinstance(existing, ecr_assets.DockerImageAsset):
            return existing
        try:
            directory = analyzer_context_dir()
        except FileNotFoundError as err:
            raise ConfigurationError(scope, "image", "AnalyzerImage.from_asset()",
                                     f"{err}. Reinstall cdk-model-monitor, or use AnalyzerImage.from_uri(...) "
                                     "with an analyzer image you pushed.") from None
        return ecr_assets.DockerImageAsset(stack, ANALYZER_ASSET_ID, directory=directory,
                                           platform=ecr_assets.Platform.LINUX_AMD64)

    def _bind_uri(self, scope: Construct, grantee: iam.IGrantable, uri: str) -> str:
        if self._repository is not None:
            self._repository.grant_pull(grantee)
            _acknowledge_token_call(grantee)
            return uri
        repository = ecr_repository_arn(scope, uri)
        if repository is not None:
            _grant_pull(grantee, repository)
            return uri
        if not Token.is_unresolved(uri):
            raise ConfigurationError(
                scope, "image_uri", uri,
                "SageMaker jobs run images from Amazon ECR: use '<account>.dkr.ecr.<region>.amazonaws.com/"
                "<repository>:<tag>' (or @sha256:<digest>).")
        # One token as a whole (e.g. a stack parameter): the repository is unknown until deployment.
        repositories = Stack.of(scope).format_arn(service="ecr", resource="repository", resource_name="*")
        _grant_pull(grantee, repositories)
        principal = grantee.grant_principal
        if is_construct(principal):
            acknowledge(principal, "AwsSolutions-IAM5",
                        "the image URI is one deploy-time value; pulls are limited to this account's ECR "
                        "repositories (pass repository= to narrow it)", resource=repositories)
        return uri


def ecr_repository_arn(scope: Construct, uri: str) -> str | None:
    """The ARN of the ECR repository an image URI names, also when account, region or repository are only
    known at deploy time (the URI built from tokens); None when the URI is not ECR-shaped even so (a
    URI that is one token as a whole, such as a parameter)."""
    match = (_ECR_IMAGE if not Token.is_unresolved(uri) else _ECR_IMAGE_WITH_TOKENS).match(uri or "")
    if match is None:
        return None
    return Stack.of(scope).format_arn(service="ecr", resource="repository", resource_name=match["repository"],
                                      account=match["account"], region=match["region"])


def _grant_pull(grantee: iam.IGrantable, repository_arn: str) -> None:
    iam.Grant.add_to_principal(grantee=grantee, actions=list(_PULL_ACTIONS), resource_arns=[repository_arn])
    iam.Grant.add_to_principal(grantee=grantee, actions=["ecr:GetAuthorizationToken"], resource_arns=["*"])
    _acknowledge_token_call(grantee)


def _acknowledge_token_call(grantee: iam.IGrantable) -> None:
    principal = grantee.grant_principal
    if is_construct(principal):
        acknowledge(principal, "AwsSolutions-IAM5",
                    "ecr:GetAuthorizationToken accepts no resource ARN (it returns a registry login token)",
                    resource="*")
