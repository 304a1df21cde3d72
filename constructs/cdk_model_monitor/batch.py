"""Batch transform jobs as a monitored source: their data capture, and how monitors read it.

A transform job with ``DataCaptureConfig`` writes **manifests**, not copies of its data: under the
destination, ``input/yyyy/mm/dd/HH/<uuid>.json`` and ``output/yyyy/mm/dd/HH/<uuid>.json`` (HH = the job's
start hour, UTC), each ``[{"prefix": "s3://..."}, "<key>", ...]`` naming the job's input and output files
(contract §1.3). ``BatchTransformCapture`` gives that configuration for your transform jobs, in the
monitoring bucket; ``BatchTransformSource`` is what a monitor watches instead of an endpoint.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Names, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .errors import ConfigurationError
from .storage import MonitoringBucket

# Under the monitoring bucket's capture prefix, beside the endpoints' folders.
BATCH_CAPTURE_FOLDER = "batch-transform"
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_JOB_NAME_PREFIX = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*-*$")


class BatchTransformCapture(Construct):
    """Where transform jobs of one model capture their data: ``<capture prefix>/batch-transform/<name>`` of the
    monitoring bucket, encrypted with its key, with inference ids on.

    Give your transform jobs ``data_capture_config`` (boto3's ``create_transform_job(DataCaptureConfig=...)``,
    the SageMaker Python SDK's ``BatchDataCaptureConfig(destination_s3_uri=..., kms_key_id=...,
    generate_inference_id=True)``, a Pipelines ``TransformStep``), and their role ``grant_write(role)``.

    :param storage: the monitoring bucket.
    :param name: the capture folder's name, e.g. the model's name (SageMaker name rules). Default: a name
        unique in the app, derived from the construct path.
    :param generate_inference_id: SageMaker appends an inference id and time to each output record (needed to
        join ground truth by inference id). Default: True.
    """

    def __init__(self, scope: Construct, id: str, *, storage: MonitoringBucket, name: str | None = None,
                 generate_inference_id: bool = True) -> None:
        super().__init__(scope, id)
        if not isinstance(storage, MonitoringBucket):
            raise ConfigurationError(self, "storage", storage, "Pass storage=MonitoringBucket(...).")
        if name is not None and (not isinstance(name, str) or not _NAME.match(name)):
            raise ConfigurationError(self, "name", name, "Use 1-63 letters, digits and hyphens, starting and ending "
                                     "with a letter or digit, e.g. 'churn-model'.")
        if not isinstance(generate_inference_id, bool):
            raise ConfigurationError(self, "generate_inference_id", generate_inference_id, "Use True or False.")
        self.storage = storage
        self.name = name or Names.unique_resource_name(self, max_length=63, separator="-")
        self.generate_inference_id = generate_inference_id

    @property
    def prefix(self) -> str:
        """Key prefix of the captures in the monitoring bucket (no slash at either end)."""
        return f"{self.storage.prefixes.capture}/{BATCH_CAPTURE_FOLDER}/{self.name}"

    @property
    def destination_s3_uri(self) -> str:
        """``DataCaptureConfig.DestinationS3Uri`` (a token until deployment when the bucket is created here)."""
        return self.storage.s3_uri(self.prefix)

    @property
    def kms_key(self) -> kms.IKey | None:
        """The monitoring key the captures are encrypted with (None for a bucket without SSE-KMS)."""
        return self.storage.encryption_key

    @property
    def kms_key_id(self) -> str | None:
        """``DataCaptureConfig.KmsKeyId``: the monitoring key's ARN."""
        key = self.kms_key
        return key.key_arn if key is not None else None

    @property
    def data_capture_config(self) -> dict[str, Any]:
        """The transform job's ``DataCaptureConfig`` as the API spells it (boto3, a Pipelines definition):
        ``{"DestinationS3Uri", "KmsKeyId", "GenerateInferenceId"}``. Its values are CDK tokens when the bucket or
        key is created in this app: use it inside the app (a ``CfnPipeline`` definition, a Lambda's environment
        through ``data_capture_config_json``), or export it with a ``CfnOutput``."""
        config: dict[str, Any] = {"DestinationS3Uri": self.destination_s3_uri}
        if self.kms_key_id is not None:
            config["KmsKeyId"] = self.kms_key_id
        config["GenerateInferenceId"] = self.generate_inference_id
        return config

    @property
    def data_capture_config_json(self) -> str:
        """``data_capture_config`` as a JSON string (a token resolved at deployment), e.g. for a Lambda's
        environment or a ``CfnOutput`` that a boto3 program reads."""
        return Stack.of(self).to_json_string(self.data_capture_config)

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (the transform job's execution role) write the manifests: PutObject on this capture's
        prefix only, and encrypt with the monitoring key."""
        return self.storage.grant_prefix(grantee, self.prefix, write=True)

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` list and read the manifests (the window planner, SageMaker's monitoring jobs)."""
        return self.storage.grant_prefix(grantee, self.prefix, read=True)


@dataclass(frozen=True)
class BatchDataFormat:
    """The format of the transform job's input and output files: ``BatchDataFormat.csv(header=False)``,
    ``BatchDataFormat.json_lines()`` or ``BatchDataFormat.parquet()`` (SageMaker's ``DatasetFormat``)."""

    kind: str
    header: bool = False

    @staticmethod
    def csv(*, header: bool = False) -> BatchDataFormat:
        """CSV files; ``header``: whether each file starts with a header line (SageMaker's ``Csv.Header``)."""
        return BatchDataFormat("csv", header=header)

    @staticmethod
    def json_lines() -> BatchDataFormat:
        """JSON Lines files: one JSON object per line (SageMaker's ``Json.Line``)."""
        return BatchDataFormat("json")

    @staticmethod
    def parquet() -> BatchDataFormat:
        """Parquet files."""
        return BatchDataFormat("parquet")

    def to_environment(self) -> str:
        """The analyzer's ``dataset_format`` (contract §6.2: lowercase keys)."""
        if self.kind == "csv":
            return json.dumps({"csv": {"header": self.header}})
        if self.kind == "json":
            return json.dumps({"json": {"line": True}})
        return json.dumps({"parquet": {}})

    def to_cfn(self, d: Any) -> Any:
        """``DatasetFormat`` of a typed job definition ``d`` (``CfnDataQualityJobDefinition``, ...)."""
        if self.kind == "csv":
            return d.DatasetFormatProperty(csv=d.CsvProperty(header=self.header))
        if self.kind == "json":
            return d.DatasetFormatProperty(json=d.JsonProperty(line=True))
        return d.DatasetFormatProperty(parquet=True)


class BatchTrigger(enum.Enum):
    """When a batch monitor analyses.

    ``JOB_COMPLETED``: once per transform job, when EventBridge reports it ``Completed``; the window is the job's
    start to end (standalone engine only; its default). ``SCHEDULE``: on the monitor's schedule, every job whose
    manifests are in the window's hour folders (the native engine's only way; SageMaker runs the schedule).
    """

    JOB_COMPLETED = "job-completed"
    SCHEDULE = "schedule"


@dataclass(frozen=True, kw_only=True)
class BatchTransformSource:
    """Transform jobs that a monitor watches instead of an endpoint.

    :param capture: the jobs' ``BatchTransformCapture``.
    :param dataset_format: the format of the jobs' input and output files (``BatchDataFormat``).
    :param job_name_prefix: only transform jobs whose name starts with this start a window
        (``BatchTrigger.JOB_COMPLETED``). Default: every completed job of the account and region; a job without
        captures under ``capture`` ends as NoData.
    :param trigger: Default: ``BatchTrigger.JOB_COMPLETED`` on the standalone engine, ``SCHEDULE`` on the native one.
    :param data_buckets: the buckets of the jobs' input and output files, which the monitoring jobs read (the
        manifests name them). Default: none (grant the monitor's ``job_role`` read access yourself).
    """

    capture: BatchTransformCapture
    dataset_format: BatchDataFormat
    job_name_prefix: str | None = None
    trigger: BatchTrigger | None = None
    data_buckets: Sequence[s3.IBucket] = field(default_factory=tuple)

    def validate(self, scope: Construct, prop: str) -> None:
        """Raise ``ConfigurationError`` for settings that cannot work."""
        if not isinstance(self.capture, BatchTransformCapture):
            raise ConfigurationError(scope, f"{prop}.capture", self.capture,
                                     "Use a BatchTransformCapture(scope, id, storage=...).")
        if not isinstance(self.dataset_format, BatchDataFormat):
            raise ConfigurationError(scope, f"{prop}.dataset_format", self.dataset_format,
                                     "Use BatchDataFormat.csv(header=...), BatchDataFormat.json_lines() or "
                                     "BatchDataFormat.parquet().")
        prefix = self.job_name_prefix
        if prefix is not None and not Token.is_unresolved(prefix) and (
                not isinstance(prefix, str) or not _JOB_NAME_PREFIX.match(prefix) or len(prefix) > 62):
            raise ConfigurationError(scope, f"{prop}.job_name_prefix", prefix,
                                     "Use the start of your transform jobs' names: letters, digits and hyphens, "
                                     "e.g. 'nightly-churn-'.")
        if self.trigger is not None and not isinstance(self.trigger, BatchTrigger):
            raise ConfigurationError(scope, f"{prop}.trigger", self.trigger,
                                     "Use BatchTrigger.JOB_COMPLETED or BatchTrigger.SCHEDULE.")
        buckets: object = self.data_buckets
        if isinstance(buckets, (str, bytes)) or not isinstance(buckets, Sequence) or \
                not all(hasattr(b, "bucket_arn") for b in buckets):
            raise ConfigurationError(scope, f"{prop}.data_buckets", self.data_buckets,
                                     "Use a list of buckets, e.g. [s3.Bucket.from_bucket_name(self, 'Data', ...)].")
