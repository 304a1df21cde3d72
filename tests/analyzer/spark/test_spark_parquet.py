"""Parquet datasets on the Spark runner: read by Spark's Parquet reader (split by row groups), each split's Arrow
batches cast back to the types pyarrow reads the file with and profiled as the local engine profiles a Parquet file.

Against the local engine on the same files, at several partitionings: the data-quality baseline's exact fields
(counts, types, minimum, maximum, categories, constraints) are identical, sums and means equal to rounding and
the KLL buckets within the sketch's rank error, as for CSV (``test_spark_data_quality``); the model-quality
baseline is identical in every field.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model_monitor_analyzer import cli
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import data_quality as dq_job
from model_monitor_analyzer.monitors import model_quality as mq_job

ROW_GROUP = 700  # rows: several row groups a file, so that small splits cut the files


def _table(rng: np.random.Generator, count: int, offset: int) -> pa.Table:
    """The types a Parquet dataset has, with nulls: Spark reads several of them as other Arrow types (timestamps
    in microseconds with a time zone, UINT64 as a decimal, dictionary-encoded text as plain text)."""
    start = datetime(2024, 3, 1, tzinfo=UTC)
    scores = rng.random(count)
    labels = (rng.random(count) < scores).astype(np.int64)
    kinds = rng.choice(np.array(["red", "green", "blue", "ünïcode"]), size=count)
    missing = rng.random(count) < 0.05
    return pa.table({
        "score": pa.array(scores),
        "predicted": pa.array((scores > 0.5).astype(np.int64)),
        "label": pa.array(labels),
        "age": pa.array(rng.integers(18, 90, count).astype(np.int32), mask=missing),
        "weight": pa.array(rng.normal(70, 12, count).astype(np.float32)),
        "kind": pa.array(kinds).dictionary_encode(),
        "member": pa.array(rng.random(count) < 0.3),
        "seen": pa.array([start + timedelta(minutes=int(m)) for m in rng.integers(0, 10_000, count)],
                         pa.timestamp("ms")),
        "seen_utc": pa.array([start + timedelta(seconds=int(m)) for m in rng.integers(0, 10_000, count)],
                             pa.timestamp("us", tz="UTC")),
        "big": pa.array(rng.integers(0, 2**62, count).astype(np.uint64) * np.uint64(3), pa.uint64()),
        "day": pa.array([(start + timedelta(days=int(d))).date() for d in rng.integers(0, 40, count)], pa.date32()),
        "address": pa.array([{"city": str(k), "zip": int(z)} for k, z in zip(kinds, rng.integers(1000, 9999, count),
                                                                              strict=True)]),
        "tags": pa.array([[str(k)] * int(n) for k, n in zip(kinds, rng.integers(0, 3, count), strict=True)]),
        "raw": pa.array([f"id-{offset + i}".encode() for i in range(count)], pa.binary()),
    })


def _dataset(folder: Path, *, files: int = 3, per_file: int = 2_000, seed: int = 21) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for index in range(files):
        pq.write_table(_table(rng, per_file, index * per_file), folder / f"part-{index:05d}.parquet",
                       row_group_size=ROW_GROUP)
    (folder / "_SUCCESS").write_text("")  # Spark's marker, skipped by both engines
    return folder


@pytest.fixture(scope="module")
def parquet_dataset(tmp_path_factory) -> Path:
    return _dataset(tmp_path_factory.mktemp("parquet") / "dataset")


def _features(folder: Path) -> dict[str, dict]:
    return {feature["name"]: feature for feature in json.loads((folder / "statistics.json").read_text())["features"]}


def _same_statistics(spark: dict, local: dict, path: str = "") -> None:
    """Every field identical, but sums and means (added in another order) equal to rounding and the KLL sketch's
    buckets and quantiles, which ``test_spark_data_quality`` bounds against numpy."""
    assert spark.keys() == local.keys(), path
    for key, theirs in local.items():
        ours = spark[key]
        if key in ("kll",):
            continue
        if isinstance(theirs, dict):
            _same_statistics(ours, theirs, f"{path}.{key}")
        elif key in ("sum", "mean", "std_dev"):
            assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9), f"{path}.{key}"
        else:
            assert ours == theirs, f"{path}.{key}"


@pytest.mark.parametrize("split_bytes", [None, 24 << 10])
def test_a_parquet_data_quality_baseline_profiles_as_the_local_engine(spark, split_files, parquet_dataset,
                                                                      split_bytes, tmp_path):
    local = tmp_path / "local"
    assert dq_job.run_baseline(dq_job.baseline_request(cli.build_parser("data-quality").parse_args([
        "baseline", "--dataset", str(parquet_dataset), "--output", str(local), "--quiet"]))).status \
        is RunStatus.COMPLETED
    out = tmp_path / "spark"
    with split_files(split_bytes):
        assert cli.main(["baseline", "--dataset", parquet_dataset.as_uri(), "--output", str(out), "--quiet",
                         "--engine", "spark"]) == 0
    ours, theirs = _features(out), _features(local)
    assert list(ours) == list(theirs)
    assert {"address.city", "address.zip", "tags", "raw", "seen", "seen_utc", "big"} <= set(ours)
    for name, feature in theirs.items():
        _same_statistics(ours[name], feature, name)
    assert json.loads((out / "constraints.json").read_text()) == json.loads((local / "constraints.json").read_text())


@pytest.mark.parametrize("split_bytes", [None, 24 << 10])
def test_a_parquet_model_quality_baseline_equals_the_local_engine(spark, split_files, parquet_dataset, split_bytes,
                                                                  tmp_path):
    argv = ["baseline", "--type", "model-quality", "--dataset", str(parquet_dataset), "--quiet",
            "--problem-type", "BinaryClassification", "--inference-attribute", "predicted", "--probability-attribute",
            "score", "--ground-truth-attribute", "label"]
    local = tmp_path / "local"
    outcome = mq_job.run_baseline(mq_job.baseline_request(cli.build_parser("model-quality").parse_args(
        [*argv, "--output", str(local)])))
    assert outcome.status is RunStatus.COMPLETED
    out = tmp_path / "spark"
    with split_files(split_bytes):
        assert cli.main([*argv, "--output", str(out), "--engine", "spark"]) == 0
    for name in ("statistics.json", "constraints.json"):
        assert json.loads((out / name).read_text()) == json.loads((local / name).read_text()), name
    assert json.loads((out / "outcome.json").read_text())["summary"] == outcome.summary


def test_a_file_that_is_not_parquet_is_one_line(spark, tmp_path, capsys):
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "data.parquet").write_text("score,label\n0.5,1\n")
    assert cli.main(["baseline", "--dataset", str(folder), "--output", str(tmp_path / "out"), "--engine",
                     "spark"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.splitlines() == [error] and "not a Parquet file" in error and "data.parquet" in error


def test_a_corrupt_parquet_file_is_one_line(spark, tmp_path, capsys):
    """Its footer reads, its pages do not: Spark's reader fails the task, said in one line naming the file (the local
    engine counts the file as one bad record; on Spark the run stops)."""
    folder = tmp_path / "dataset"
    folder.mkdir()
    pq.write_table(pa.table({"a": list(range(1_000))}), folder / "data.parquet", row_group_size=100)
    data = bytearray((folder / "data.parquet").read_bytes())
    data[200:1_200] = b"\x55" * 1_000
    (folder / "data.parquet").write_bytes(bytes(data))
    assert cli.main(["baseline", "--dataset", str(folder), "--output", str(tmp_path / "out"), "--engine",
                     "spark"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.splitlines() == [error] and "Spark cannot read the input" in error and "data.parquet" in error
    assert not (tmp_path / "out" / "statistics.json").exists()
