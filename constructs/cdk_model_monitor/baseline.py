"""Baselines: the statistics and constraints a monitor compares each window with.

Three sources, versioned (a model version label or a content hash):

* ``Baseline.from_directory(path)``: files made locally by ``model-monitor-analyzer baseline``,
  checked at synth and uploaded as file assets;
* ``Baseline.from_s3(statistics_uri, constraints_uri)``: files that already exist in S3;
* ``Baseline.from_dataset(s3_uri)``: a SageMaker Processing job running the analyzer in baseline
  mode at deploy time. A custom resource starts it and CloudFormation waits for it (within the
  one-hour custom-resource ceiling), so whatever depends on ``BoundBaseline.dependency`` (the
  schedule) only exists once its baseline does. With ``scale_out=ScaleOut(...)`` the same custom
  resource runs the analyzer's Spark runner on an EMR Serverless application of its own instead, for a
  dataset of at least ``threshold_bytes`` (or always, with ``always=True``).

``bind`` turns a source into ``BoundBaseline`` (the S3 URIs of the files) and grants the job role
read access to exactly those objects.
"""

from __future__ import annotations

import abc
import enum
import hashlib
import json
import math
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import constructs
from aws_cdk import Acknowledgment, ArnFormat, CustomResource, Duration, Fn, Names, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from . import monitor_types
from .bundled import analyzer_module
from .engines.lambdas import LOG_RETENTION, monitor_function
from .engines.spark_runtime import ENTRY_POINT, SparkRuntime
from .errors import ConfigurationError
from .images import AnalyzerImage
from .nag import acknowledge
from .roles import grant_pass_to_sagemaker
from .scale_out import ScaleOut, check_scale_out
from .storage import MonitoringBucket, object_basename

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
ANALYSIS_FILE = "analysis.json"
# Container paths of a baselining job (contract §6.2, §6.3; the SDK's suggest_baseline uses the same).
BASELINE_DATASET_PATH = "/opt/ml/processing/input/baseline_dataset_input"
BASELINE_OUTPUT_PATH = "/opt/ml/processing/output"
# CloudFormation waits at most one hour for a custom resource. The job gets max_runtime; the rest of
# the hour covers instance provisioning, image pull, upload of the results and polling.
CUSTOM_RESOURCE_CEILING = Duration.minutes(60)
JOB_STARTUP_ALLOWANCE = Duration.minutes(8)
MAX_JOB_RUNTIME = Duration.minutes(50)
POLL_INTERVAL = Duration.seconds(30)
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.*)$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_DQ_TYPES = frozenset({"Integral", "Fractional", "String", "Unknown"})
_MQ_SECTIONS = ("binary_classification", "multiclass_classification", "regression")
#: the analyzer's recognition of its documents, loaded from the file the image runs
_DOCUMENT_KINDS = analyzer_module("document_kinds")
ANALYZER_COMMAND = "model-monitor-analyzer baseline --dataset <your dataset> --output <this folder>"
# Scale-out of a dataset baseline (``from_dataset(..., scale_out=...)``): the baseline types the analyzer's Spark
# runner computes (``baseline --engine spark --type <type>``), each with the analyzer environment variables of
# ``environment`` it takes as command-line flags (those its Processing job's environment reader takes in baseline
# mode: ``monitors/<type>/environment.py``).
SPARK_BASELINE_FLAGS: dict[str, dict[str, str]] = {
    monitor_types.DATA_QUALITY.short_name: {"categorical_drift_method": "--categorical-drift-method",
                                            "drift_method": "--drift-method",
                                            "max_bad_record_ratio": "--max-bad-record-ratio"},
    monitor_types.MODEL_QUALITY.short_name: {"problem_type": "--problem-type",
                                             "inference_attribute": "--inference-attribute",
                                             "probability_attribute": "--probability-attribute",
                                             "probability_threshold_attribute": "--probability-threshold",
                                             "ground_truth_attribute": "--ground-truth-attribute",
                                             "positive_label": "--positive-label",
                                             "comparison": "--comparison",
                                             "max_bad_record_ratio": "--max-bad-record-ratio"},
    # the analysis config goes as ``--analysis-config``; the dataset's format is the config's ``dataset_type``
    monitor_types.MODEL_BIAS.short_name: {"max_bad_record_ratio": "--max-bad-record-ratio"},
}
# ``dataset_format`` kinds the Spark runner reads, with its ``--dataset-format``.
SPARK_DATASET_FORMATS = {"csv": "csv", "json": "json", "parquet": "parquet"}
# Where a bias baseline's Processing job finds the analysis config (Clarify's processing location, which the
# analyzer reads by default).
ANALYSIS_CONFIG_PATH = "/opt/ml/processing/input/config"
# Key prefix (under the baselines prefix, beside the version folders) of the Spark baseline runs' logs; a version
# starts with a letter or digit, so no version folder is called so.
SPARK_LOGS_FOLDER = "_spark-logs"


class BaselineKind(enum.Enum):
    """What a baseline describes, told apart by the files' format."""

    # the analyzer's ``baseline --type``, from the monitor types' table
    DATA_QUALITY = monitor_types.DATA_QUALITY.short_name  # statistics.json + constraints.json (features)
    MODEL_QUALITY = monitor_types.MODEL_QUALITY.short_name  # constraints.json (<problem>_constraints)
    BIAS = monitor_types.MODEL_BIAS.short_name  # Clarify analysis.json, used as the constraints


@dataclass(frozen=True, kw_only=True)
class BoundBaseline:
    """Where a monitor finds its baseline.

    :param statistics_s3_uri: the statistics.json, or None for model-quality / bias baselines
        (constraints only).
    :param constraints_s3_uri: the constraints.json (for bias: the analysis.json used as constraints).
    :param version: model version label or content hash, for tags and report paths.
    :param dependency: what a schedule must depend on (the deploy-time baseline job), or None.
    :param kind: what the files describe, when known at synth.
    :param features: the data-quality features in the statistics' order, when known at synth (a local
        folder); monitors match them with what the endpoint captures.
    :param assets: the CDK file assets the job reads (a local folder's files), in the bootstrap's asset bucket.
    :param encryption_key: the KMS key of baseline objects outside the monitoring bucket (``Baseline.from_s3``).
    """

    statistics_s3_uri: str | None
    constraints_s3_uri: str
    version: str
    dependency: constructs.IDependable | None = None
    kind: BaselineKind | None = None
    features: tuple[str, ...] | None = None
    assets: tuple[s3_assets.Asset, ...] = ()
    encryption_key: kms.IKey | None = None


class DatasetFormat:
    """Format of a baselining dataset: the ``dataset_format`` environment value the analyzer reads (contract §6.2)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = json.loads(json.dumps(dict(document)))

    @staticmethod
    def csv(header: bool = True, *, output_columns_position: str = "START") -> DatasetFormat:
        """CSV files; with ``header=False`` the columns are named ``_c0``, ``_c1``, ... (as the built-in)."""
        if output_columns_position not in ("START", "END"):
            raise ValueError(f"output_columns_position must be 'START' or 'END', got {output_columns_position!r}")
        return DatasetFormat({"csv": {"header": bool(header), "output_columns_position": output_columns_position}})

    @staticmethod
    def json_lines() -> DatasetFormat:
        """One JSON object per line."""
        return DatasetFormat({"json": {"lines": True}})

    @staticmethod
    def parquet() -> DatasetFormat:
        return DatasetFormat({"parquet": {}})

    def to_environment(self) -> str:
        """The JSON text of ``dataset_format``, serialised as the SageMaker SDK does (``json.dumps``)."""
        return json.dumps(self._document)

    @property
    def kind(self) -> str:
        """``csv``, ``json`` or ``parquet``."""
        return next(iter(self._document))

    @property
    def options(self) -> dict[str, Any]:
        """The format's options (``header``, ``output_columns_position`` of CSV)."""
        return dict(self._document[self.kind] or {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatasetFormat) and other._document == self._document

    def __hash__(self) -> int:
        return hash(self.to_environment())

    def __repr__(self) -> str:
        return f"DatasetFormat({self.to_environment()})"


# -- baseline files --------------------------------------------------------------------------


class BaselineDirectoryError(ValueError):
    """A baseline folder is unusable; ``fix`` says what to do."""

    def __init__(self, problem: str, fix: str) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} {fix}")


@dataclass(frozen=True, kw_only=True)
class BaselineFiles:
    """The checked files of a baseline folder."""

    kind: BaselineKind
    statistics: Path | None
    constraints: Path
    features: tuple[str, ...] = ()
    """Data quality: the features of statistics.json, in its order (the order of the dataset's columns)."""

    def content_hash(self) -> str:
        """First 12 hex digits of SHA-256 over each file's name and bytes (statistics first)."""
        digest = hashlib.sha256()
        for path in (self.statistics, self.constraints):
            if path is not None:
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:12]


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BaselineDirectoryError(f"{path} is not valid JSON ({err}).",
                                     f"Recreate it with `{ANALYZER_COMMAND}`.") from None


def _data_quality_features(path: Path, document: Any, *, with_statistics: bool) -> list[str]:
    """Names of the features of a data-quality statistics/constraints document (contract §3, §4)."""
    features = document.get("features")
    if not isinstance(features, list):
        raise BaselineDirectoryError(f"{path} has no 'features' list.",
                                     f"Use the files written by `{ANALYZER_COMMAND}`.")
    names = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("name"), str):
            raise BaselineDirectoryError(f"{path}: features[{index}] has no 'name'.",
                                         f"Use the files written by `{ANALYZER_COMMAND}`.")
        inferred = feature.get("inferred_type")
        if with_statistics and inferred not in _DQ_TYPES:
            raise BaselineDirectoryError(
                f"{path}: feature {feature['name']!r} has inferred_type {inferred!r}, expected one of "
                f"{sorted(_DQ_TYPES)}.", f"Use the files written by `{ANALYZER_COMMAND}`.")
        names.append(feature["name"])
    return names


def _kind_of(path: Path, document: Any, role: str) -> BaselineKind:
    """The monitor type of a statistics or constraints file, by the analyzer's own recognition
    (``model_monitor_analyzer.document_kinds``): a file of another kind says what it is."""
    if not isinstance(document, dict) or not isinstance(document.get("version"), (int, float, str)):
        raise BaselineDirectoryError(f"{path} is not a SageMaker {role} file (no top-level 'version').",
                                     f"Use the files written by `{ANALYZER_COMMAND}`.")
    kinds = _DOCUMENT_KINDS.DocumentKind
    expected = ({kinds.DATA_QUALITY_STATISTICS: BaselineKind.DATA_QUALITY,
                 kinds.MODEL_QUALITY_STATISTICS: BaselineKind.MODEL_QUALITY} if role == "statistics" else
                {kinds.DATA_QUALITY_CONSTRAINTS: BaselineKind.DATA_QUALITY,
                 kinds.MODEL_QUALITY_CONSTRAINTS: BaselineKind.MODEL_QUALITY})
    kind = _DOCUMENT_KINDS.document_kind(document)
    if kind in expected:
        return expected[kind]
    if kind is not None:
        raise BaselineDirectoryError(f"{path} is the {kind.title}, not a {role} file.",
                                     "Keep each file of a baseline run under the name it was written with.")
    if "features" in document:  # a data-quality document with nothing but its features' names
        return BaselineKind.DATA_QUALITY
    suffix = "_metrics" if role == "statistics" else "_constraints"
    raise BaselineDirectoryError(
        f"{path} has neither 'features' (data quality) nor one of "
        f"{[s + suffix for s in _MQ_SECTIONS]} (model quality).",
        f"Use the files written by `{ANALYZER_COMMAND}`.")


def read_baseline_directory(directory: str | Path) -> BaselineFiles:
    """Check a baseline folder and say what it holds.

    Data quality: ``statistics.json`` and ``constraints.json`` in the built-in's format, every
    constrained feature present in the statistics. Model quality: ``constraints.json`` with a
    ``<problem type>_constraints`` section (a ``statistics.json`` beside it is checked, not used).
    Bias: a Clarify ``analysis.json`` (used as the constraints).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise BaselineDirectoryError(f"{folder} is not a folder.",
                                     f"Pass the folder written by `{ANALYZER_COMMAND}`.")
    statistics, constraints, analysis = (folder / STATISTICS_FILE, folder / CONSTRAINTS_FILE, folder / ANALYSIS_FILE)
    if not constraints.is_file() and analysis.is_file():
        document = _load_json(analysis)
        if not isinstance(document, dict) or not (
                _DOCUMENT_KINDS.document_kind(document) is _DOCUMENT_KINDS.DocumentKind.BIAS_ANALYSIS
                or isinstance(document.get("explanations"), dict)):
            raise BaselineDirectoryError(
                f"{analysis} has no pre_training_bias_metrics, post_training_bias_metrics or explanations.",
                "Use the analysis.json of a Clarify (or `model-monitor-analyzer baseline --type bias`) run.")
        return BaselineFiles(kind=BaselineKind.BIAS, statistics=None, constraints=analysis)
    if not constraints.is_file():
        raise BaselineDirectoryError(f"{folder} has no {CONSTRAINTS_FILE}.",
                                     f"Create the baseline with `{ANALYZER_COMMAND}`.")
    constraints_doc = _load_json(constraints)
    kind = _kind_of(constraints, constraints_doc, "constraints")
    if kind is BaselineKind.MODEL_QUALITY:
        if statistics.is_file() and _kind_of(statistics, _load_json(statistics), "statistics") is not kind:
            raise BaselineDirectoryError(f"{statistics} is data-quality statistics but {constraints} holds "
                                         "model-quality constraints.",
                                         "Keep the two files of one baseline run together.")
        return BaselineFiles(kind=kind, statistics=None, constraints=constraints)
    if not statistics.is_file():
        raise BaselineDirectoryError(f"{folder} has no {STATISTICS_FILE} (a data-quality baseline needs both files).",
                                     f"Create the baseline with `{ANALYZER_COMMAND}`.")
    statistics_doc = _load_json(statistics)
    if _kind_of(statistics, statistics_doc, "statistics") is not BaselineKind.DATA_QUALITY:
        raise BaselineDirectoryError(f"{statistics} is model-quality statistics but {constraints} holds "
                                     "data-quality constraints.", "Keep the two files of one baseline run together.")
    profiled = _data_quality_features(statistics, statistics_doc, with_statistics=True)
    constrained = _data_quality_features(constraints, constraints_doc, with_statistics=False)
    known = set(profiled)
    missing = [name for name in constrained if name not in known]
    if missing:
        raise BaselineDirectoryError(
            f"{constraints} constrains features missing from {statistics}: {missing}.",
            "Both files must come from the same baseline run; recreate them together.")
    return BaselineFiles(kind=BaselineKind.DATA_QUALITY, statistics=statistics, constraints=constraints,
                         features=tuple(profiled))


# -- helpers -----------------------------------------------------------------------------------


def short_hash(*parts: Any) -> str:
    """First 12 hex digits of SHA-256 over the canonical JSON of ``parts``."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _check_version(scope: Construct, version: str | None) -> None:
    if version is None:
        return
    if not isinstance(version, str) or Token.is_unresolved(version) or not VERSION_PATTERN.match(version):
        raise ConfigurationError(scope, "version", version,
                                 "Use 1-63 letters, digits, '.', '_' or '-' starting with a letter or digit "
                                 "(e.g. 'v3' or 'churn-model-12'); it becomes part of S3 keys and job names.")


def _check_s3_uri(scope: Construct, prop: str, uri: str | None, *,
                  example: str = "s3://my-bucket/baselines/v3/statistics.json") -> re.Match[str] | None:
    """The parsed URI (None for a token); ConfigurationError for a literal that is not ``s3://bucket/key``."""
    if uri is None or Token.is_unresolved(uri):
        return None
    match = _S3_URI.match(uri)
    if match is None or not match["key"]:
        raise ConfigurationError(scope, prop, uri, f"Use an S3 URI such as '{example}'.")
    return match


def _nag_text(node: Any) -> str:
    """A resolved ARN as cdk-nag 3 prints it in a finding: ``<Logical>`` for Ref, ``<Logical.Attr>`` for
    GetAtt, joins concatenated, an import as its export name, any other intrinsic as compact JSON."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((fn, arg),) = node.items()
        if fn == "Ref" and isinstance(arg, str):
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            return arg[0].join(_nag_text(p) for p in arg[1])
        if fn == "Fn::ImportValue":
            return _nag_text(arg)
    return json.dumps(node, separators=(",", ":"))


def _acknowledge_resource(principal: Any, reason: str, resource: str) -> None:
    rendered = _nag_text(Stack.of(principal).resolve(resource))
    Validations.of(principal).acknowledge(Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{rendered}]", reason=reason))


def _split_s3_uri(stack: Stack, uri: str) -> tuple[str, str] | None:
    """(bucket, key) of an ``s3://`` URI, as strings or tokens; None when the parts cannot be told apart
    at synth (e.g. an imported value)."""
    if not Token.is_unresolved(uri):
        match = _S3_URI.match(uri)
        return (match["bucket"], match["key"]) if match else None
    resolved = stack.resolve(uri)
    if not (isinstance(resolved, dict) and list(resolved) == ["Fn::Join"] and resolved["Fn::Join"][0] == ""):
        return None
    parts = resolved["Fn::Join"][1]
    # ["s3://", <bucket token>, "/key..."], the shape of Bucket.s3_url_for_object and MonitoringBucket.s3_uri
    if (len(parts) >= 3 and parts[0] == "s3://" and not isinstance(parts[1], str)
            and all(isinstance(p, str) for p in parts[2:]) and parts[2].startswith("/")):
        return Token.as_string(parts[1]), "".join(parts[2:])[1:]
    return None


def grant_read_baseline_files(scope: Construct, grantee: iam.IGrantable, bound: BoundBaseline, *,
                              storage: MonitoringBucket) -> None:
    """Let a second reader of a bound baseline (the Spark job's role) read its files, as its ``bind`` let the
    monitor's job role: each object, and the key of those outside the monitoring bucket."""
    for uri in (bound.statistics_s3_uri, bound.constraints_s3_uri):
        if uri is not None:
            _grant_s3_read(scope, grantee, uri, prefix=False, storage=storage)
    if bound.encryption_key is not None:
        bound.encryption_key.grant_decrypt(grantee)


def _grant_s3_read(scope: Construct, grantee: iam.IGrantable, uri: str, *, prefix: bool,
                   storage: MonitoringBucket | None = None) -> None:
    """s3:GetObject on the object ``uri`` (or every object under it with ``prefix``) and s3:ListBucket
    limited to that key (or prefix): what a SageMaker job needs to download an S3 input. A URI inside
    the monitoring bucket goes through its own least-privilege grant (with the KMS key)."""
    stack = Stack.of(scope)
    principal = grantee.grant_principal
    parts = _split_s3_uri(stack, uri)
    if parts is not None and storage is not None and Token.is_unresolved(parts[0]) and \
            stack.resolve(parts[0]) == stack.resolve(storage.bucket.bucket_name):
        if prefix:
            storage.grant_prefix(grantee, parts[1].rstrip("/"), read=True)
            return
        if storage.encryption_key is not None:
            iam.Grant.add_to_principal(grantee=grantee, actions=["kms:Decrypt"],
                                       resource_arns=[storage.encryption_key.key_arn])
    if parts is not None:
        bucket, key = parts
        key = key.rstrip("/") if prefix else key
        objects = stack.format_arn(service="s3", region="", account="", resource=bucket,
                                   resource_name=f"{key}/*" if prefix else key)
        bucket_arn = stack.format_arn(service="s3", region="", account="", resource=bucket)
        listed = [key, f"{key}/*"] if prefix else [key]
        iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket"], resource_arns=[bucket_arn],
                                   conditions={"StringLike": {"s3:prefix": listed}})
    else:
        # "s3://bucket/key" -> "arn:<partition>:s3:::bucket/key"; the bucket is the third '/'-separated part.
        path = Fn.select(1, Fn.split("s3://", uri))
        objects = Fn.join("", ["arn:", stack.partition, ":s3:::", path, "/*" if prefix else ""])
        bucket_arn = Fn.join("", ["arn:", stack.partition, ":s3:::", Fn.select(2, Fn.split("/", uri))])
        iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket"], resource_arns=[bucket_arn])
    iam.Grant.add_to_principal(grantee=grantee, actions=["s3:GetObject"], resource_arns=[objects])
    if prefix and hasattr(principal, "node"):
        _acknowledge_resource(principal, "read access is limited to the objects under the baseline dataset's prefix",
                              objects)


def _grant_s3_list(scope: Construct, grantee: iam.IGrantable, uri: str) -> None:
    """s3:ListBucket limited to the key (prefix) of ``uri``: what adding up a dataset's sizes needs (the whole
    bucket when its parts cannot be told apart at synth)."""
    stack = Stack.of(scope)
    parts = _split_s3_uri(stack, uri)
    if parts is not None:
        bucket, key = parts
        key = key.rstrip("/")
        iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket"],
                                   resource_arns=[stack.format_arn(service="s3", region="", account="", resource=bucket)],
                                   conditions={"StringLike": {"s3:prefix": [key, f"{key}/*"]}})
        return
    bucket_arn = Fn.join("", ["arn:", stack.partition, ":s3:::", Fn.select(2, Fn.split("/", uri))])
    iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket"], resource_arns=[bucket_arn])


def _lower_name(text: str) -> str:
    """Lower-case letters, digits and single hyphens (SageMaker lower-cases job names in ARNs)."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")


# -- sources -----------------------------------------------------------------------------------


class Baseline(abc.ABC):
    """The statistics and constraints a monitor compares with; create one with a ``from_*`` method."""

    def __init__(self, *, version: str | None) -> None:
        self.version = version

    @staticmethod
    def from_directory(path: str, *, version: str | None = None) -> Baseline:
        """Files made locally by ``model-monitor-analyzer baseline`` (``statistics.json`` +
        ``constraints.json``; model quality: ``constraints.json``; bias: ``analysis.json``).

        Checked at synth, uploaded as file assets (not zipped: SageMaker reads the JSON).
        ``version`` defaults to a short hash of the files' content.
        """
        # Absolute now: the asset is staged later by jsii, whose working folder may differ.
        return _DirectoryBaseline(path=str(Path(path).absolute()), version=version)

    @staticmethod
    def from_s3(statistics_uri: str | None, constraints_uri: str, *, version: str | None = None,
                encryption_key: kms.IKey | None = None) -> Baseline:
        """Files already in S3. ``statistics_uri`` is None for model-quality and bias baselines.

        :param version: label for tags and report paths. Default: a short hash of the two URIs.
        :param encryption_key: the KMS key of the objects, if they use SSE-KMS with a customer key.
        """
        return _S3Baseline(statistics_uri=statistics_uri, constraints_uri=constraints_uri, version=version,
                           encryption_key=encryption_key)

    @staticmethod
    def from_dataset(dataset_s3_uri: str, *, dataset_format: DatasetFormat | None = None,
                     version: str | None = None, instance_type: str = "ml.m5.xlarge", volume_size_gb: int = 20,
                     max_runtime: Duration = MAX_JOB_RUNTIME, environment: Mapping[str, str] | None = None,
                     dataset_encryption_key: kms.IKey | None = None, encrypt_volume: bool = True,
                     analysis_config: Mapping[str, Any] | str | None = None,
                     scale_out: ScaleOut | None = None) -> Baseline:
        """A baseline computed at deploy time by a SageMaker Processing job running the analyzer image in
        baseline mode; CloudFormation waits for it. Data quality by default; ``environment`` with
        ``analysis_type`` ``MODEL_QUALITY`` (and ``problem_type``, ``inference_attribute``,
        ``ground_truth_attribute``, ...) makes a model-quality baseline (constraints.json), ``MODEL_BIAS`` with
        ``analysis_config`` a bias baseline (analysis.json).

        :param dataset_s3_uri: S3 prefix (or object) of the baselining dataset.
        :param dataset_format: Default: ``DatasetFormat.csv(header=True)``.
        :param version: folder of the results under the bucket's baselines prefix; a new version runs
            a new job. Default: a short hash of the dataset URI, format and environment.
        :param instance_type: Default ``ml.m5.xlarge``. :param volume_size_gb: Default 20.
        :param max_runtime: the job's limit, at most 50 minutes so that the deployment stays within
            CloudFormation's one-hour wait. Default: 50 minutes.
        :param environment: extra analyzer environment (e.g. ``categorical_drift_method``).
        :param dataset_encryption_key: KMS key of the dataset objects, when SSE-KMS with a customer key.
        :param encrypt_volume: encrypt the job's storage volume with the bucket's key. Default True;
            turn off for instance types with local NVMe storage (e.g. ``ml.m5d``).
        :param analysis_config: bias baselines only (and required there): Clarify's ``analysis_config.json``, as a
            dict (e.g. ``analysis_config(...)`` with its ``dataset_type``), shipped as a file asset, or the S3 URI of
            the file. The dataset's format is the config's ``dataset_type`` (``dataset_format`` does not apply).
        :param scale_out: run the baseline on the analyzer's Spark runner on EMR Serverless when the dataset is
            large: with ``always=True`` every time (and no Processing job is set up); otherwise the custom resource
            adds up the sizes of the dataset's objects at deploy time and runs on Spark when they reach
            ``threshold_bytes``, else the Processing job, as the window planner chooses for a window. The
            baseline gets an EMR Serverless application of its own, sized by this ``ScaleOut`` and stopped when
            idle, and a job role that reads the dataset and writes this version's folder and its logs only; on
            Spark, ``instance_type``, ``volume_size_gb`` and ``encrypt_volume`` do not apply, and ``max_runtime``
            is the job run's timeout. All three baseline types, of CSV, JSON Lines or Parquet datasets;
            ``environment`` may hold the variables the Spark runner has flags for (``SPARK_BASELINE_FLAGS``: data
            quality ``categorical_drift_method``, ``drift_method``, ``max_bad_record_ratio``; model quality
            ``problem_type``, the attributes, ``positive_label``, ``comparison``, ``max_bad_record_ratio``; bias
            ``max_bad_record_ratio``), and the job role reads the analysis config's object too. Works whichever
            engine the monitor uses. Default: None (the Processing job).
        """
        return _DatasetBaseline(
            dataset_s3_uri=dataset_s3_uri, dataset_format=dataset_format or DatasetFormat.csv(header=True),
            dataset_format_given=dataset_format is not None,
            version=version, instance_type=instance_type, volume_size_gb=volume_size_gb, max_runtime=max_runtime,
            environment=dict(environment or {}), dataset_encryption_key=dataset_encryption_key,
            encrypt_volume=encrypt_volume, analysis_config=analysis_config, scale_out=scale_out)

    @abc.abstractmethod
    def bind(self, scope: Construct, *, storage: MonitoringBucket, image: AnalyzerImage,
             job_role: iam.IRole, id: str = "Baseline") -> BoundBaseline:
        """Make the baseline available to a monitor in ``scope`` whose jobs run as ``job_role``
        (granted read access to the baseline files). ``id`` names the child construct when the source
        creates resources (assets, the baseline job)."""


class _DirectoryBaseline(Baseline):
    def __init__(self, *, path: str, version: str | None) -> None:
        super().__init__(version=version)
        self.path = path

    def bind(self, scope: Construct, *, storage: MonitoringBucket, image: AnalyzerImage,
             job_role: iam.IRole, id: str = "Baseline") -> BoundBaseline:
        _check_version(scope, self.version)
        try:
            files = read_baseline_directory(self.path)
        except BaselineDirectoryError as err:
            raise ConfigurationError(scope, "baseline directory", self.path, str(err)) from None
        holder = Construct(scope, id)
        assets: dict[str, s3_assets.Asset] = {}
        for label, path in (("Statistics", files.statistics), ("Constraints", files.constraints)):
            if path is None:
                continue
            assets[label] = s3_assets.Asset(holder, label, path=str(path))
            _grant_asset_read(assets[label], job_role)
        statistics = assets.get("Statistics")
        return BoundBaseline(statistics_s3_uri=statistics.s3_object_url if statistics is not None else None,
                             constraints_s3_uri=assets["Constraints"].s3_object_url,
                             version=self.version or files.content_hash(), kind=files.kind,
                             features=files.features if files.kind is BaselineKind.DATA_QUALITY else None,
                             assets=tuple(assets.values()))


def json_document_file(document: Mapping[str, Any], name: str) -> Path:
    """``document`` written as indented JSON to a file ``name`` in a temporary folder named after the text, to ship
    as a file asset (a stable asset hash; one file per content)."""
    text = json.dumps(dict(document), indent=2) + "\n"
    folder = Path(tempfile.gettempdir()) / "cdk-model-monitor" / hashlib.sha256(text.encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def _grant_asset_read(asset: s3_assets.Asset, grantee: iam.IGrantable) -> None:
    """GetObject on the one asset object, ListBucket limited to its key (no wildcard)."""
    iam.Grant.add_to_principal(grantee=grantee, actions=["s3:GetObject"],
                               resource_arns=[asset.bucket.arn_for_objects(asset.s3_object_key)])
    iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket"], resource_arns=[asset.bucket.bucket_arn],
                               conditions={"StringEquals": {"s3:prefix": asset.s3_object_key}})


class _S3Baseline(Baseline):
    def __init__(self, *, statistics_uri: str | None, constraints_uri: str, version: str | None,
                 encryption_key: kms.IKey | None) -> None:
        super().__init__(version=version)
        self.statistics_uri = statistics_uri
        self.constraints_uri = constraints_uri
        self.encryption_key = encryption_key

    def bind(self, scope: Construct, *, storage: MonitoringBucket, image: AnalyzerImage,
             job_role: iam.IRole, id: str = "Baseline") -> BoundBaseline:
        _check_version(scope, self.version)
        if self.constraints_uri is None:
            raise ConfigurationError(scope, "constraints_uri", None,
                                     "Every baseline has constraints: pass the S3 URI of constraints.json "
                                     "(bias: analysis.json).")
        _check_s3_uri(scope, "statistics_uri", self.statistics_uri)
        _check_s3_uri(scope, "constraints_uri", self.constraints_uri,
                      example="s3://my-bucket/baselines/v3/constraints.json")
        for uri in (self.statistics_uri, self.constraints_uri):
            if uri is not None:
                _grant_s3_read(scope, job_role, uri, prefix=False, storage=storage)
        if self.encryption_key is not None:
            self.encryption_key.grant_decrypt(job_role)
        stack = Stack.of(scope)
        version = self.version or short_hash(stack.resolve(self.statistics_uri), stack.resolve(self.constraints_uri))
        return BoundBaseline(statistics_s3_uri=self.statistics_uri, constraints_s3_uri=self.constraints_uri,
                             version=version, encryption_key=self.encryption_key,
                             kind=BaselineKind.DATA_QUALITY if self.statistics_uri is not None else None)


class _DatasetBaseline(Baseline):
    def __init__(self, *, dataset_s3_uri: str, dataset_format: DatasetFormat, version: str | None,
                 instance_type: str, volume_size_gb: int, max_runtime: Duration, environment: dict[str, str],
                 dataset_encryption_key: kms.IKey | None, encrypt_volume: bool, scale_out: ScaleOut | None,
                 analysis_config: Mapping[str, Any] | str | None = None, dataset_format_given: bool = True) -> None:
        super().__init__(version=version)
        self.dataset_s3_uri = dataset_s3_uri
        self.dataset_format = dataset_format
        self.dataset_format_given = dataset_format_given
        self.analysis_config = analysis_config
        self.instance_type = instance_type
        self.volume_size_gb = volume_size_gb
        self.max_runtime = max_runtime
        self.environment = environment
        self.dataset_encryption_key = dataset_encryption_key
        self.encrypt_volume = encrypt_volume
        self.scale_out = scale_out
        self._jobs: dict[tuple[str, str], BaselineJob] = {}

    def job_environment(self, analysis_config_name: str | None = None) -> dict[str, str]:
        """The analyzer's environment in baseline mode (no baseline files, no schedule name). A bias baseline's
        names the analysis config's file where the Processing job downloads it, when its name is known at synth
        (``analysis_config_name``, by default the last part of a literal URI given as ``analysis_config``);
        else the analyzer finds the config in that folder by its content."""
        environment = {
            **self.environment,
            "dataset_format": self.dataset_format.to_environment(),
            "dataset_source": BASELINE_DATASET_PATH,
            "output_path": BASELINE_OUTPUT_PATH,
            "publish_cloudwatch_metrics": "Disabled",
        }
        config = self.analysis_config
        if analysis_config_name is None and isinstance(config, str) and not Token.is_unresolved(config):
            analysis_config_name = config.rstrip("/").rsplit("/", 1)[-1] or None
        if config is not None and analysis_config_name is not None:
            environment["analysis_config"] = f"{ANALYSIS_CONFIG_PATH}/{analysis_config_name}"
        return environment

    def _validate(self, scope: Construct) -> None:
        _check_version(scope, self.version)
        _check_s3_uri(scope, "dataset_s3_uri", self.dataset_s3_uri, example="s3://my-bucket/datasets/train/")
        if not isinstance(self.dataset_format, DatasetFormat):
            raise ConfigurationError(scope, "dataset_format", self.dataset_format,
                                     "Use DatasetFormat.csv(...), DatasetFormat.json_lines() or DatasetFormat.parquet().")
        if not Token.is_unresolved(self.instance_type) and not _INSTANCE_TYPE.match(self.instance_type):
            raise ConfigurationError(scope, "instance_type", self.instance_type,
                                     "Use an ML instance type such as 'ml.m5.xlarge'.")
        size = self.volume_size_gb
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 16384:
            raise ConfigurationError(scope, "volume_size_gb", size, "Use a whole number of GB from 1 to 16384.")
        seconds = self.max_runtime.to_seconds()
        if not 60 <= seconds <= MAX_JOB_RUNTIME.to_seconds():
            raise ConfigurationError(
                scope, "max_runtime", f"{seconds:g} s",
                f"Use 1 to {MAX_JOB_RUNTIME.to_minutes():g} minutes: CloudFormation waits at most an hour for the "
                "baseline job. For a longer baseline, run `model-monitor-analyzer baseline` yourself and use "
                "Baseline.from_directory or Baseline.from_s3, or baseline a sample of the dataset.")
        reserved = {"dataset_format", "dataset_source", "output_path", "publish_cloudwatch_metrics",
                    "baseline_statistics", "baseline_constraints", "sagemaker_monitoring_schedule_name",
                    "analysis_config"}
        clash = sorted(reserved & set(self.environment))
        if clash:
            raise ConfigurationError(scope, "environment", clash,
                                     "These variables are set by the baseline job (or would switch the analyzer "
                                     "to monitoring mode; the bias config is analysis_config=...); remove them.")
        self._validate_type(scope)
        if self.scale_out is not None:
            self._validate_scale_out(scope)

    def baseline_type(self) -> str:
        """The analyzer's ``baseline --type`` that ``analysis_type`` in ``environment`` selects (data quality when
        unset, as the analyzer's own default)."""
        wanted = str(self.environment.get("analysis_type") or "").strip().upper()
        if wanted in ("", "DATA_QUALITY"):
            return monitor_types.DATA_QUALITY.short_name
        for row in (monitor_types.MODEL_QUALITY, monitor_types.MODEL_BIAS):
            if wanted == row.analysis_type:
                return row.short_name
        return wanted

    def _validate_type(self, scope: Construct) -> None:
        """What each baseline type needs of the dataset and the analysis config."""
        kind = self.baseline_type()
        if kind not in {k.value for k in BaselineKind}:
            raise ConfigurationError(scope, "environment", {"analysis_type": self.environment["analysis_type"]},
                                     "Use DATA_QUALITY (the default), MODEL_QUALITY or MODEL_BIAS.")
        config = self.analysis_config
        if kind != BaselineKind.BIAS.value:
            if config is not None:
                raise ConfigurationError(scope, "analysis_config", "...",
                                         "Only bias baselines read an analysis config: set environment "
                                         '{"analysis_type": "MODEL_BIAS"}, or remove analysis_config.')
            if kind == BaselineKind.MODEL_QUALITY.value and self.dataset_format.kind == "parquet" and not (
                    isinstance(self.scale_out, ScaleOut) and self.scale_out.always):
                raise ConfigurationError(scope, "dataset_format", self.dataset_format,
                                         "The Processing job reads model-quality datasets in CSV or JSON Lines: use "
                                         "one of those, or ScaleOut(always=True) to baseline Parquet on Spark.")
            return
        if config is None:
            raise ConfigurationError(scope, "analysis_config", None,
                                     "A bias baseline needs Clarify's analysis config: pass analysis_config= a dict "
                                     "(e.g. analysis_config(label=..., facets=...) with its dataset_type) or the S3 "
                                     "URI of analysis_config.json.")
        if isinstance(config, str):
            _check_s3_uri(scope, "analysis_config", config, example="s3://my-bucket/configs/analysis_config.json")
        elif isinstance(config, Mapping):
            try:
                json.dumps(dict(config))
            except (TypeError, ValueError) as err:
                raise ConfigurationError(scope, "analysis_config", type(config).__name__,
                                         f"Use a dict of JSON values ({err}).") from None
        else:
            raise ConfigurationError(scope, "analysis_config", type(config).__name__,
                                     "Use a dict (Clarify's analysis_config.json) or an S3 URI of the file.")
        if self.dataset_format_given:
            raise ConfigurationError(scope, "dataset_format", self.dataset_format,
                                     "A bias baseline reads the dataset as its analysis config's dataset_type says "
                                     "(text/csv, application/jsonlines, ...): set it there and remove dataset_format.")

    def _validate_scale_out(self, scope: Construct) -> None:
        """What the Spark runner cannot run is refused at synth, in one line with the fix (the tables
        ``SPARK_BASELINE_FLAGS`` and ``SPARK_DATASET_FORMATS`` say what it runs)."""
        # the baseline is a deploy-time job of its own, not a Model Monitor schedule: any engine may use it
        check_scale_out(scope, self.scale_out, standalone=True)
        kind = self.baseline_type()
        flags = SPARK_BASELINE_FLAGS[kind]  # every type (``_validate_type`` refused any other)
        if kind != BaselineKind.BIAS.value and self.dataset_format.kind not in SPARK_DATASET_FORMATS:
            raise ConfigurationError(scope, "dataset_format", self.dataset_format,
                                     "The analyzer's Spark runner reads CSV, JSON Lines and Parquet datasets: use "
                                     "DatasetFormat.csv(...), DatasetFormat.json_lines() or DatasetFormat.parquet(), "
                                     "or remove scale_out.")
        unknown = sorted(set(self.environment) - set(flags) - {"analysis_type"})
        if unknown:
            raise ConfigurationError(scope, "environment", unknown,
                                     "The Spark runner takes its settings as command-line flags and has none for "
                                     f"these variables (it takes {', '.join(sorted(flags))}): remove them, or "
                                     "remove scale_out.")

    def spark_arguments(self, output_s3_uri: str, analysis_config_s3_uri: str | None = None) -> list[str]:
        """The Spark job's ``entryPointArguments``: the analyzer's ``baseline`` command line reading the dataset
        by its S3 URI and writing the version folder, with the settings the Processing job gets as its
        environment (``job_environment``) and inputs (a bias baseline's analysis config: ``analysis_config_s3_uri``,
        the bound config's URI, by default the URI given). ``--overwrite``: a rerun of a version replaces its
        files, as the Processing job's upload does."""
        kind = self.baseline_type()
        arguments = ["baseline", "--engine", "spark", "--type", kind, "--dataset", self.dataset_s3_uri,
                     "--output", output_s3_uri]
        if kind == BaselineKind.BIAS.value:
            # the dataset's format is the config's dataset_type, on either runner
            config = analysis_config_s3_uri or self.analysis_config
            if not isinstance(config, str):
                raise TypeError("a bias baseline's Spark arguments need the S3 URI of its bound analysis config")
            arguments += ["--analysis-config", config, "--overwrite"]
        else:
            arguments += ["--dataset-format", SPARK_DATASET_FORMATS[self.dataset_format.kind], "--overwrite"]
            options = self.dataset_format.options
            if self.dataset_format.kind == "csv" and not options.get("header", True):
                arguments.append("--no-header")
            if self.dataset_format.kind == "csv" and kind == BaselineKind.DATA_QUALITY.value:
                # where a captured row's output columns are: data quality's only (model quality names its columns)
                arguments += ["--output-columns-position", str(options.get("output_columns_position", "START"))]
        flags = SPARK_BASELINE_FLAGS[kind]
        for name, value in sorted(self.environment.items()):
            if name in flags:
                arguments += [flags[name], value]
        return arguments

    def bind(self, scope: Construct, *, storage: MonitoringBucket, image: AnalyzerImage,
             job_role: iam.IRole, id: str = "Baseline") -> BoundBaseline:
        self._validate(scope)
        stack = Stack.of(scope)
        # a bias baseline's config is part of what it is (a new config, a new version)
        config = () if self.analysis_config is None else (
            dict(self.analysis_config) if isinstance(self.analysis_config, Mapping) else
            stack.resolve(self.analysis_config),)
        version = self.version or short_hash(stack.resolve(self.dataset_s3_uri), self.job_environment(), *config)
        # One job per bucket and version: a second monitor bound to the same baseline waits for the same job.
        key = (storage.node.path, version)
        job = self._jobs.get(key)
        if job is None:
            job = BaselineJob(scope, id, baseline=self, version=version, storage=storage, image=image,
                              job_role=job_role)
            self._jobs[key] = job
        else:
            storage.grant_prefix(job_role, f"{storage.prefixes.baselines}/{version}", read=True)
        return BoundBaseline(statistics_s3_uri=job.statistics_s3_uri, constraints_s3_uri=job.constraints_s3_uri,
                             version=version, dependency=job.resource, kind=BaselineKind(self.baseline_type()))


# -- the deploy-time baseline job ---------------------------------------------------------------


class BaselineJob(Construct):
    """A custom resource that runs one baselining job and waits for it: a SageMaker Processing job, or with
    ``scale_out`` a job run of the analyzer's Spark runner on an EMR Serverless application of its own.

    Provider framework with ``on_event`` (starts the job, or finds the one this version already ran)
    and ``is_complete`` (polls DescribeProcessingJob / GetJobRun; a failed or stopped job fails the deployment
    with the job's failure reason or state details) Lambdas from ``lambda/baseline_job``. Delete keeps the
    baseline (stops the job if it is still running). Results: ``<bucket>/<baselines prefix>/<version>/``.
    """

    def __init__(self, scope: Construct, id: str, *, baseline: _DatasetBaseline, version: str,
                 storage: MonitoringBucket, image: AnalyzerImage, job_role: iam.IRole) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.version = version
        self.job_name_prefix = _lower_name(Names.unique_resource_name(self, max_length=30, separator="-"))
        self.output_s3_uri = storage.s3_uri(storage.prefixes.baselines, version)
        kind = BaselineKind(baseline.baseline_type())
        # the files a monitor reads: statistics and constraints of data quality, the constraints of model quality,
        # the analysis of bias (its constraints)
        self.statistics_s3_uri: str | None = (f"{self.output_s3_uri}/{STATISTICS_FILE}"
                                              if kind is BaselineKind.DATA_QUALITY else None)
        self.constraints_s3_uri = f"{self.output_s3_uri}/{ANALYSIS_FILE if kind is BaselineKind.BIAS else CONSTRAINTS_FILE}"
        #: a bias baseline's analysis config: the file asset of a dict, else None
        self.analysis_config_asset: s3_assets.Asset | None = None
        #: the S3 URI of a bias baseline's analysis config, which the job reads, else None
        self.analysis_config_s3_uri: str | None = None
        if isinstance(baseline.analysis_config, Mapping):
            self.analysis_config_asset = s3_assets.Asset(
                self, "AnalysisConfig", path=str(json_document_file(baseline.analysis_config, "analysis_config.json")))
            self.analysis_config_s3_uri = self.analysis_config_asset.s3_object_url
        elif isinstance(baseline.analysis_config, str):
            self.analysis_config_s3_uri = baseline.analysis_config
        #: the EMR Serverless application and job role of a scaled-out baseline, else None
        self.spark: SparkRuntime | None = None
        scale_out = baseline.scale_out
        #: whether the Processing job may run: always without scale_out, and with it unless ``always`` (then the
        #: handler chooses by the dataset's size at deploy time)
        self.processing = scale_out is None or not scale_out.always
        version_prefix = f"{storage.prefixes.baselines}/{version}"
        requests: dict[str, dict[str, Any]] = {}
        if self.processing:
            requests["ProcessingJobRequest"] = self._processing_request(baseline, storage, image, job_role,
                                                                        version_prefix)
        else:
            # the monitor's jobs only read the baseline; the Spark job role makes it
            storage.grant_prefix(job_role, version_prefix, read=True)
        if scale_out is not None:
            self.spark = SparkRuntime(self, "Spark", scale_out=scale_out, placement=None,
                                      role_description="Runs one deploy-time baseline job on Spark")
            requests["SparkJobRunRequest"] = self._spark_request(baseline, storage, self.spark, version_prefix)
        #: the request the custom resource makes (the Processing job's when it may run either)
        self.request = next(iter(requests.values()))

        # The custom resource's own functions.
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION)
        self._functions(stack, baseline, job_role)

        total_timeout = baseline.max_runtime.plus(JOB_STARTUP_ALLOWANCE)
        self.provider = cr.Provider(
            self, "Provider", on_event_handler=self.on_event, is_complete_handler=self.is_complete,
            query_interval=POLL_INTERVAL, total_timeout=total_timeout, log_group=self.log_group,
            framework_on_event_role=self._lambda_role("FrameworkOnEventRole"),
            framework_complete_and_timeout_role=self._lambda_role("FrameworkWaiterRole"),
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL,
                                                           include_execution_data=False))
        self._configure_waiter()
        self._acknowledge_provider(stack)

        self.resource = CustomResource(
            self, "Resource", service_token=self.provider.service_token,
            resource_type="Custom::ModelMonitorBaseline",
            properties={
                "JobNamePrefix": self.job_name_prefix,
                "Version": version,
                "OutputS3Uri": self.output_s3_uri,
                **{name: stack.to_json_string(request) for name, request in requests.items()},
                # both requests: datasets of at least this many bytes run on Spark
                **({"SparkThresholdBytes": str(scale_out.threshold_bytes)}
                   if scale_out is not None and self.processing else {}),
            })
        # The job must find its role's permissions in place when it starts.
        for role in ([job_role] if self.processing else []) + ([self.spark.job_role] if self.spark else []):
            self.resource.node.add_dependency(role)

    def _processing_request(self, baseline: _DatasetBaseline, storage: MonitoringBucket, image: AnalyzerImage,
                            job_role: iam.IRole, version_prefix: str) -> dict[str, Any]:
        """The CreateProcessingJob request (without its name), once the monitor's job role, which runs it, may read
        the dataset, write the version folder and its logs, and pull the image."""
        stack = Stack.of(self)
        storage.grant_prefix(job_role, version_prefix, read=True, write=True)
        _grant_s3_read(self, job_role, baseline.dataset_s3_uri, prefix=True, storage=storage)
        if baseline.dataset_encryption_key is not None:
            baseline.dataset_encryption_key.grant_decrypt(job_role)
        self._grant_read_analysis_config(job_role, storage)
        bound_image = image.bind(self, grantee=job_role)
        job_logs = stack.format_arn(service="logs", resource="log-group",
                                    resource_name="/aws/sagemaker/ProcessingJobs:*",
                                    arn_format=ArnFormat.COLON_RESOURCE_NAME)
        iam.Grant.add_to_principal(
            grantee=job_role, resource_arns=[job_logs],
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"])
        if getattr(job_role, "node", None) is not None:
            acknowledge(job_role, "AwsSolutions-IAM5",
                        "SageMaker writes one log stream per processing job in /aws/sagemaker/ProcessingJobs",
                        resource=job_logs)

        key = storage.encryption_key
        self.volume_key = volume_key = key if (key is not None and baseline.encrypt_volume) else None
        cluster: dict[str, Any] = {"InstanceCount": 1, "InstanceType": baseline.instance_type,
                                   "VolumeSizeInGB": baseline.volume_size_gb}
        if volume_key is not None:
            cluster["VolumeKmsKeyId"] = volume_key.key_arn
        output_config: dict[str, Any] = {"Outputs": [{
            "OutputName": "baseline",
            "S3Output": {"S3Uri": self.output_s3_uri, "LocalPath": BASELINE_OUTPUT_PATH, "S3UploadMode": "EndOfJob"},
        }]}
        if key is not None:
            output_config["KmsKeyId"] = key.key_arn
        return {
            "RoleArn": job_role.role_arn,
            "AppSpecification": {"ImageUri": bound_image.image_uri},
            "Environment": baseline.job_environment(self._analysis_config_name()),
            "ProcessingInputs": [{
                "InputName": "baseline_dataset_input",
                "S3Input": {"S3Uri": baseline.dataset_s3_uri, "LocalPath": BASELINE_DATASET_PATH,
                            "S3DataType": "S3Prefix", "S3InputMode": "File",
                            "S3DataDistributionType": "FullyReplicated"},
            }, *([{
                # a bias baseline's config, where the analyzer looks for it (Clarify's processing location)
                "InputName": "analysis_config",
                "S3Input": {"S3Uri": self.analysis_config_s3_uri, "LocalPath": ANALYSIS_CONFIG_PATH,
                            "S3DataType": "S3Prefix", "S3InputMode": "File",
                            "S3DataDistributionType": "FullyReplicated"},
            }] if self.analysis_config_s3_uri is not None else [])],
            "ProcessingOutputConfig": output_config,
            "ProcessingResources": {"ClusterConfig": cluster},
            "StoppingCondition": {"MaxRuntimeInSeconds": int(baseline.max_runtime.to_seconds())},
            # the analyzer reads and writes local files only (SageMaker moves them to and from S3); the
            # built-in images keep their network, as on the monitors (JobNetwork)
            "NetworkConfig": {"EnableInterContainerTrafficEncryption": True,
                              "EnableNetworkIsolation": not image.is_builtin},
            "Tags": [{"Key": "cdk-model-monitor:baseline-version", "Value": self.version}],
        }

    def _spark_request(self, baseline: _DatasetBaseline, storage: MonitoringBucket, spark: SparkRuntime,
                       version_prefix: str) -> dict[str, Any]:
        """The StartJobRun request (without its name and client token, which the handler adds): the analyzer's
        ``baseline`` command line under spark-submit, on an application of the baseline's own, as a role that
        reads the dataset and writes the version folder and the runs' logs, with the monitoring key."""
        role = spark.job_role
        # the version folder: read (an earlier run's files are found), written, and an earlier run's files removed
        storage.grant_prefix(role, version_prefix, read=True, write=True)
        iam.Grant.add_to_principal(grantee=role, actions=["s3:DeleteObject"],
                                   resource_arns=[storage.bucket.arn_for_objects(f"{version_prefix}/*")])
        self.spark_logs_prefix = f"{storage.prefixes.baselines}/{SPARK_LOGS_FOLDER}/{self.version}"
        storage.grant_prefix(role, self.spark_logs_prefix, write=True)
        _grant_s3_read(self, role, baseline.dataset_s3_uri, prefix=True, storage=storage)
        if baseline.dataset_encryption_key is not None:
            baseline.dataset_encryption_key.grant_decrypt(role)
        self._grant_read_analysis_config(role, storage)
        logs_configuration: dict[str, Any] = {"logUri": storage.s3_uri(self.spark_logs_prefix) + "/"}
        key = storage.encryption_key
        if key is not None:
            # the logs are encrypted with the monitoring key, which the job role uses for them
            logs_configuration["encryptionKeyArn"] = key.key_arn
            key.grant(role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
        runtime_minutes = max(1, math.ceil(baseline.max_runtime.to_seconds() / 60))
        return {
            "applicationId": spark.application.attr_application_id,
            "executionRoleArn": role.role_arn,
            "jobDriver": {"sparkSubmit": {
                "entryPoint": ENTRY_POINT,
                "entryPointArguments": baseline.spark_arguments(self.output_s3_uri, self.analysis_config_s3_uri),
                "sparkSubmitParameters": spark.submit_parameters(),
            }},
            "executionTimeoutMinutes": runtime_minutes,
            "configurationOverrides": {"monitoringConfiguration": {"s3MonitoringConfiguration": logs_configuration}},
            "tags": {"cdk-model-monitor:baseline-version": self.version},
        }

    def _grant_read_analysis_config(self, grantee: iam.IGrantable, storage: MonitoringBucket) -> None:
        """Let a job read a bias baseline's analysis config: that one object (and its key in the monitoring
        bucket)."""
        if self.analysis_config_asset is not None:
            _grant_asset_read(self.analysis_config_asset, grantee)
        elif self.analysis_config_s3_uri is not None:
            _grant_s3_read(self, grantee, self.analysis_config_s3_uri, prefix=False, storage=storage)

    def _analysis_config_name(self) -> str | None:
        """The file name the Processing job downloads the analysis config as, when known at synth."""
        if self.analysis_config_s3_uri is None:
            return None
        return object_basename(self, self.analysis_config_s3_uri)

    def _function(self, name: str, handler: str, statements: list[iam.PolicyStatement],
                  acknowledged: list[tuple[str, str]]) -> lambda_.Function:
        """A handler of ``lambda/baseline_job`` whose role holds ``statements`` and writes this construct's logs;
        ``acknowledged``: (resource, reason) of each of its wildcards."""
        role = self._lambda_role(f"{name}Role")
        for statement in statements:
            role.add_to_policy(statement)
        for resource, reason in acknowledged:
            acknowledge(role, "AwsSolutions-IAM5", reason, resource=resource)
        return monitor_function(
            self, name, code="baseline_job", handler=handler, role=role, log_group=self.log_group,
            timeout=Duration.minutes(1), environment={"JOB_NAME_PREFIX": self.job_name_prefix},
            description=f"Baseline job {name} of {self.node.path}")

    def _functions(self, stack: Stack, baseline: _DatasetBaseline, job_role: iam.IRole) -> None:
        """``on_event`` and ``is_complete``, with what each needs of the Processing job (its jobs under this
        construct's name prefix) and of Spark (the runs of the baseline's own application), and no more."""
        on_event: list[iam.PolicyStatement] = []
        is_complete: list[iam.PolicyStatement] = []
        acknowledged: list[tuple[str, str]] = []
        if self.processing:
            job_arns = stack.format_arn(service="sagemaker", resource="processing-job",
                                        resource_name=f"{self.job_name_prefix}-*")
            on_event.append(iam.PolicyStatement(actions=[
                "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
                "sagemaker:AddTags"], resources=[job_arns]))
            is_complete.append(iam.PolicyStatement(actions=["sagemaker:DescribeProcessingJob"], resources=[job_arns]))
            acknowledged.append((job_arns, "job names are made at deploy time (version hash + retry number) under "
                                           "this construct's own job-name prefix"))
        spark = self.spark
        if spark is not None:
            # start, find, read and cancel the runs of the baseline's own application; pass its job role to EMR
            # Serverless only; the poller only reads them
            runs = spark.job_runs_arn()
            on_event += [
                iam.PolicyStatement(actions=["emr-serverless:StartJobRun", "emr-serverless:ListJobRuns"],
                                    resources=[spark.application_arn]),
                iam.PolicyStatement(actions=["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun",
                                             "emr-serverless:TagResource"], resources=[runs]),
                iam.PolicyStatement(actions=["iam:PassRole"], resources=[spark.job_role.role_arn], conditions={
                    "StringLike": {"iam:PassedToService": "emr-serverless.amazonaws.com"}}),
            ]
            is_complete.append(iam.PolicyStatement(actions=["emr-serverless:GetJobRun"], resources=[runs]))
            acknowledged.append((runs, "job runs are created at deploy time in this baseline's own EMR Serverless "
                                       "application"))
        self.on_event = self._function("OnEvent", "on_event", on_event, acknowledged)
        self.is_complete = self._function("IsComplete", "is_complete", is_complete, acknowledged)
        if spark is not None and self.processing:
            # the handler adds up the dataset's sizes to choose between the Processing job and Spark
            _grant_s3_list(self, self.on_event, baseline.dataset_s3_uri)
        if not self.processing:
            return
        grant_pass_to_sagemaker(job_role, self.on_event)
        volume_key = self.volume_key
        if volume_key is not None:
            # The caller of CreateProcessingJob lets SageMaker use the key for the job's volume.
            self.on_event.add_to_role_policy(iam.PolicyStatement(actions=["kms:DescribeKey"],
                                                                 resources=[volume_key.key_arn]))
            # the condition applies to CreateGrant only: DescribeKey has no such key, and would be denied under it
            self.on_event.add_to_role_policy(iam.PolicyStatement(
                actions=["kms:CreateGrant"], resources=[volume_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}}))

    @property
    def job_name(self) -> str:
        """Name of the job (or Spark job run) that made this baseline (known at deploy time)."""
        return self.resource.get_att_string("ProcessingJobName" if self.spark is None else "JobName")

    def _lambda_role(self, id: str) -> iam.Role:
        """An explicit role writing only to this construct's log group (no managed policy)."""
        role = iam.Role(self, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.log_group.grant_write(role)
        return role

    def _configure_waiter(self) -> None:
        """X-Ray tracing on the Provider's waiter state machine (cdk-nag reads the L1 property)."""
        waiter = self.provider.node.try_find_child("waiter-state-machine")
        if waiter is None:
            return
        # the Provider's own children: a StateMachine whose L1 is a CfnStateMachine, and its role
        cast(sfn.CfnStateMachine, waiter.node.default_child).tracing_configuration = (
            sfn.CfnStateMachine.TracingConfigurationProperty(enabled=True))
        cast(iam.IRole, waiter.node.find_child("Role")).add_to_principal_policy(iam.PolicyStatement(
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                     "xray:GetSamplingTargets"], resources=["*"]))

    def _acknowledge_provider(self, stack: Stack) -> None:
        """The wildcards the Provider framework needs and cannot avoid, one finding at a time."""
        framework: list[lambda_.IFunction] = [self.on_event, self.is_complete]
        for child_id in ("framework-isComplete", "framework-onTimeout", "framework-onEvent"):
            child = self.provider.node.try_find_child(child_id)
            if child is not None:
                framework.append(cast(lambda_.IFunction, child))  # the Provider's framework functions
        for fn in framework:
            acknowledge(self, "AwsSolutions-IAM5",
                        "the Provider framework invokes this function's versions and aliases (<arn>:*)",
                        resource=f"{fn.function_arn}:*")
        acknowledge(self.provider, "AwsSolutions-IAM5",
                    "log delivery and X-Ray actions of the waiter state machine accept no resource ARN",
                    resource="*")
