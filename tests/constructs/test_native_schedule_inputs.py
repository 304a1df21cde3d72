"""A native Model Monitor schedule running our image finds its inputs whatever names SageMaker gives them.

Each monitor type's job definition is taken from the synthesized template of one native-engine stack and
run through the analyzer's container entrypoint on a simulated /opt/ml tree, as SageMaker would run it:
the definition's Environment, overlaid (or not) with what the service sets itself (contract §6.2: the
window, the data, the output, and ``baseline_*`` with the names documented for objects called
constraints.json / statistics.json), and each S3 object of the job (baseline, ``ConfigUri``) downloaded
into its input's folder under its own key's name, which for the CDK assets the stack publishes is
``<content hash>.json``. No variable says where the bias config goes: it is put where Clarify's
processing jobs take it, or in another input folder, listed in processingjobconfig.json as every
processing job's inputs are.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from cdk_model_monitor import MonitoringBucket
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.job import Engine
from cdk_model_monitor.monitors.bias import BiasDriftMonitor
from cdk_model_monitor.monitors.data_quality import DataQualityMonitor
from cdk_model_monitor.monitors.model_quality import ModelQualityMonitor, ProblemType

from .conftest import ANALYZER_URI, REPO_ROOT, TEST_ENV, new_app
from .test_bias_monitor import DEMO as BIAS_PROPS
from .test_model_quality_monitor import ENDPOINT, demo_traffic

VARIANT = "AllTraffic"
CLARIFY_CONFIG_FOLDER = "/opt/ml/processing/input/config"
# what the service names the baseline files in the jobs it starts (contract §6.2, seen for objects of these names)
SERVICE_BASELINE_NAMES = {"baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
                          "baseline_statistics": "/opt/ml/processing/baseline/stats/statistics.json"}
# the captured payloads SageMaker's merge job keeps for each labelled type (contract §2.3, §9)
MERGED_PAYLOADS = {"ModelQuality": ["endpointOutput"], "ModelBias": ["endpointInput", "endpointOutput"]}


@dataclass(frozen=True, kw_only=True)
class NativeJob:
    """What a synthesized native job definition gives SageMaker for one monitor type."""

    monitoring_type: str
    schedule_name: str
    environment: dict[str, str]
    endpoint_input: dict[str, Any]
    output_path: str
    constraints_uri: str
    statistics_uri: str | None
    config_uri: str | None
    problem_type: str | None


@dataclass(frozen=True, kw_only=True)
class NativeStack:
    template: dict[str, Any]
    objects: dict[str, Path]
    """Each file asset's S3 key and the file the asset publisher uploads."""
    traffic: Path
    hour: datetime

    def job(self, monitoring_type: str) -> NativeJob:
        resources = self.template["Resources"].values()
        schedules = [r["Properties"] for r in resources if r["Type"] == "AWS::SageMaker::MonitoringSchedule"]
        schedule = next(s for s in schedules
                        if s["MonitoringScheduleConfig"].get("MonitoringType", "DataQuality") == monitoring_type)
        config = schedule["MonitoringScheduleConfig"]
        if "MonitoringJobDefinition" in config:  # embedded: a data-quality schedule of our image
            definition = config["MonitoringJobDefinition"]
            spec, baseline = definition["MonitoringAppSpecification"], definition["BaselineConfig"]
            endpoint_input = definition["MonitoringInputs"][0]["EndpointInput"]
            output = definition["MonitoringOutputConfig"]
            environment = definition.get("Environment", {})
        else:  # typed: the labelled types
            definition = next(r["Properties"] for r in resources
                              if r["Type"] == f"AWS::SageMaker::{monitoring_type}JobDefinition")
            spec = definition[f"{monitoring_type}AppSpecification"]
            baseline = definition[f"{monitoring_type}BaselineConfig"]
            endpoint_input = definition[f"{monitoring_type}JobInput"]["EndpointInput"]
            output = definition[f"{monitoring_type}JobOutputConfig"]
            environment = spec.get("Environment", {})
        assert spec["ImageUri"] == ANALYZER_URI
        return NativeJob(
            monitoring_type=monitoring_type, schedule_name=schedule["MonitoringScheduleName"],
            environment=environment, endpoint_input=endpoint_input,
            output_path=output["MonitoringOutputs"][0]["S3Output"]["LocalPath"],
            constraints_uri=baseline["ConstraintsResource"]["S3Uri"],
            statistics_uri=baseline.get("StatisticsResource", {}).get("S3Uri"),
            config_uri=spec.get("ConfigUri"), problem_type=spec.get("ProblemType"))


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> NativeStack:
    """One stack with the three monitor types on the native engine with our image, synthesized and published
    as `cdk deploy` would (file assets under their keys), and an hour of the demo's traffic and labels."""
    folder = tmp_path_factory.mktemp("native")
    app = new_app(folder / "cdk.out")
    stack = cdk.Stack(app, "Native", env=TEST_ENV)
    target = {"endpoint_name": ENDPOINT, "capture_s3_uri": "s3://capture-bucket/datacapture",
              "storage": MonitoringBucket(stack, "Storage"),
              "engine": Engine.MODEL_MONITOR, "image": AnalyzerImage.from_uri(ANALYZER_URI)}
    DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline")),
                       **target)
    ModelQualityMonitor(stack, "ModelQuality", problem_type=ProblemType.BINARY_CLASSIFICATION, probability_attribute="0",
                        baseline=Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline-model-quality")), **target)
    BiasDriftMonitor(stack, "Bias", **BIAS_PROPS,
                     baseline=Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline-bias")), **target)
    assembly = app.synth()
    outdir = Path(assembly.directory)
    manifest = json.loads((outdir / "Native.assets.json").read_text())
    objects = {destination["objectKey"]: outdir / entry["source"]["path"]
               for entry in manifest["files"].values() if entry["source"]["packaging"] == "file"
               for destination in entry["destinations"].values()}
    hour, _, _ = demo_traffic(folder / "traffic")
    return NativeStack(template=assembly.get_stack_by_name("Native").template, objects=objects,
                       traffic=folder / "traffic", hour=hour)


# -- SageMaker, simulated ----------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def service_environment(native: NativeStack, job: NativeJob, *, names_baseline: bool) -> dict[str, str]:
    """What the service sets in the analysis job it starts for this definition (contract §2.3, §6.2)."""
    merged = job.monitoring_type in MERGED_PAYLOADS
    payloads = MERGED_PAYLOADS.get(job.monitoring_type, ["endpointInput", "endpointOutput"])
    env = {
        "dataset_format": json.dumps({"sagemakerMergeJson" if merged else "sagemakerCaptureJson":
                                      {"captureIndexNames": payloads}}),
        "dataset_source": "/opt/ml/processing/input_data" if merged else job.endpoint_input["LocalPath"],
        "output_path": job.output_path,
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": ENDPOINT,
        "sagemaker_monitoring_schedule_name": job.schedule_name,
        "start_time": _iso(native.hour), "end_time": _iso(native.hour + timedelta(hours=1)),
        "metric_time": _iso(native.hour),
    }
    if job.problem_type:
        env["problem_type"] = job.problem_type
    for field, key in (("FeaturesAttribute", "features_attribute"), ("InferenceAttribute", "inference_attribute"),
                       ("ProbabilityAttribute", "probability_attribute"),
                       ("ProbabilityThresholdAttribute", "probability_threshold_attribute")):
        if field in job.endpoint_input:
            env[key] = str(job.endpoint_input[field])
    if names_baseline:
        env["baseline_constraints"] = SERVICE_BASELINE_NAMES["baseline_constraints"]
        if job.statistics_uri:
            env["baseline_statistics"] = SERVICE_BASELINE_NAMES["baseline_statistics"]
    return env


def job_environment(native: NativeStack, job: NativeJob, *, service_names_baseline: bool) -> dict[str, str]:
    """The definition's Environment with the service's variables; when the service names the baseline files
    itself, its names win."""
    service = service_environment(native, job, names_baseline=service_names_baseline)
    return {**job.environment, **service} if service_names_baseline else {**service, **job.environment}


def simulated_job(root: Path, native: NativeStack, job: NativeJob, env: dict[str, str], *,
                  config_folder: str = CLARIFY_CONFIG_FOLDER, objects: dict[str, Path | None] | None = None) -> None:
    """The /opt/ml tree of the analysis job: processingjobconfig.json (environment and inputs), each S3 object
    downloaded into its input's folder under its key's name, and the window's data."""
    objects = {**native.objects, **(objects or {})}

    def local(path: str) -> Path:
        return root / path.removeprefix("/opt/ml/")

    hour_path = native.hour.strftime("%Y/%m/%d/%H")
    data = f"{env['dataset_source']}/{ENDPOINT}/{VARIANT}/{hour_path}"
    inputs = [("endpoint_input_1", f"s3://capture-bucket/datacapture/{ENDPOINT}/{VARIANT}/{hour_path}", data)]
    inputs.append(("baseline", job.constraints_uri, "/opt/ml/processing/baseline/constraints"))
    if job.statistics_uri:
        inputs.append(("baseline_statistics", job.statistics_uri, "/opt/ml/processing/baseline/stats"))
    if job.config_uri:
        inputs.append(("analysis_config", job.config_uri, config_folder))
    for _, uri, folder in inputs[1:]:
        key = uri.removeprefix("s3://").split("/", 1)[1]
        local(folder).mkdir(parents=True, exist_ok=True)
        if objects[key] is not None:
            shutil.copyfile(objects[key], local(folder) / key.rsplit("/", 1)[-1])
    (root / "config").mkdir(parents=True)
    (root / "config" / "processingjobconfig.json").write_text(json.dumps({
        "ProcessingJobName": f"{job.monitoring_type.lower()}-monitoring-202611250900-3f9ae1",
        "Environment": env,
        "ProcessingInputs": [{"InputName": name, "S3Input": {
            "S3Uri": uri, "LocalPath": folder, "S3DataType": "S3Prefix", "S3InputMode": "File"}}
            for name, uri, folder in inputs]}))
    captures = native.traffic / "capture" / ENDPOINT / VARIANT / hour_path
    if job.monitoring_type not in MERGED_PAYLOADS:
        shutil.copytree(captures, local(data))
        return
    # SageMaker's merge job ran first: each capture with its label (contract §2.2)
    labels = {}
    for path in (native.traffic / "labels" / hour_path).glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            labels[record["eventMetadata"]["eventId"]] = record["groundTruthData"]
    local(data).mkdir(parents=True)
    with (local(data) / "part-00000-3f9a.c000.jsonl").open("w") as merged:
        for path in captures.glob("*.jsonl"):
            for line in path.read_text().splitlines():
                record = json.loads(line)
                label = labels.get(record["eventMetadata"]["inferenceId"])
                if label is not None:
                    merged.write(json.dumps({**record, "groundTruthData": label}) + "\n")


def run(root: Path) -> tuple[int, str]:
    from model_monitor_analyzer.contract.entrypoint import run_container

    code = run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root)})
    return code, (root / "output" / "message").read_text()


# -- each monitor type runs --------------------------------------------------------------------------

NAMES = pytest.mark.parametrize("service_names_baseline", [True, False],
                                ids=["service-names-constraints.json", "definition-names-the-objects"])


def test_the_definitions_name_where_sagemaker_downloads_each_baseline_object(native):
    for monitoring_type in ("DataQuality", "ModelQuality", "ModelBias"):
        job = native.job(monitoring_type)
        expected = {"baseline_constraints": "/opt/ml/processing/baseline/constraints/"
                                            + job.constraints_uri.rsplit("/", 1)[-1]}
        if job.statistics_uri:
            expected["baseline_statistics"] = "/opt/ml/processing/baseline/stats/" + job.statistics_uri.rsplit("/", 1)[-1]
        assert {k: v for k, v in job.environment.items() if k.startswith("baseline_")} == expected
        assert all(name.endswith(".json") and len(name) == 64 + 5 for name in (
            uri.rsplit("/", 1)[-1] for uri in (job.constraints_uri, job.statistics_uri, job.config_uri) if uri))


@NAMES
def test_data_quality_finds_its_hash_named_baseline_and_reports(native, tmp_path, service_names_baseline):
    job = native.job("DataQuality")
    env = job_environment(native, job, service_names_baseline=service_names_baseline)
    simulated_job(tmp_path, native, job, env)
    code, message = run(tmp_path)
    assert code == 0, message
    assert message.startswith("Completed")
    output = tmp_path / "processing" / "output"
    assert {p.name for p in output.iterdir()} >= {"statistics.json", "constraints.json", "constraint_violations.json"}
    assert json.loads((output / "statistics.json").read_text())["dataset"]["item_count"] == 600
    assert list((tmp_path / "output" / "metrics" / "cloudwatch").glob("*.jsonl"))


@NAMES
def test_model_quality_finds_its_hash_named_constraints_and_checks_them(native, tmp_path, service_names_baseline):
    job = native.job("ModelQuality")
    env = job_environment(native, job, service_names_baseline=service_names_baseline)
    simulated_job(tmp_path, native, job, env)
    code, message = run(tmp_path)
    assert code == 0, message
    assert message.startswith("Completed")
    output = tmp_path / "processing" / "output"
    assert "binary_classification_metrics" in json.loads((output / "statistics.json").read_text())
    assert (output / "constraint_violations.json").is_file()  # written only when constraints were read


@NAMES
@pytest.mark.parametrize("config_folder", [CLARIFY_CONFIG_FOLDER, "/opt/ml/processing/input/analysis_config"])
def test_bias_finds_its_hash_named_config_and_baseline(native, tmp_path, service_names_baseline, config_folder):
    job = native.job("ModelBias")
    assert "analysis_config" not in job.environment  # nothing can say where SageMaker puts the ConfigUri
    env = job_environment(native, job, service_names_baseline=service_names_baseline)
    simulated_job(tmp_path, native, job, env, config_folder=config_folder)
    code, message = run(tmp_path)
    assert code == 0, message
    assert message.startswith("Completed")
    output = tmp_path / "processing" / "output"
    analysis = json.loads((output / "analysis.json").read_text())
    post = analysis["post_training_bias_metrics"]["facets"]["senior"][0]
    assert [m["name"] for m in post["metrics"]] == ["AD", "DAR", "DPPL", "RD"]  # the config's methods
    assert (output / "constraint_violations.json").is_file()  # written only when the baseline was read


# -- and says what is missing when it is not there ----------------------------------------------------


def _key(uri: str) -> str:
    return uri.removeprefix("s3://").split("/", 1)[1]


def test_no_constraints_in_their_input_fails_naming_the_folder(native, tmp_path):
    job = native.job("ModelQuality")
    env = job_environment(native, job, service_names_baseline=True)
    simulated_job(tmp_path, native, job, env, objects={_key(job.constraints_uri): None})
    code, message = run(tmp_path)
    folder = tmp_path / "processing" / "baseline" / "constraints"
    assert code == 255
    assert message == (
        f"Error: no model-quality constraints (constraints.json) for baseline_constraints (it names "
        f"{folder}/constraints.json, which does not exist): {folder} holds no file; give it in the job "
        "definition's ModelQualityBaselineConfig (ConstraintsResource), or set baseline_constraints to the file")


def test_two_statistics_in_their_input_fail_naming_both(native, tmp_path):
    job = native.job("DataQuality")
    env = job_environment(native, job, service_names_baseline=True)
    simulated_job(tmp_path, native, job, env)
    folder = tmp_path / "processing" / "baseline" / "stats"
    (hashed,) = folder.iterdir()
    shutil.copyfile(hashed, folder / "statistics-previous.json")
    code, message = run(tmp_path)
    assert code == 255
    assert message == (
        f"Error: several files are the data-quality statistics (statistics.json) for baseline_statistics: {hashed}, "
        f"{folder}/statistics-previous.json; keep one in the schedule's BaselineConfig (StatisticsResource), "
        "or set baseline_statistics to the file")


def test_a_config_uri_of_the_wrong_document_fails_saying_what_each_input_holds(native, tmp_path):
    job = native.job("ModelBias")
    env = job_environment(native, job, service_names_baseline=False)
    baseline = native.objects[_key(job.constraints_uri)]  # the baseline's analysis.json given as the config
    simulated_job(tmp_path, native, job, env, objects={_key(job.config_uri): baseline})
    code, message = run(tmp_path)
    config = tmp_path / "processing" / "input" / "config"
    constraints = tmp_path / "processing" / "baseline" / "constraints"
    config_name, constraints_name = _key(job.config_uri), _key(job.constraints_uri)
    assert code == 255
    assert message == (
        f"Error: no bias analysis config (analysis_config.json) for analysis_config: {config} holds {config_name} "
        f"(the bias analysis (analysis.json)); {constraints} holds {constraints_name} (the bias analysis "
        "(analysis.json)); give it in the job definition's ConfigUri (or the processing job's config input), or "
        "set analysis_config to the file")
