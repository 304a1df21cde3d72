"""The command line a scaled-out ``Baseline.from_dataset`` gives its EMR Serverless job run, run as written on local
Spark (S3 URIs swapped for ``file:`` ones), makes the baseline that the Processing job's environment makes in the
container: for data quality the same statistics (sketches within their bound) and the same constraints; for model
quality and bias the same files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdk_model_monitor import ScaleOut
from cdk_model_monitor.baseline import Baseline, DatasetFormat
from model_monitor_analyzer import cli
from model_monitor_analyzer.contract.entrypoint import run_environment
from model_monitor_analyzer.contract.paths import ContainerPaths
from model_monitor_analyzer.report.model_quality import ESTIMATION_KEY

from .test_spark_bias_baseline import _config as bias_config
from .test_spark_bias_baseline import _csv as bias_csv
from .test_spark_data_quality import assert_same_statistics, write_dataset
from .test_spark_model_quality_baseline import CASES as MODEL_QUALITY_CASES

DATASET_URI = "s3://ml-data/churn/train/"
OUTPUT_URI = "s3://monitoring-bucket/baselines/v3"
CONFIG_URI = "s3://ml-config/churn/bias/analysis_config.json"


@pytest.mark.parametrize(("dataset_format", "suffix"), [(DatasetFormat.csv(header=False), ".csv"),
                                                        (DatasetFormat.json_lines(), ".jsonl")])
def test_the_spark_job_arguments_make_the_processing_jobs_baseline(tmp_path, spark, dataset_format, suffix):
    baseline = Baseline.from_dataset(DATASET_URI, dataset_format=dataset_format, scale_out=ScaleOut(),
                                     environment={"drift_method": "psi", "max_bad_record_ratio": "0.2"})
    arguments = baseline.spark_arguments(OUTPUT_URI)
    environment = baseline.job_environment()

    # the dataset, as the Spark job reads it by URI and as SageMaker downloads it for the Processing job
    root = tmp_path / "opt-ml"
    paths = ContainerPaths(root=root)
    folder = paths.rebase(environment["dataset_source"])
    folder.mkdir(parents=True)
    frame = write_dataset(folder / f"part-0{suffix}", rows=4_000)
    if suffix == ".csv":  # DatasetFormat.csv(header=False): the rows only
        path = folder / "part-0.csv"
        path.write_text(path.read_text().split("\n", 1)[1])

    spark_output = tmp_path / "spark-output"
    swapped = [folder.as_uri() + "/" if a == DATASET_URI else spark_output.as_uri() if a == OUTPUT_URI else a
               for a in arguments]
    assert swapped != arguments and swapped[:5] == ["baseline", "--engine", "spark", "--type", "data-quality"]
    assert cli.main([*swapped, "--quiet"]) == 0

    outcome = run_environment(environment, paths)
    assert outcome.status.value == "Completed"
    processing_output = paths.rebase(environment["output_path"])
    ours = {name: json.loads((spark_output / name).read_text()) for name in ("statistics.json", "constraints.json")}
    theirs = {name: json.loads((processing_output / name).read_text())
              for name in ("statistics.json", "constraints.json")}
    # the first column: "_c0" without a header, "score" in JSON Lines
    first = "_c0" if suffix == ".csv" else "score"
    assert ours["statistics.json"]["features"][0]["name"] == first
    assert_same_statistics(ours["statistics.json"], theirs["statistics.json"],
                           exact={first: frame["score"].astype(float).to_numpy()})
    assert ours["constraints.json"] == theirs["constraints.json"]
    assert ours["statistics.json"]["dataset"]["item_count"] == len(frame)


def _run_both(tmp_path, baseline, write_dataset, *, config: dict | None = None) -> tuple[Path, Path]:
    """The Spark job's arguments run on local Spark (S3 URIs swapped for ``file:`` ones) and the Processing job's
    environment run in the container's layout, on the same dataset (and analysis config): their output folders."""
    arguments = baseline.spark_arguments(OUTPUT_URI)
    environment = baseline.job_environment()
    root = tmp_path / "opt-ml"
    paths = ContainerPaths(root=root)
    folder = write_dataset(paths.rebase(environment["dataset_source"]))
    swaps = {DATASET_URI: folder.as_uri() + "/", OUTPUT_URI: (tmp_path / "spark-output").as_uri()}
    if config is not None:  # where the Processing job downloads its config input, and the file the Spark job reads
        config_file = paths.rebase(environment["analysis_config"])
        config_file.parent.mkdir(parents=True)
        config_file.write_text(json.dumps(config))
        swaps[CONFIG_URI] = config_file.as_uri()
    swapped = [swaps.get(a, a) for a in arguments]
    assert [a for a in arguments if a not in swapped] == list(swaps)  # each URI was in the command line
    assert cli.main([*swapped, "--quiet"]) == 0
    outcome = run_environment(environment, paths)
    assert outcome.status.value == "Completed", outcome.message
    return tmp_path / "spark-output", paths.rebase(environment["output_path"])


def _documents(folder: Path, names: tuple[str, ...]) -> dict[str, object]:
    found = {}
    for name in names:
        document = json.loads((folder / name).read_text())
        if isinstance(document.get("dataset"), dict):
            document["dataset"].pop("evaluation_time", None)  # the time of the run
        found[name] = document
    return found


@pytest.mark.parametrize(("case", "dataset_format"), [("binary", DatasetFormat.csv(header=True)),
                                                       ("multiclass", DatasetFormat.json_lines())])
def test_the_spark_job_arguments_make_the_processing_jobs_model_quality_baseline(tmp_path, spark, case,
                                                                                 dataset_format):
    """Every field of statistics.json and constraints.json (metrics, suggested thresholds, label-free estimation)."""
    write, options = MODEL_QUALITY_CASES[case]
    settings = dict(zip(options[::2], options[1::2], strict=True))
    environment = {"analysis_type": "MODEL_QUALITY", "max_bad_record_ratio": "0.01", "comparison": "threshold",
                   **{name: settings[flag] for name, flag in (
                       ("problem_type", "--problem-type"), ("inference_attribute", "--inference-attribute"),
                       ("probability_attribute", "--probability-attribute"),
                       ("ground_truth_attribute", "--ground-truth-attribute"),
                       ("positive_label", "--positive-label")) if flag in settings}}
    baseline = Baseline.from_dataset(DATASET_URI, dataset_format=dataset_format, environment=environment,
                                     scale_out=ScaleOut())
    ours, theirs = _run_both(tmp_path, baseline, write)
    names = ("statistics.json", "constraints.json")
    assert _documents(ours, names) == _documents(theirs, names)
    constraints = json.loads((ours / "constraints.json").read_text())
    section = "binary_classification_constraints" if case == "binary" else "multiclass_classification_constraints"
    assert constraints[section] and constraints[ESTIMATION_KEY]["calibration"]["method"]  # what the comparison covers


def test_the_spark_job_arguments_make_the_processing_jobs_bias_baseline(tmp_path, spark):
    """analysis.json, every metric of both stages, with the config the Processing job gets as an input."""
    config = bias_config("text/csv", headers=True)
    baseline = Baseline.from_dataset(DATASET_URI, environment={"analysis_type": "MODEL_BIAS",
                                                               "max_bad_record_ratio": "0.01"},
                                     analysis_config=CONFIG_URI, scale_out=ScaleOut())
    ours, theirs = _run_both(tmp_path, baseline, bias_csv, config=config)
    analysis = json.loads((theirs / "analysis.json").read_text())
    assert json.loads((ours / "analysis.json").read_text()) == analysis
    metrics = {metric["name"] for stage in ("pre_training_bias_metrics", "post_training_bias_metrics")
               for facet in analysis[stage]["facets"].values() for group in facet for metric in group["metrics"]}
    assert {"CI", "DPL", "CDDL", "DPPL", "FT", "AD"} <= metrics
