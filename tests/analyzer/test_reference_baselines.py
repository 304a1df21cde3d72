"""Baselines reproduce the real statistics.json / constraints.json the built-in wrote for the same CSVs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from model_monitor_analyzer.cli import main

CASES = [
    # (example folder, dataset, header?, statistics, constraints)
    ("sdk-data-quality-check", "baseline_dataset.csv", False, "statistics.json", "good_cases/constraints.json"),
    (
        "immersion-day-churn-data-quality",
        "training-dataset-with-header.csv",
        True,
        "notebook-output/statistics.json",
        "notebook-output/constraints.json",
    ),
]


@pytest.fixture(scope="module", params=CASES, ids=[c[0] for c in CASES])
def baseline_run(request, reference_examples, tmp_path_factory):
    folder, dataset, header, statistics, constraints = request.param
    root = reference_examples / folder
    out = tmp_path_factory.mktemp(folder)
    # the built-in's drift rule: the suggestion is then exactly the built-in's file
    argv = ["baseline", "--dataset", str(root / dataset), "--output", str(out), "--quiet", "--drift-method", "sagemaker"]
    if not header:
        argv.append("--no-header")
    assert main(argv) == 0
    return {
        "ours": json.loads((out / "statistics.json").read_text()),
        "theirs": json.loads((root / statistics).read_text()),
        "our_constraints": json.loads((out / "constraints.json").read_text()),
        "their_constraints": json.loads((root / constraints).read_text()),
    }


def test_dataset_block_and_version_match(baseline_run):
    assert baseline_run["ours"]["version"] == baseline_run["theirs"]["version"] == 0.0
    assert baseline_run["ours"]["dataset"] == baseline_run["theirs"]["dataset"]


def test_feature_names_and_inferred_types_match(baseline_run):
    ours = {f["name"]: f["inferred_type"] for f in baseline_run["ours"]["features"]}
    for feature in baseline_run["theirs"]["features"]:
        assert ours[feature["name"]] == feature["inferred_type"]


def test_exact_statistics_match_bit_for_bit(baseline_run):
    ours = {f["name"]: f["numerical_statistics"] for f in baseline_run["ours"]["features"]}
    for feature in baseline_run["theirs"]["features"]:
        theirs = feature["numerical_statistics"]
        mine = ours[feature["name"]]
        for key in ("common", "mean", "sum", "min", "max"):
            assert mine[key] == theirs[key], (feature["name"], key)


def test_population_std_dev_matches_within_a_few_ulps(baseline_run):
    # Spark's sequential Welford update fixes the last bits by row order; ours merges batches exactly.
    ours = {f["name"]: f["numerical_statistics"] for f in baseline_run["ours"]["features"]}
    for feature in baseline_run["theirs"]["features"]:
        expected = feature["numerical_statistics"]["std_dev"]
        assert math.isclose(ours[feature["name"]]["std_dev"], expected, rel_tol=1e-13), feature["name"]


def test_kll_buckets_and_sketch_match_exactly(baseline_run):
    ours = {f["name"]: f["numerical_statistics"]["distribution"]["kll"] for f in baseline_run["ours"]["features"]}
    for feature in baseline_run["theirs"]["features"]:
        theirs = feature["numerical_statistics"]["distribution"]["kll"]
        mine = ours[feature["name"]]
        assert mine["buckets"] == theirs["buckets"], feature["name"]
        assert mine["sketch"]["parameters"] == theirs["sketch"]["parameters"]
        if "data" in theirs["sketch"]:  # four features lost their data when the log was cut
            assert mine["sketch"]["data"] == theirs["sketch"]["data"], feature["name"]


def test_suggested_constraints_equal_the_built_in_suggestion(baseline_run):
    assert baseline_run["our_constraints"] == baseline_run["their_constraints"]


def test_default_suggestion_is_the_built_in_one_plus_the_sample_size_aware_keys(reference_examples, tmp_path):
    root = reference_examples / "immersion-day-churn-data-quality"
    assert main(["baseline", "--dataset", str(root / "training-dataset-with-header.csv"), "--output", str(tmp_path),
                 "--quiet"]) == 0
    ours = json.loads((tmp_path / "constraints.json").read_text())
    theirs = json.loads((root / "notebook-output" / "constraints.json").read_text())
    config = ours["monitoring_config"]
    distribution = config["distribution_constraints"]
    assert (distribution.pop("drift_method"), distribution.pop("significance_level"),
            config.pop("drift_share_threshold")) == ("auto", 0.005, 0.5)
    assert ours == theirs


def test_header_less_csv_columns_get_spark_names(reference_examples, tmp_path):
    assert main(["baseline", "--dataset", str(reference_examples / "sdk-monitor-fixtures" / "baseline_dataset.csv"),
                 "--no-header", "--output", str(tmp_path), "--quiet"]) == 0
    names = [f["name"] for f in json.loads((tmp_path / "statistics.json").read_text())["features"]]
    assert names == [f"_c{i}" for i in range(10)]


def test_built_in_statistics_fixture_is_readable(reference_examples):
    from model_monitor_analyzer.report.statistics import baseline_features

    features = baseline_features(json.loads(Path(reference_examples / "sdk-monitor-fixtures" / "statistics.json").read_text()))
    assert features["message"].categories == {"preproc-not-YET-supported-for-csv-json": 418.0}
