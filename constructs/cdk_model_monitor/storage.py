"""The monitoring bucket: where captured data, baselines, reports and ground truth live."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .errors import ConfigurationError
from .nag import acknowledge, is_construct


@dataclass(frozen=True, kw_only=True)
class MonitoringPrefixes:
    """Key prefixes (without slashes at either end) of each kind of monitoring data."""

    capture: str = "datacapture"
    baselines: str = "baselines"
    reports: str = "reports"
    ground_truth: str = "ground-truth"

    def all(self) -> tuple[str, ...]:
        return (self.capture, self.baselines, self.reports, self.ground_truth)


class MonitoringBucket(Construct):
    """A secure S3 bucket for monitoring data, or a bucket the user already has.

    Created buckets are KMS-encrypted with a rotating key (or ``encryption_key``), block all
    public access, refuse non-TLS requests, keep versions, log access to a separate bucket and
    expire captured data and reports after their retention. The grant methods give
    least-privilege access to one kind of data (one prefix) each.

    :param bucket: an existing bucket to use instead of creating one. Default: a new bucket.
    :param encryption_key: the KMS key of the data. Default: a new key with rotation (for a new
        bucket); for an existing bucket, pass its key if it uses SSE-KMS.
    :param capture_retention: how long captured requests and predictions are kept. Default: 90 days.
    :param report_retention: how long monitoring reports are kept. Default: 400 days (a year of
        reports to compare with, plus a margin). ``None`` keeps them forever.
    :param ground_truth_retention: how long ground-truth labels are kept. Default: 400 days.
    :param noncurrent_version_retention: how long overwritten or deleted versions are kept.
        Default: 30 days.
    :param access_logs_bucket: where server access logs go. Default: a new log bucket.
    :param removal_policy: what happens to created buckets and key on stack deletion.
        Default: RETAIN (monitoring history outlives the stack).
    :param prefixes: key prefixes of each kind of data. Default: ``MonitoringPrefixes()``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket | None = None,
        encryption_key: kms.IKey | None = None,
        capture_retention: Duration = Duration.days(90),
        report_retention: Duration | None = Duration.days(400),
        ground_truth_retention: Duration | None = Duration.days(400),
        noncurrent_version_retention: Duration = Duration.days(30),
        access_logs_bucket: s3.IBucket | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        prefixes: MonitoringPrefixes = MonitoringPrefixes(),
    ) -> None:
        super().__init__(scope, id)
        self.prefixes = prefixes
        for name, value in zip(("capture", "baselines", "reports", "ground_truth"), prefixes.all(), strict=True):
            if not value or value.startswith("/") or value.endswith("/"):
                raise ConfigurationError(self, f"prefixes.{name}", value,
                                         "Use a non-empty key prefix without leading or trailing '/'.")
        if len(set(prefixes.all())) != len(prefixes.all()):
            raise ConfigurationError(self, "prefixes", prefixes, "Give each kind of data its own prefix.")

        if bucket is not None:
            self.bucket = bucket
            self.encryption_key = encryption_key or bucket.encryption_key
            self.access_logs_bucket = access_logs_bucket
            return

        self.encryption_key = encryption_key or kms.Key(
            self, "Key",
            description="Encrypts SageMaker model monitoring data (capture, baselines, reports, ground truth)",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.access_logs_bucket = access_logs_bucket or s3.Bucket(
            self, "AccessLogs",
            # S3 server access log delivery supports SSE-S3 only.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=Duration.days(365))],
            removal_policy=removal_policy,
        )

        def expiring(rule_id: str, prefix: str, after: Duration | None) -> list[s3.LifecycleRule]:
            if after is None:
                return []
            return [s3.LifecycleRule(id=rule_id, prefix=f"{prefix}/", expiration=after)]

        self.bucket = s3.Bucket(
            self, "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.encryption_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="monitoring-bucket/",
            lifecycle_rules=[
                *expiring("ExpireCapturedData", prefixes.capture, capture_retention),
                *expiring("ExpireReports", prefixes.reports, report_retention),
                *expiring("ExpireGroundTruth", prefixes.ground_truth, ground_truth_retention),
                s3.LifecycleRule(
                    id="ExpireOldVersions",
                    noncurrent_version_expiration=noncurrent_version_retention,
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
            removal_policy=removal_policy,
        )

    # -- locations -------------------------------------------------------------------------

    def s3_uri(self, *parts: str) -> str:
        """``s3://<bucket>/<parts joined by '/'>`` (may contain tokens)."""
        key = "/".join(p.strip("/") for p in parts if p)
        return self.bucket.s3_url_for_object(key)

    @property
    def capture_s3_uri(self) -> str:
        return self.s3_uri(self.prefixes.capture)

    @property
    def baselines_s3_uri(self) -> str:
        return self.s3_uri(self.prefixes.baselines)

    @property
    def reports_s3_uri(self) -> str:
        return self.s3_uri(self.prefixes.reports)

    @property
    def ground_truth_s3_uri(self) -> str:
        return self.s3_uri(self.prefixes.ground_truth)

    # -- grants ----------------------------------------------------------------------------

    def grant_write_capture(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (an endpoint's execution role) write captured data."""
        return self._grant(grantee, self.prefixes.capture, write=True)

    def grant_read_capture(self, grantee: iam.IGrantable) -> iam.Grant:
        return self._grant(grantee, self.prefixes.capture, read=True)

    def grant_read_baselines(self, grantee: iam.IGrantable) -> iam.Grant:
        return self._grant(grantee, self.prefixes.baselines, read=True)

    def grant_write_baselines(self, grantee: iam.IGrantable) -> iam.Grant:
        return self._grant(grantee, self.prefixes.baselines, write=True)

    def grant_read_reports(self, grantee: iam.IGrantable) -> iam.Grant:
        return self._grant(grantee, self.prefixes.reports, read=True)

    def grant_write_reports(self, grantee: iam.IGrantable) -> iam.Grant:
        return self._grant(grantee, self.prefixes.reports, write=True)

    def grant_read_ground_truth(self, grantee: iam.IGrantable) -> iam.Grant:
        return self._grant(grantee, self.prefixes.ground_truth, read=True)

    def grant_write_ground_truth(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (a label producer) put ground-truth records."""
        return self._grant(grantee, self.prefixes.ground_truth, write=True)

    def grant_prefix(self, grantee: iam.IGrantable, prefix: str, *, read: bool = False,
                     write: bool = False) -> iam.Grant:
        """Least-privilege access to one key prefix: GetObject / PutObject on ``prefix/*``,
        ListBucket limited to the prefix, and the KMS actions that go with them."""
        return self._grant(grantee, prefix, read=read, write=write)

    def _grant(self, grantee: iam.IGrantable, prefix: str, *, read: bool = False,
               write: bool = False) -> iam.Grant:
        if not (read or write):
            raise ConfigurationError(self, "grant", prefix, "Ask for read=True, write=True or both.")
        prefix = prefix.strip("/")
        objects = self.bucket.arn_for_objects(f"{prefix}/*")
        actions = (["s3:GetObject"] if read else []) + (["s3:PutObject", "s3:AbortMultipartUpload"] if write else [])
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[objects])
        if read:
            grant = grant.combine(iam.Grant.add_to_principal(
                grantee=grantee, actions=["s3:ListBucket"], resource_arns=[self.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}))
        if self.encryption_key is not None:
            key_actions = (["kms:Decrypt"] if read else []) + (["kms:Encrypt", "kms:GenerateDataKey"] if write else [])
            grant = grant.combine(iam.Grant.add_to_principal(
                grantee=grantee, actions=sorted(set(key_actions)), resource_arns=[self.encryption_key.key_arn]))
        principal = grantee.grant_principal
        if is_construct(principal):  # a role in this app, not an imported principal
            acknowledge(principal, "AwsSolutions-IAM5",
                        f"object access is limited to the {prefix}/ prefix of the monitoring bucket",
                        resource=objects)
        return grant


def object_basename(scope: Construct, uri: str) -> str | None:
    """The last key segment of an ``s3://`` object URI (the name SageMaker downloads it as), when the
    synthesized URI ends in literal text: a plain string, or a ``Fn::Sub`` / ``Fn::Join`` whose last part
    holds the final '/' (asset URLs, ``bucket.s3_url_for_object(key)``). None otherwise."""
    if not Token.is_unresolved(uri):
        name = uri.rstrip("/").rsplit("/", 1)[-1]
        return name if "/" in uri[len("s3://"):] and name else None
    resolved = Stack.of(scope).resolve(uri)
    tail: object = None
    if isinstance(resolved, dict) and len(resolved) == 1:
        ((fn, arg),) = resolved.items()
        if fn == "Fn::Sub":
            tail = arg if isinstance(arg, str) else None
        elif fn == "Fn::Join" and arg[0] == "" and arg[1]:
            tail = arg[1][-1]
    if not isinstance(tail, str) or "/" not in tail:
        return None
    name = tail.rsplit("/", 1)[-1]
    return name if name and "${" not in name else None
