"""A job's baseline files and bias analysis config are found by what they are: the file the environment
names when it exists, else the one document of its kind in the folders SageMaker may have put it in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from model_monitor_analyzer.contract.input_documents import locate, locate_documents
from model_monitor_analyzer.contract.paths import ContainerPaths
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.monitors.bias import config as bias_config
from model_monitor_analyzer.monitors.bias import environment as bias
from model_monitor_analyzer.monitors.data_quality import environment as data_quality
from model_monitor_analyzer.monitors.model_quality import environment as model_quality

from ..conftest import REPO_ROOT

DEMO = REPO_ROOT / "demo"
STATISTICS = DEMO / "baseline" / "statistics.json"
CONSTRAINTS = DEMO / "baseline" / "constraints.json"
QUALITY_CONSTRAINTS = DEMO / "baseline-model-quality" / "constraints.json"
BIAS_ANALYSIS = DEMO / "baseline-bias" / "analysis.json"
BIAS_CONFIG = DEMO / "baseline-bias" / "analysis_config.json"
HASHED = "3f9a5c0b7d2e4f61a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0e1.json"  # a CDK file asset's key


@pytest.fixture
def paths(tmp_path: Path) -> ContainerPaths:
    return ContainerPaths(root=tmp_path / "opt" / "ml")


def _put(paths: ContainerPaths, folder: str, name: str, source: Path) -> Path:
    target = paths.rebase(f"{folder}/{name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _inputs(paths: ContainerPaths, *inputs: tuple[str, str], data_type: str = "S3Prefix") -> None:
    """processingjobconfig.json listing ``(S3Uri, LocalPath)`` inputs, as SageMaker writes it for every job."""
    paths.processing_job_config.parent.mkdir(parents=True, exist_ok=True)
    paths.processing_job_config.write_text(json.dumps({"ProcessingInputs": [
        {"InputName": f"input-{n}", "S3Input": {"S3Uri": uri, "LocalPath": local, "S3DataType": data_type}}
        for n, (uri, local) in enumerate(inputs)]}))


def test_a_key_naming_an_existing_file_is_that_file_whatever_its_name_or_content(paths):
    named = _put(paths, "/opt/ml/processing/baseline/constraints", "mine.json", STATISTICS)
    env = {"baseline_constraints": "/opt/ml/processing/baseline/constraints/mine.json"}
    # its reader refuses a document of another kind, naming the key (as before)
    assert locate(data_quality.CONSTRAINTS, env, paths) == named


def test_a_conventional_name_the_object_was_not_downloaded_under_finds_the_hash_named_file(paths):
    downloaded = _put(paths, "/opt/ml/processing/baseline/constraints", HASHED, CONSTRAINTS)
    _put(paths, "/opt/ml/processing/baseline/stats", HASHED, STATISTICS)
    env = {"baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json"}
    assert locate(data_quality.CONSTRAINTS, env, paths) == downloaded


def test_a_key_naming_a_folder_finds_the_document_of_its_kind_in_it(paths):
    _put(paths, "/opt/ml/processing/baseline/stats", "notes.txt", BIAS_CONFIG)
    statistics = _put(paths, "/opt/ml/processing/baseline/stats", HASHED, STATISTICS)
    env = {"baseline_statistics": "/opt/ml/processing/baseline/stats"}
    assert locate(data_quality.STATISTICS, env, paths) == statistics


def test_an_unset_key_of_a_required_document_searches_its_conventional_folder(paths):
    statistics = _put(paths, "/opt/ml/processing/baseline/stats", HASHED, STATISTICS)
    assert locate(data_quality.STATISTICS, {}, paths) == statistics


def test_an_analysis_config_no_variable_names_is_found_in_the_input_that_downloaded_it(paths):
    config = _put(paths, "/opt/ml/processing/input/bias_config", HASHED, BIAS_CONFIG)
    analysis = _put(paths, "/opt/ml/processing/baseline/constraints", "analysis.json", BIAS_ANALYSIS)
    _inputs(paths, ("s3://assets/" + HASHED, "/opt/ml/processing/input/bias_config"),
            ("s3://b/bias/analysis.json", "/opt/ml/processing/baseline/constraints"),
            ("s3://b/datacapture/ep/AllTraffic/2026/11/25/08", "/opt/ml/processing/input_data"))
    env = {"analysis_type": "MODEL_BIAS", "sagemaker_monitoring_schedule_name": "s",
           "baseline_constraints": "/opt/ml/processing/baseline/constraints/analysis.json"}
    located = locate_documents(env, paths, bias.input_documents(env))
    assert (located["analysis_config"], located["baseline_constraints"]) == (str(config), str(analysis))


def test_the_folder_of_a_manifest_input_is_not_searched(paths):
    # a window's captures are downloaded by a manifest named *.manifest.json: its folder holds data, not documents
    _put(paths, "/opt/ml/processing/input/endpoint", HASHED, BIAS_CONFIG)
    _inputs(paths, ("s3://b/reports/_manifests/ep/s/capture.manifest.json", "/opt/ml/processing/input/endpoint"),
            data_type="ManifestFile")
    with pytest.raises(AnalyzerInputError, match="processing/input/config does not exist; give it"):
        locate(bias.ANALYSIS_CONFIG, {}, paths)


def test_an_optional_document_whose_key_is_unset_is_absent(paths):
    _put(paths, "/opt/ml/processing/baseline/constraints", HASHED, QUALITY_CONSTRAINTS)
    assert locate(model_quality.CONSTRAINTS, {}, paths) is None


def test_no_document_of_its_kind_is_one_error_naming_the_folder_and_what_it_holds(paths):
    _put(paths, "/opt/ml/processing/baseline/constraints", HASHED, STATISTICS)
    (paths.rebase("/opt/ml/processing/baseline/constraints") / "README").write_text("not json")
    env = {"baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json"}
    with pytest.raises(AnalyzerInputError) as raised:
        locate(data_quality.CONSTRAINTS, env, paths)
    folder = paths.rebase("/opt/ml/processing/baseline/constraints")
    assert raised.value.describe() == (
        f"no data-quality constraints (constraints.json) for baseline_constraints (it names {folder}/constraints.json, "
        f"which does not exist): {folder} holds {HASHED} (the data-quality statistics (statistics.json)), "
        "README (not a JSON object); give it in the schedule's BaselineConfig (ConstraintsResource), or set "
        "baseline_constraints to the file")


def test_an_empty_or_missing_folder_is_said_as_such(paths):
    paths.rebase("/opt/ml/processing/baseline/stats").mkdir(parents=True)
    with pytest.raises(AnalyzerInputError, match=r"stats holds no file; give it in the schedule's BaselineConfig"):
        locate(data_quality.STATISTICS, {}, paths)
    with pytest.raises(AnalyzerInputError, match=r"processing/input/config does not exist; give it in the job "
                                                  r"definition's ConfigUri"):
        locate(bias.ANALYSIS_CONFIG, {}, paths)


def test_two_documents_of_its_kind_are_one_error_naming_both(paths):
    first = _put(paths, "/opt/ml/processing/baseline/constraints", HASHED, QUALITY_CONSTRAINTS)
    second = _put(paths, "/opt/ml/processing/baseline/constraints", "constraints-v2.json", QUALITY_CONSTRAINTS)
    env = {"baseline_constraints": "/opt/ml/processing/baseline/constraints"}
    with pytest.raises(AnalyzerInputError) as raised:
        locate(model_quality.CONSTRAINTS, env, paths)
    assert raised.value.describe() == (
        f"several files are the model-quality constraints (constraints.json) for baseline_constraints: {first}, "
        f"{second}; keep one in the job definition's ModelQualityBaselineConfig (ConstraintsResource), or set "
        "baseline_constraints to the file")


def test_a_lone_json_object_of_no_known_kind_goes_to_its_reader_which_says_what_it_lacks(paths):
    config = paths.rebase("/opt/ml/processing/input/config/" + HASHED)
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"label": "churn", "label_values_or_threshold": [1]}))  # no "facet"
    assert locate(bias.ANALYSIS_CONFIG, {}, paths) == config
    with pytest.raises(AnalyzerInputError, match='"facet" is missing'):
        bias_config.read_analysis_config(config)


def test_a_monitoring_run_reads_its_baseline_and_a_baseline_run_reads_none():
    monitor = {"sagemaker_monitoring_schedule_name": "s"}
    assert data_quality.input_documents(monitor) == (data_quality.STATISTICS, data_quality.CONSTRAINTS)
    assert data_quality.input_documents({}) == ()
    assert model_quality.input_documents(monitor) == (model_quality.CONSTRAINTS,)
    assert bias.input_documents(monitor) == (bias.ANALYSIS_CONFIG, bias.BASELINE)
    assert bias.input_documents({}) == (bias.ANALYSIS_CONFIG,)
