"""The Spark runner's model-quality baseline against the local engine on the same files, at several partitionings.

Each split's complete rows become the same per-part state the local run makes of the whole dataset, and the driver
merges them in input order, so every field is identical: the metrics and their spreads, the suggested constraints,
the standard errors and the label-free estimation block (the isotonic calibration fitted on the rows sent back in
input order), and the run summary (rows without a value, rows left out as not finite, malformed records).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest

from model_monitor_analyzer import cli
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.report.model_quality import ESTIMATION_KEY

CLASSES = np.array(["cat", "dog", "emu", "fox"])


def _binary_csv(folder: Path, *, files: int = 3, per_file: int = 1_500, seed: int = 11) -> Path:
    """Miscalibrated scores (so that the isotonic calibration is kept), split over several CSV files, with a row
    without a label, one without a score and a row with a field too many. (A score that is not a finite number
    would leave the estimation block out, on either engine: the regression case has one.)"""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for index in range(files):
        truth = rng.random(per_file)
        labels = (rng.random(per_file) < truth).astype(int)
        scores = np.clip(truth + rng.normal(0, 0.05, per_file), 0, 1) ** 3
        lines = [f"{float(s)!r},{int(s > 0.5)},{y}" for s, y in zip(scores, labels, strict=True)]
        lines[100] = f"{scores[100]!r},1,"
        lines[200] = ",0,1"
        lines[400] = "0.5,1,0,7"
        (folder / f"part-{index}.csv").write_text("score,predicted,label\n" + "\n".join(lines) + "\n")
    return folder


def _multiclass_jsonl(folder: Path, *, files: int = 2, per_file: int = 1_500, seed: int = 12) -> Path:
    """Per-class probabilities listed in one JSON member, distorted (``p ** 2``), with a malformed line."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for index in range(files):
        logits = rng.normal(0, 1.5, size=(per_file, len(CLASSES)))
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        actual = np.array([rng.choice(len(CLASSES), p=row) for row in p])
        lines = [orjson.dumps({"predicted": CLASSES[np.argmax(row)], "probabilities": (row ** 2).tolist(),
                               "label": CLASSES[y]}) for row, y in zip(p, actual, strict=True)]
        lines[50] = b'{"predicted": "cat", '
        (folder / f"part-{index}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return folder


def _regression_csv(folder: Path, *, per_file: int = 4_000, seed: int = 13) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    actual = rng.normal(50, 10, per_file)
    predicted = actual + rng.normal(0, 3, per_file)
    lines = [f"{p:.5f},{a:.5f}" for p, a in zip(predicted, actual, strict=True)]
    lines[10] = "nan,3.0"
    (folder / "data.csv").write_text("\n".join(lines) + "\n")  # no header: columns by position
    return folder


CASES = {
    "binary": (_binary_csv, ["--problem-type", "BinaryClassification", "--inference-attribute", "predicted",
                             "--probability-attribute", "score", "--ground-truth-attribute", "label",
                             "--positive-label", "1"]),
    "multiclass": (_multiclass_jsonl, ["--problem-type", "MulticlassClassification", "--inference-attribute",
                                       "predicted", "--probability-attribute", "probabilities",
                                       "--ground-truth-attribute", "label"]),
    "regression": (_regression_csv, ["--problem-type", "Regression", "--inference-attribute", "0",
                                     "--ground-truth-attribute", "1", "--no-header"]),
}


def _documents(folder: Path, summary: dict[str, object] | None = None) -> dict[str, object]:
    """The run's documents, and its summary (outcome.json's, which the Spark runner writes, unless given)."""
    found = {}
    for name in ("statistics.json", "constraints.json"):
        document = json.loads((folder / name).read_text())
        document.get("dataset", {}).pop("evaluation_time", None)  # the time of the run
        found[name] = document
    found["summary"] = summary if summary is not None else json.loads((folder / "outcome.json").read_text())["summary"]
    return found


@pytest.fixture(scope="module")
def local_baselines(tmp_path_factory):
    """Each case's dataset and the local engine's baseline of it."""
    made = {}
    for case, (write, options) in CASES.items():
        root = tmp_path_factory.mktemp(f"mq-baseline-{case}")
        dataset = write(root / "dataset")
        out = root / "local"
        args = cli.build_parser("model-quality").parse_args([
            "baseline", "--type", "model-quality", "--dataset", str(dataset), "--output", str(out),
            "--max-bad-record-ratio", "0.01", "--quiet", *options])
        outcome = job.run_baseline(job.baseline_request(args))
        assert outcome.status is RunStatus.COMPLETED, outcome.message
        made[case] = (dataset, _documents(out, outcome.summary))
    return made


@pytest.mark.parametrize("split_bytes", [None, 32 << 10, 12 << 10])
@pytest.mark.parametrize("case", list(CASES))
def test_spark_baseline_equals_the_local_engine(spark, split_files, local_baselines, case, split_bytes, tmp_path):
    """Whole files (Spark's default split size), and each file cut into splits read by several tasks."""
    dataset, local_documents = local_baselines[case]
    out = tmp_path / "spark"
    argv = ["baseline", "--type", "model-quality", "--dataset", str(dataset), "--output", str(out),
            "--max-bad-record-ratio", "0.01", "--quiet", "--engine", "spark", *CASES[case][1]]
    if split_bytes is None:  # read from and written to URIs
        argv[argv.index(str(dataset))] = dataset.as_uri()
        argv[argv.index(str(out))] = out.as_uri()
    with split_files(split_bytes):
        assert cli.main(argv) == 0
    assert _documents(out) == local_documents
    constraints = local_documents["constraints.json"]
    summary = local_documents["summary"]
    if case == "binary":  # what the comparison covers: the calibration, the bad and left-out rows
        assert constraints[ESTIMATION_KEY]["calibration"]["method"] == "isotonic"
        assert summary["rows_without_values"] == 6
        assert summary["malformed_records"] == 3
    elif case == "multiclass":
        assert constraints[ESTIMATION_KEY]["calibration"]["method"] == "one_vs_rest_isotonic"
        assert summary["malformed_records"] == 2
    else:
        assert ESTIMATION_KEY not in constraints and summary["non_finite_values"] == 1


def test_spark_baseline_refuses_too_many_bad_records_as_locally(spark, local_baselines, tmp_path, capsys):
    dataset, _ = local_baselines["binary"]
    argv = ["baseline", "--type", "model-quality", "--dataset", str(dataset), "--output", str(tmp_path / "out"),
            "--max-bad-record-ratio", "0.0001", "--quiet", *CASES["binary"][1]]
    assert cli.main(argv) == 2
    local_error = capsys.readouterr().err
    assert cli.main([*argv, "--engine", "spark"]) == 2
    spark_error = capsys.readouterr().err
    assert "malformed" in spark_error and "Traceback" not in spark_error
    # the same first bad record and count (the file named as a path or as a file: URI)
    assert spark_error.split("part-0.csv:", 1)[1] == local_error.split("part-0.csv:", 1)[1]
    assert not (tmp_path / "out" / "statistics.json").exists()
