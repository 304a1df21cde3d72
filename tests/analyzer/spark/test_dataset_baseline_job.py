"""The command line a scaled-out ``Baseline.from_dataset`` gives its EMR Serverless job run, run as written on local
Spark (S3 URIs swapped for ``file:`` ones), makes the baseline that the Processing job's environment makes in the
container: the same statistics (sketches within their bound) and the same constraints."""

from __future__ import annotations

import json

import pytest

from cdk_model_monitor import ScaleOut
from cdk_model_monitor.baseline import Baseline, DatasetFormat
from model_monitor_analyzer import cli
from model_monitor_analyzer.contract.entrypoint import run_environment
from model_monitor_analyzer.contract.paths import ContainerPaths

from .test_spark_data_quality import assert_same_statistics, write_dataset

DATASET_URI = "s3://ml-data/churn/train/"
OUTPUT_URI = "s3://monitoring-bucket/baselines/v3"


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
