"""Baselines: files from a folder, from S3, or from a deploy-time baseline job; their grants and checks."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from syrupy.extensions.json import JSONSnapshotExtension

from cdk_model_monitor.baseline import (
    BASELINE_DATASET_PATH,
    Baseline,
    BaselineJob,
    BaselineKind,
    BoundBaseline,
    DatasetFormat,
    read_baseline_directory,
)
from cdk_model_monitor.errors import ConfigurationError
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.storage import MonitoringBucket

from .conftest import REPO_ROOT, cfn_lint_findings, nag_findings, new_app, normalize, template_of

ENV = cdk.Environment(account="123456789012", region="us-east-1")
HAS_DOCKERFILE = (REPO_ROOT / "container" / "Dockerfile").is_file()


@pytest.fixture
def dq_dir(tmp_path, reference_examples) -> Path:
    """A data-quality baseline made by SageMaker's analyzer (statistics + suggested constraints)."""
    folder = tmp_path / "dq-baseline"
    folder.mkdir()
    source = reference_examples / "sdk-data-quality-check"
    shutil.copy(source / "statistics.json", folder / "statistics.json")
    shutil.copy(source / "good_cases" / "constraints.json", folder / "constraints.json")
    return folder


def _parts(tmp_path: Path, *, nag: bool = False, env: cdk.Environment | None = ENV):
    app = new_app(tmp_path / "out", nag=nag)
    stack = cdk.Stack(app, "S", env=env)
    storage = MonitoringBucket(stack, "Storage")
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    return app, stack, storage, role


def _statements(template: dict, prefix: str) -> list[dict]:
    return [s for logical, r in template["Resources"].items()
            if r["Type"] == "AWS::IAM::Policy" and logical.startswith(prefix)
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return sorted([action] if isinstance(action, str) else action)


def _resources(statements: list[dict], actions: list[str]) -> list[str]:
    """The resources (as text) of the statements granting exactly ``actions``, sorted."""
    found = []
    for statement in statements:
        if _actions(statement) == sorted(actions):
            resource = statement["Resource"]
            found += [_text(r) for r in (resource if isinstance(resource, list) else [resource])]
    return sorted(found)


def _text(node) -> str:
    """Evaluate Ref / GetAtt / Join / Split / Select to text, with placeholders ``<Logical>`` / ``<Logical.Attr>``
    for what only CloudFormation knows."""
    if isinstance(node, (str, list)):
        return node
    ((fn, arg),) = node.items()
    if fn == "Ref":
        return f"<{arg}>"
    if fn == "Fn::GetAtt":
        return f"<{arg[0]}.{arg[1]}>"
    if fn == "Fn::Join":
        return arg[0].join(_text(p) for p in arg[1])
    if fn == "Fn::Split":
        return _text(arg[1]).split(arg[0])
    if fn == "Fn::Select":
        return _text(arg[1])[int(arg[0])]
    raise AssertionError(f"unexpected intrinsic {fn}")


# -- dataset formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("ours", "sdk_call"), [
    (DatasetFormat.csv(), ("csv", {})),
    (DatasetFormat.csv(header=False), ("csv", {"header": False})),
    (DatasetFormat.csv(output_columns_position="END"), ("csv", {"output_columns_position": "END"})),
    (DatasetFormat.json_lines(), ("json", {})),
])
def test_dataset_format_is_the_sdk_environment_value(ours, sdk_call):
    from sagemaker.core.model_monitor.dataset_format import DatasetFormat as SdkFormat

    method, kwargs = sdk_call
    assert ours.to_environment() == json.dumps(getattr(SdkFormat, method)(**kwargs))


@pytest.mark.parametrize(("fmt", "kind", "header"), [
    (DatasetFormat.csv(), "csv", True), (DatasetFormat.csv(header=False), "csv", False),
    (DatasetFormat.json_lines(), "json", True), (DatasetFormat.parquet(), "parquet", True),
])
def test_the_analyzer_reads_each_dataset_format(fmt, kind, header):
    from model_monitor_analyzer.contract.environment import parse_dataset_format

    spec = parse_dataset_format(fmt.to_environment())
    assert (spec.kind.value, spec.header) == (kind, header)


def test_dataset_format_refuses_an_unknown_output_position():
    with pytest.raises(ValueError, match="START"):
        DatasetFormat.csv(output_columns_position="MIDDLE")


# -- from_directory ------------------------------------------------------------------------------------


def test_directory_baseline_uploads_both_files_unzipped_and_grants_read_on_exactly_them(tmp_path, dq_dir):
    app, stack, storage, role = _parts(tmp_path, nag=True)
    bound = Baseline.from_directory(str(dq_dir)).bind(stack, storage=storage, image=AnalyzerImage.builtin(),
                                                      job_role=role)
    assert bound.kind is BaselineKind.DATA_QUALITY and bound.dependency is None
    assert bound.version == read_baseline_directory(dq_dir).content_hash()
    assert len(bound.version) == 12
    assert nag_findings(app) == []

    manifest = json.loads((Path(app.outdir) / "S.assets.json").read_text())
    files = {h: f for h, f in manifest["files"].items() if f["source"]["path"].endswith(".json")
             and f["source"].get("packaging") == "file"}
    staged = {(Path(app.outdir) / f["source"]["path"]).read_bytes(): h for h, f in files.items()}
    stats_hash = staged[(dq_dir / "statistics.json").read_bytes()]
    constraints_hash = staged[(dq_dir / "constraints.json").read_bytes()]
    bucket = "cdk-hnb659fds-assets-123456789012-us-east-1"
    assert stack.resolve(bound.statistics_s3_uri) == f"s3://{bucket}/{stats_hash}.json"
    assert stack.resolve(bound.constraints_s3_uri) == f"s3://{bucket}/{constraints_hash}.json"

    statements = _statements(template_of(stack).to_json(), "JobRoleDefaultPolicy")
    gets = _resources(statements, ["s3:GetObject"])
    assert gets == sorted(f"arn:aws:s3:::{bucket}/{h}.json" for h in (stats_hash, constraints_hash))
    lists = [s for s in statements if _actions(s) == ["s3:ListBucket"]]
    assert sorted(s["Condition"]["StringEquals"]["s3:prefix"] for s in lists) == \
        sorted(f"{h}.json" for h in (stats_hash, constraints_hash))


def test_directory_baseline_keeps_an_explicit_version(tmp_path, dq_dir):
    _, stack, storage, role = _parts(tmp_path)
    bound = Baseline.from_directory(str(dq_dir), version="churn-v7").bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    assert bound.version == "churn-v7"


def test_content_hash_changes_with_the_content(tmp_path, dq_dir):
    before = read_baseline_directory(dq_dir).content_hash()
    data = json.loads((dq_dir / "constraints.json").read_text())
    data["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 0.2
    (dq_dir / "constraints.json").write_text(json.dumps(data))
    assert read_baseline_directory(dq_dir).content_hash() != before


def test_model_quality_directory_gives_constraints_only(tmp_path, reference_examples):
    folder = tmp_path / "mq"
    folder.mkdir()
    source = reference_examples / "sdk-model-quality-check"
    shutil.copy(source / "statistics.json", folder / "statistics.json")
    shutil.copy(source / "good_cases" / "constraints.json", folder / "constraints.json")
    _, stack, storage, role = _parts(tmp_path)
    bound = Baseline.from_directory(str(folder)).bind(stack, storage=storage, image=AnalyzerImage.builtin(),
                                                      job_role=role)
    assert bound.kind is BaselineKind.MODEL_QUALITY and bound.statistics_s3_uri is None
    assert stack.resolve(bound.constraints_s3_uri).endswith(".json")
    template_of(stack)  # synthesizes


def test_bias_directory_uses_the_analysis_as_constraints(tmp_path, reference_examples):
    folder = tmp_path / "bias"
    folder.mkdir()
    shutil.copy(reference_examples / "ase-model-bias-monitor-adult" / "notebook-output" / "analysis.json",
                folder / "analysis.json")
    files = read_baseline_directory(folder)
    assert files.kind is BaselineKind.BIAS and files.statistics is None
    assert files.constraints == folder / "analysis.json"


def _bad(tmp_path: Path, dq_dir: Path, case: str) -> Path:
    if case == "no folder":
        return tmp_path / "missing"
    if case == "no statistics":
        (dq_dir / "statistics.json").unlink()
    elif case == "no constraints":
        (dq_dir / "constraints.json").unlink()
    elif case == "not json":
        (dq_dir / "statistics.json").write_text("{not json")
    elif case == "no features":
        (dq_dir / "statistics.json").write_text(json.dumps({"version": 0.0, "dataset": {"item_count": 3}}))
    elif case == "bad type":
        data = json.loads((dq_dir / "statistics.json").read_text())
        data["features"][0]["inferred_type"] = "Float"
        (dq_dir / "statistics.json").write_text(json.dumps(data))
    elif case == "unknown feature":
        data = json.loads((dq_dir / "constraints.json").read_text())
        data["features"].append({"name": "not_profiled", "inferred_type": "Fractional", "completeness": 1.0})
        (dq_dir / "constraints.json").write_text(json.dumps(data))
    elif case == "mixed kinds":
        (dq_dir / "statistics.json").write_text(json.dumps({"version": 0.0, "regression_metrics": {}}))
    elif case == "swapped":
        statistics, constraints = (dq_dir / "statistics.json").read_text(), (dq_dir / "constraints.json").read_text()
        (dq_dir / "statistics.json").write_text(constraints)
        (dq_dir / "constraints.json").write_text(statistics)
    elif case == "bias analysis as constraints":
        (dq_dir / "constraints.json").write_text(json.dumps({"version": "1.0", "post_training_bias_metrics": {}}))
    return dq_dir


@pytest.mark.parametrize(("case", "names", "fix"), [
    ("no folder", "missing", "model-monitor-analyzer baseline"),
    ("no statistics", "statistics.json", "model-monitor-analyzer baseline"),
    ("no constraints", "constraints.json", "model-monitor-analyzer baseline"),
    ("not json", "statistics.json", "Recreate it"),
    ("no features", "statistics.json", "model-monitor-analyzer baseline"),
    ("bad type", "Float", "model-monitor-analyzer baseline"),
    ("unknown feature", "not_profiled", "same baseline run"),
    ("mixed kinds", "model-quality statistics", "together"),
    ("swapped", "is the data-quality statistics (statistics.json), not a constraints file", "name it was written with"),
    ("bias analysis as constraints", "is the bias analysis (analysis.json), not a constraints file",
     "name it was written with"),
])
def test_bad_directory_fails_at_synth_naming_the_path_and_the_fix(tmp_path, dq_dir, case, names, fix):
    folder = _bad(tmp_path, dq_dir, case)
    _, stack, storage, role = _parts(tmp_path)
    with pytest.raises(ConfigurationError) as err:
        Baseline.from_directory(str(folder)).bind(stack, storage=storage, image=AnalyzerImage.builtin(),
                                                  job_role=role)
    message = str(err.value)
    assert str(folder) in message and names in message and fix in message
    assert message.startswith("S/Baseline") or message.startswith("S:")


@pytest.mark.parametrize("version", ["", "v 1", "a/b", "-v1", "x" * 64])
def test_unusable_version_is_refused(tmp_path, dq_dir, version):
    _, stack, storage, role = _parts(tmp_path)
    with pytest.raises(ConfigurationError, match="version"):
        Baseline.from_directory(str(dq_dir), version=version).bind(
            stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)


# -- from_s3 -------------------------------------------------------------------------------------------


def test_s3_baseline_grants_get_on_the_two_objects_and_list_on_their_keys(tmp_path):
    app, stack, storage, role = _parts(tmp_path, nag=True)
    key = kms.Key(stack, "BaselineKey", enable_key_rotation=True)
    stats, constraints = "s3://ml-artifacts/churn/v3/statistics.json", "s3://ml-artifacts/churn/v3/constraints.json"
    bound = Baseline.from_s3(stats, constraints, version="v3", encryption_key=key).bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    # the key travels with the bound baseline: a second reader (the scale-out job role) is granted it too
    assert bound == BoundBaseline(statistics_s3_uri=stats, constraints_s3_uri=constraints, version="v3",
                                  kind=BaselineKind.DATA_QUALITY, encryption_key=key)
    assert nag_findings(app) == []
    statements = _statements(template_of(stack).to_json(), "JobRoleDefaultPolicy")
    assert _resources(statements, ["s3:GetObject"]) == [
        "arn:aws:s3:::ml-artifacts/churn/v3/constraints.json", "arn:aws:s3:::ml-artifacts/churn/v3/statistics.json"]
    lists = [s for s in statements if _actions(s) == ["s3:ListBucket"]]
    assert {s["Resource"] for s in lists} == {"arn:aws:s3:::ml-artifacts"}
    assert sorted(p for s in lists for p in s["Condition"]["StringLike"]["s3:prefix"]) == [
        "churn/v3/constraints.json", "churn/v3/statistics.json"]
    decrypt = [s for s in statements if "kms:Decrypt" in _actions(s)]
    assert decrypt and all(s["Resource"] == {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}
                           for s in decrypt)


def test_s3_baseline_with_constraints_only_has_no_statistics(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    bound = Baseline.from_s3(None, "s3://ml-bucket/mq/constraints.json").bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    assert bound.statistics_s3_uri is None and bound.kind is None
    assert len(bound.version) == 12


def test_s3_baseline_default_version_follows_the_uris(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    kwargs = dict(storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    a = Baseline.from_s3("s3://ml-bucket/v1/statistics.json", "s3://ml-bucket/v1/constraints.json").bind(stack, **kwargs)
    b = Baseline.from_s3("s3://ml-bucket/v1/statistics.json", "s3://ml-bucket/v1/constraints.json").bind(stack, **kwargs)
    c = Baseline.from_s3("s3://ml-bucket/v2/statistics.json", "s3://ml-bucket/v2/constraints.json").bind(stack, **kwargs)
    assert a.version == b.version != c.version


def test_s3_baseline_from_bucket_tokens_is_scoped_to_the_objects(tmp_path):
    app, stack, storage, role = _parts(tmp_path, nag=True)
    bucket = s3.Bucket.from_bucket_name(stack, "Artifacts", "artifact-bucket-name")
    ref = s3.Bucket(stack, "Other", enforce_ssl=True, server_access_logs_bucket=storage.access_logs_bucket)
    Baseline.from_s3(ref.s3_url_for_object("v1/statistics.json"), bucket.s3_url_for_object("v1/constraints.json"),
                     version="v1").bind(stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    assert nag_findings(app) == []
    template = template_of(stack).to_json()
    gets = _resources(_statements(template, "JobRoleDefaultPolicy"), ["s3:GetObject"])
    other = stack.get_logical_id(ref.node.default_child)
    assert gets == [f"arn:aws:s3:::<{other}>/v1/statistics.json", "arn:aws:s3:::artifact-bucket-name/v1/constraints.json"]
    lists = _resources(_statements(template, "JobRoleDefaultPolicy"), ["s3:ListBucket"])
    assert lists == [f"arn:aws:s3:::<{other}>", "arn:aws:s3:::artifact-bucket-name"]
    assert cfn_lint_findings(template) == []


def test_s3_baseline_in_the_monitoring_bucket_can_decrypt_with_its_key(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    Baseline.from_s3(storage.s3_uri("baselines", "v1", "statistics.json"),
                     storage.s3_uri("baselines", "v1", "constraints.json"), version="v1").bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    statements = _statements(template_of(stack).to_json(), "JobRoleDefaultPolicy")
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    key = stack.get_logical_id(storage.encryption_key.node.default_child)
    assert _resources(statements, ["s3:GetObject"]) == [
        f"arn:aws:s3:::<{bucket}>/baselines/v1/constraints.json", f"arn:aws:s3:::<{bucket}>/baselines/v1/statistics.json"]
    assert _resources(statements, ["kms:Decrypt"]) == [f"<{key}.Arn>"]


def test_dataset_in_the_monitoring_bucket_is_read_through_its_prefix_grant(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    Baseline.from_dataset(storage.s3_uri("datasets", "churn"), version="v1").bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    statements = _statements(template_of(stack).to_json(), "JobRoleDefaultPolicy")
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    assert _resources(statements, ["s3:GetObject"]) == [f"<{bucket}.Arn>/datasets/churn/*"]
    lists = [s for s in statements if _actions(s) == ["s3:ListBucket"]]
    assert sorted(p for s in lists for p in s["Condition"]["StringLike"]["s3:prefix"]) == [
        "baselines/v1", "baselines/v1/*", "datasets/churn", "datasets/churn/*"]


@pytest.mark.parametrize("uri", ["https://b.s3.amazonaws.com/k.json", "s3://b", "s3://b/", "b/k.json"])
def test_s3_baseline_refuses_what_is_not_an_s3_object_uri(tmp_path, uri):
    _, stack, storage, role = _parts(tmp_path)
    with pytest.raises(ConfigurationError, match="s3://my-bucket"):
        Baseline.from_s3(uri, "s3://ml-bucket/constraints.json").bind(stack, storage=storage,
                                                               image=AnalyzerImage.builtin(), job_role=role)


@pytest.mark.parametrize("uri", ["/local/train.csv", "s3://d", "s3://ml-data/"])
def test_a_dataset_uri_that_is_not_one_is_refused_with_a_dataset_example(tmp_path, uri):
    _, stack, storage, role = _parts(tmp_path)
    with pytest.raises(ConfigurationError, match=re.escape("such as 's3://my-bucket/datasets/train/'")) as raised:
        Baseline.from_dataset(uri).bind(stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    assert "\n" not in str(raised.value)


# -- from_dataset -----------------------------------------------------------------------------------------


def _request(template: dict) -> tuple[dict, dict]:
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::ModelMonitorBaseline"]
    props = resource["Properties"]
    return props, json.loads(_text(props["ProcessingJobRequest"]))


def test_dataset_baseline_runs_the_analyzer_in_baseline_mode_into_the_version_folder(tmp_path):
    import botocore.session
    from botocore.validate import validate_parameters

    _, stack, storage, role = _parts(tmp_path)
    bound = Baseline.from_dataset("s3://ml-data/churn/train/", dataset_format=DatasetFormat.csv(header=False),
                                  version="v3", instance_type="ml.m5.2xlarge", volume_size_gb=30,
                                  max_runtime=Duration.minutes(40)).bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    template = template_of(stack).to_json()
    props, request = _request(template)
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    key = stack.get_logical_id(storage.encryption_key.node.default_child)

    assert bound.version == "v3" and bound.kind is BaselineKind.DATA_QUALITY
    assert stack.resolve(bound.statistics_s3_uri) == {"Fn::Join": ["", ["s3://", {"Ref": bucket},
                                                                        "/baselines/v3/statistics.json"]]}
    assert _text(stack.resolve(bound.constraints_s3_uri)) == f"s3://<{bucket}>/baselines/v3/constraints.json"
    assert props["Version"] == "v3" and _text(props["OutputS3Uri"]) == f"s3://<{bucket}>/baselines/v3"
    assert request["Environment"] == {
        "dataset_format": '{"csv": {"header": false, "output_columns_position": "START"}}',
        "dataset_source": BASELINE_DATASET_PATH,
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    }
    assert request["ProcessingInputs"] == [{"InputName": "baseline_dataset_input", "S3Input": {
        "S3Uri": "s3://ml-data/churn/train/", "LocalPath": BASELINE_DATASET_PATH, "S3DataType": "S3Prefix",
        "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}}]
    assert request["ProcessingOutputConfig"] == {"KmsKeyId": f"<{key}.Arn>", "Outputs": [{
        "OutputName": "baseline", "S3Output": {"S3Uri": f"s3://<{bucket}>/baselines/v3",
                                               "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]}
    assert request["ProcessingResources"] == {"ClusterConfig": {
        "InstanceCount": 1, "InstanceType": "ml.m5.2xlarge", "VolumeSizeInGB": 30, "VolumeKmsKeyId": f"<{key}.Arn>"}}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 2400}
    assert request["AppSpecification"] == {
        "ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"}
    assert request["RoleArn"] == f"<{stack.get_logical_id(role.node.default_child)}.Arn>"
    # the request is one SageMaker accepts (botocore's model of CreateProcessingJob)
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model(
        "CreateProcessingJob").input_shape
    validate_parameters({"ProcessingJobName": "name", **request}, shape)


def test_dataset_baseline_job_role_reads_the_dataset_and_writes_only_its_version_folder(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    Baseline.from_dataset("s3://ml-data/churn/train", version="v3").bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    statements = _statements(template_of(stack).to_json(), "JobRoleDefaultPolicy")
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    writes = [s for s in statements if "s3:PutObject" in _actions(s)]
    assert [_text(s["Resource"]) for s in writes] == [f"<{bucket}.Arn>/baselines/v3/*"]
    gets = sorted(_text(s["Resource"]) for s in statements if "s3:GetObject" in _actions(s))
    assert gets == sorted(["arn:aws:s3:::ml-data/churn/train/*", f"<{bucket}.Arn>/baselines/v3/*"])
    assert all("s3:DeleteObject" not in _actions(s) for s in statements)


def test_dataset_baseline_custom_resource_waits_less_than_an_hour_and_follows_the_job_role(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    bound = Baseline.from_dataset("s3://ml-data/train.csv").bind(stack, storage=storage,
                                                                 image=AnalyzerImage.builtin(), job_role=role)
    template = template_of(stack).to_json()
    (logical,) = [k for k, r in template["Resources"].items() if r["Type"] == "Custom::ModelMonitorBaseline"]
    assert stack.get_logical_id(bound.dependency.node.default_child) == logical
    depends = template["Resources"][logical]["DependsOn"]
    assert stack.get_logical_id(role.node.default_child) in depends
    assert any(d.startswith("JobRoleDefaultPolicy") for d in depends)

    (machine,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    definition = json.loads(_text(machine["Properties"]["DefinitionString"]))
    retry = next(r for state in definition["States"].values() for r in state.get("Retry", [])
                 if r.get("BackoffRate") == 1)
    waited = retry["IntervalSeconds"] * retry["MaxAttempts"]
    assert 50 * 60 <= waited < 3600  # the job's 50 minutes fit, CloudFormation's hour is never reached
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}


def test_dataset_baseline_lambdas_are_least_privilege(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    Baseline.from_dataset("s3://ml-data/train.csv", version="v1").bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    template = template_of(stack).to_json()
    job = next(c for c in stack.node.find_all() if isinstance(c, BaselineJob))
    prefix = job.job_name_prefix
    assert prefix == prefix.lower() and len(prefix) <= 30
    jobs_arn = f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{prefix}-*"

    on_event = _statements(template, "BaselineOnEventRoleDefaultPolicy")
    sagemaker = [s for s in on_event if any(a.startswith("sagemaker:") for a in _actions(s))]
    assert [(_actions(s), s["Resource"]) for s in sagemaker] == [(
        ["sagemaker:AddTags", "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
         "sagemaker:StopProcessingJob"], jobs_arn)]
    pass_role = [s for s in on_event if _actions(s) == ["iam:PassRole"]]
    assert [(s["Resource"], s["Condition"]) for s in pass_role] == [(
        {"Fn::GetAtt": [stack.get_logical_id(role.node.default_child), "Arn"]},
        {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})]
    is_complete = _statements(template, "BaselineIsCompleteRoleDefaultPolicy")
    assert [(_actions(s), s["Resource"]) for s in is_complete if "sagemaker:DescribeProcessingJob" in _actions(s)] \
        == [(["sagemaker:DescribeProcessingJob"], jobs_arn)]

    functions = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    ours = [f for f in functions if f["Handler"] in ("baseline_job/index.on_event", "baseline_job/index.is_complete")]
    assert len(ours) == 2 and all(f["Runtime"] == "python3.14" for f in ours)
    assert all("LogGroup" in f["LoggingConfig"] for f in functions)
    roles = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert all("ManagedPolicyArns" not in r for r in roles)


@pytest.mark.parametrize(("kwargs", "prop"), [
    ({"max_runtime": Duration.minutes(55)}, "max_runtime"),
    ({"max_runtime": Duration.seconds(30)}, "max_runtime"),
    ({"instance_type": "m5.xlarge"}, "instance_type"),
    ({"volume_size_gb": 0}, "volume_size_gb"),
    ({"environment": {"baseline_statistics": "/x"}}, "environment"),
    ({"version": "a b"}, "version"),
])
def test_dataset_baseline_refuses_settings_it_cannot_run(tmp_path, kwargs, prop):
    _, stack, storage, role = _parts(tmp_path)
    with pytest.raises(ConfigurationError) as err:
        Baseline.from_dataset("s3://ml-data/train.csv", **kwargs).bind(
            stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    assert f"invalid {prop}=" in str(err.value)


def test_long_runtime_error_points_to_the_local_baseline():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    storage = MonitoringBucket(stack, "Storage")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    with pytest.raises(ConfigurationError, match=r"Baseline\.from_directory"):
        Baseline.from_dataset("s3://ml-data/x.csv", max_runtime=Duration.hours(2)).bind(
            stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)


def test_dataset_baseline_default_version_follows_dataset_and_format(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    kwargs = dict(storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    a = Baseline.from_dataset("s3://ml-data/train.csv").bind(stack, id="A", **kwargs)
    b = Baseline.from_dataset("s3://ml-data/train.csv", instance_type="ml.m5.4xlarge").bind(stack, id="B", **kwargs)
    c = Baseline.from_dataset("s3://ml-data/train.csv", dataset_format=DatasetFormat.parquet()).bind(stack, id="C", **kwargs)
    d = Baseline.from_dataset("s3://ml-data/other.csv").bind(stack, id="D", **kwargs)
    assert a.version == b.version
    assert len({a.version, c.version, d.version}) == 3
    prefixes = {j.job_name_prefix for j in stack.node.find_all() if isinstance(j, BaselineJob)}
    assert len(prefixes) == 4


def test_one_dataset_baseline_bound_by_two_monitors_runs_one_job(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    other = iam.Role(stack, "OtherRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    baseline = Baseline.from_dataset("s3://ml-data/train.csv", version="v1")
    first = baseline.bind(stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role, id="First")
    second = baseline.bind(stack, storage=storage, image=AnalyzerImage.builtin(), job_role=other, id="Second")
    assert second == first
    template = template_of(stack)
    template.resource_count_is("Custom::ModelMonitorBaseline", 1)
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    assert _resources(_statements(template.to_json(), "OtherRoleDefaultPolicy"), ["s3:GetObject"]) == [
        f"<{bucket}.Arn>/baselines/v1/*"]


@pytest.mark.skipif(not HAS_DOCKERFILE, reason="container/Dockerfile not written yet")
def test_dataset_baseline_passes_cdk_nag_and_cfn_lint_pinned_and_region_agnostic(tmp_path):
    app = new_app(tmp_path / "out", nag=True)
    templates = []
    for name, env, image in (("Pinned", ENV, AnalyzerImage.builtin()), ("Agnostic", None, AnalyzerImage.from_asset())):
        stack = cdk.Stack(app, name, env=env)
        storage = MonitoringBucket(stack, "Storage")
        role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
        Baseline.from_dataset(storage.s3_uri("datasets", "churn"), version="v1").bind(
            stack, storage=storage, image=image, job_role=role)
        templates.append(stack)
    assert nag_findings(app) == []
    for stack in templates:
        assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_dataset_baseline_stack_matches_snapshot(tmp_path, snapshot):
    _, stack, storage, role = _parts(tmp_path)
    Baseline.from_dataset("s3://ml-data/churn/train/", version="v1").bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    assert normalize(template_of(stack).to_json()) == snapshot.use_extension(JSONSnapshotExtension)
