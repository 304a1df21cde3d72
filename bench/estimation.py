"""Label-free performance estimation: interval coverage, error, false alarms and cost.

Simulated covariate shift with known probabilities: inputs ``x ~ N(mu, 1)``, ``P(y = 1 | x) =
sigmoid(2 x - 0.5)`` fixed (only the inputs move), the model's score ``P(y = 1 | x)^2`` (miscalibrated, so
the baseline's isotonic calibration matters), predicted positive above 0.25. The reference (the labelled
model-quality baseline) has 20,000 rows at ``mu = 0``; each window draws ``mu`` uniformly in [-1, 1] and
labels from the true probabilities. Measured per window size:

* coverage: the share of windows whose realised accuracy / ROC AUC lies inside the estimate's 95 % interval;
* MAE of the estimated accuracy against the realised;
* false alarms: unchanged windows (``mu = 0``) where the estimated-accuracy verdict or the prediction-drift
  verdict fires (the analyzer's own ``estimate_window``, significance level 0.01);
* cost: the analyzer's monitor over the 1,000,000 captures of ``bench.model_quality_speed`` without labels,
  with a baseline that keeps the reference (estimation + prediction drift) against one that does not (the
  same read, a NoData window); the difference against the labelled monitoring run of the same data.

Run: ``python -m bench.estimation --windows 200 --sizes 1000 10000 [--speed-records 1000000]``; writes
``bench/results/estimation.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench.model_quality_speed import CAPTURE_HOURS, START, ensure_data
from bench.peer_env import REPO_ROOT
from bench.run import ANALYZER, RUNS_ROOT, child_env
from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks import multiclass_estimation as me
from model_monitor_analyzer.checks import performance_estimation as pe
from model_monitor_analyzer.checks import quality_decision as qd
from model_monitor_analyzer.checks.prediction_drift import ReferencePredictions
from model_monitor_analyzer.monitors.model_quality.estimation import (
    EstimationReference,
    WindowOutputs,
    estimate_window,
)
from model_monitor_analyzer.profile.model_quality import BinaryState

RESULTS = REPO_ROOT / "bench" / "results" / "estimation.md"
REFERENCE_SIZE = 20_000
THRESHOLD = 0.25
SEED = 22


def simulate(rng: np.random.Generator, n: int, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true probabilities, scores, labels) of ``n`` rows whose inputs are shifted by ``shift``."""
    x = rng.normal(shift, 1.0, n)
    p = 1.0 / (1.0 + np.exp(-(2.0 * x - 0.5)))
    return p, p**2, rng.random(n) < p


#: A softmax model of four classes on two inputs: the multiclass data's true probabilities.
CLASSES = ("cat", "dog", "emu", "fox")
_WEIGHTS = np.array([[1.5, -1.0, 0.2, -0.6], [0.3, 1.2, -1.4, 0.1]])
_BIASES = np.array([0.2, 0.0, -0.3, 0.1])


def simulate_multiclass(rng: np.random.Generator, n: int, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true probabilities, the model's over-confident per-class scores ``p ** 2`` divided by their sum, labels
    drawn from the probabilities) of ``n`` rows whose two inputs are moved by ``shift`` (covariate shift)."""
    logits = rng.normal(shift, 1.0, (n, 2)) @ _WEIGHTS + _BIASES
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = np.minimum((rng.random((n, 1)) >= np.cumsum(p, axis=1)).sum(axis=1), len(CLASSES) - 1)
    sharpened = p**2
    return p, sharpened / sharpened.sum(axis=1, keepdims=True), labels


def multiclass_coverage(windows: int, size: int, rng: np.random.Generator,
                        calibrations: me.ClassCalibrations) -> dict[str, float]:
    """Share of windows whose realised accuracy, macro F1 and macro ROC AUC lie inside the estimate's 95 % interval,
    and the MAE of the estimated accuracy, with the per-class calibrations of the reference."""
    inside = {"accuracy": 0, "f1": 0, "auc": 0}
    errors = []
    for _ in range(windows):
        _, scores, labels = simulate_multiclass(rng, size, rng.uniform(-1.0, 1.0))
        predicted = np.argmax(scores, axis=1)
        estimates = me.estimate_multiclass(scores, calibrations.probabilities(scores), predicted)
        realised = me.realised_values(labels, predicted, scores, len(CLASSES))
        for metric in inside:
            e = estimates[f"estimated_{metric}"]
            inside[metric] += e.lower <= realised[f"estimated_{metric}"] <= e.upper
        errors.append(abs(estimates["estimated_accuracy"].value - realised["estimated_accuracy"]))
    return {**{f"{m}_coverage": count / windows for m, count in inside.items()},
            "accuracy_mae": float(np.mean(errors))}


def reference_block(rng: np.random.Generator) -> EstimationReference:
    """The baseline's estimation block, made as the analyzer makes it, from a labelled reference."""
    _, scores, labels = simulate(rng, REFERENCE_SIZE, 0.0)
    predicted = scores > THRESHOLD
    metrics = mq.binary_state_metrics(BinaryState.of(labels, predicted, scores))
    errors = qd.standard_errors(mq.ProblemType.BINARY_CLASSIFICATION, metrics)
    choice = pe.fit_calibration(scores, labels)
    realised = {name: metrics[name].value for name in pe.ESTIMATED_METRICS.values()}  # type: ignore[union-attr]
    return EstimationReference(REFERENCE_SIZE, realised, {k: errors[k] for k in realised},
                               ReferencePredictions.of(np.where(predicted, "1", "0"), scores), choice.calibration,
                               estimates=True, replicates=choice.replicates)


def coverage(windows: int, size: int, rng: np.random.Generator, reference: EstimationReference) -> dict[str, float]:
    inside = {"accuracy": 0, "auc": 0}
    errors = []
    for _ in range(windows):
        _, scores, labels = simulate(rng, size, rng.uniform(-1.0, 1.0))
        predicted = scores > THRESHOLD
        estimates = reference.estimate(WindowOutputs(np.where(predicted, "1", "0"), scores, predicted))
        realised = {"accuracy": mq.accuracy(mq.binary_counts(labels, predicted)), "auc": mq.roc_auc(scores, labels)}
        for metric in inside:
            e = estimates[f"estimated_{metric}"]
            inside[metric] += e.lower <= realised[metric] <= e.upper
        errors.append(abs(estimates["estimated_accuracy"].value - realised["accuracy"]))
    return {"accuracy_coverage": inside["accuracy"] / windows, "auc_coverage": inside["auc"] / windows,
            "accuracy_mae": float(np.mean(errors))}


def false_alarms(windows: int, size: int, rng: np.random.Generator, reference: EstimationReference) -> dict[str, int]:
    decision = qd.QualityDecision(comparison=qd.SIGNIFICANCE)
    counts = {"estimate": 0, "prediction_drift": 0}
    for _ in range(windows):
        _, scores, _ = simulate(rng, size, 0.0)
        predicted = scores > THRESHOLD
        found = estimate_window(reference, WindowOutputs(np.where(predicted, "1", "0"), scores, predicted),
                                decision=decision)
        counts["estimate"] += bool(found.violations)
        counts["prediction_drift"] += bool(found.drift is not None and found.drift.drifted)
    return counts


def _run(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the process and every process it waited for) of a command
    in a fresh process; CPU time is what the estimate costs whatever else the machine runs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=child_env(), cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} ... failed: {done.stdout[-500:]}{done.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _monitor(data_root: Path, constraints: Path | None, output: Path, *, labelled: bool) -> list[str]:
    """The monitor over the capture hours, which have no label (``labelled=False``), or over the labels' hour
    with a look-back over the capture hours (``bench.model_quality_speed``'s run)."""
    window_start = START if labelled else START - timedelta(hours=CAPTURE_HOURS)
    window_end = START + timedelta(hours=1) if labelled else START
    return [*ANALYZER, "monitor", "--type", "model-quality", "--capture", str(data_root / "capture"),
            "--ground-truth", str(data_root / "groundtruth"), "--output", str(output), "--overwrite",
            "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
            "--probability-threshold", "0.5", *(["--constraints", str(constraints)] if constraints else []),
            "--start", window_start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", window_end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            *(["--ground-truth-lookback", f"PT{CAPTURE_HOURS}H"] if labelled else []), "--quiet"]


def speed(records: int, repeat: int) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds, the fastest of ``repeat``, of the unlabelled window with and without the estimation
    block, and of the labelled run without a baseline (``bench.model_quality_speed``'s)."""
    data = ensure_data(records)
    RUNS_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=RUNS_ROOT, prefix="estimation-") as scratch:
        folder = Path(scratch)
        rng = np.random.default_rng(SEED)
        labels = rng.random(50_000) < 0.3  # the bench data's generator: 30 % positive, score higher for positives
        scores = np.round(np.clip(0.35 * labels + rng.uniform(0.0, 0.65, labels.size), 0.0, 1.0), 6)
        (folder / "reference.csv").write_text("score,label\n" + "".join(
            f"{s!r},{int(y)}\n" for s, y in zip(scores.tolist(), labels.tolist(), strict=True)))
        _run([*ANALYZER, "baseline", "--type", "model-quality", "--dataset", str(folder / "reference.csv"),
              "--problem-type", "BinaryClassification", "--probability-attribute", "score",
              "--probability-threshold", "0.5", "--ground-truth-attribute", "label",
              "--output", str(folder / "baseline"), "--quiet"])
        with_block = folder / "baseline" / "constraints.json"
        document = json.loads(with_block.read_text())
        document.pop("cdk_model_monitor_performance_estimation")
        without_block = folder / "plain-constraints.json"
        without_block.write_text(json.dumps(document))
        runs: dict[str, list[tuple[float, float]]] = {"estimated": [], "plain": [], "labelled": []}
        for _ in range(repeat):  # interleaved: a change of the machine's load touches all three alike
            runs["plain"].append(_run(_monitor(data.root, without_block, folder / "b", labelled=False)))
            runs["estimated"].append(_run(_monitor(data.root, with_block, folder / "a", labelled=False)))
            runs["labelled"].append(_run(_monitor(data.root, None, folder / "c", labelled=True)))
        statistics = json.loads((folder / "a" / "statistics.json").read_text())
        assert statistics["cdk_model_monitor_performance_estimation"]["item_count"] == records
    return {name: (min(w for w, _ in found), min(c for _, c in found)) for name, found in runs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--speed-records", type=int, default=1_000_000, help="0: skip the speed measurement")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)
    reference = reference_block(rng)
    lines = ["# Benchmark: label-free performance estimation", "",
             f"Command: `python -m bench.estimation --windows {args.windows} --sizes "
             f"{' '.join(map(str, args.sizes))} --speed-records {args.speed_records} --repeat {args.repeat}`", "",
             "Simulated covariate shift (see the module docstring of `bench/estimation.py`): reference "
             f"{REFERENCE_SIZE:,} labelled rows, windows with the inputs shifted by mu ~ U(-1, 1), labels drawn "
             "from the true probabilities, the model's score miscalibrated and the baseline's isotonic "
             f"calibration {'kept' if reference.calibration is not None else 'not kept'}.", "",
             "| Window size | Windows | Accuracy inside 95 % interval | ROC AUC inside 95 % interval | MAE of "
             "estimated accuracy | False alarms, estimated accuracy (unchanged) | False alarms, prediction drift "
             "(unchanged) |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for size in args.sizes:
        found = coverage(args.windows, size, rng, reference)
        alarms = false_alarms(args.windows, size, rng, reference)
        lines.append(f"| {size:,} | {args.windows} | {found['accuracy_coverage']:.1%} | {found['auc_coverage']:.1%} | "
                     f"{found['accuracy_mae']:.4f} | {alarms['estimate']} of {args.windows} | "
                     f"{alarms['prediction_drift']} of {args.windows} |")
        print(lines[-1], file=sys.stderr, flush=True)
    lines += ["", "Goals: coverage >= 90 % at n >= 1,000; MAE <= 0.01 at n = 10,000; false alarms near the "
              "significance level (0.01)."]
    multiclass_rng = np.random.default_rng(SEED + 1)  # the binary figures stay those of the same seed
    _, reference_scores, reference_labels = simulate_multiclass(multiclass_rng, REFERENCE_SIZE, 0.0)
    calibrations = me.fit_class_calibrations(reference_scores, reference_labels)
    kept = sum(c.calibration is not None for c in calibrations.choices)
    lines += ["", "## Multiclass", "",
              f"Four classes, softmax of two inputs shifted by mu ~ U(-1, 1); the model's per-class scores are the "
              f"true probabilities squared and renormalised (over-confident); reference {REFERENCE_SIZE:,} labelled "
              f"rows, one-vs-rest isotonic calibration kept for {kept} of {len(CLASSES)} classes.", "",
              "| Window size | Windows | Accuracy inside 95 % interval | Macro F1 inside | Macro ROC AUC inside | "
              "MAE of estimated accuracy |", "|---:|---:|---:|---:|---:|---:|"]
    for size in args.sizes:
        found = multiclass_coverage(args.windows, size, multiclass_rng, calibrations)
        lines.append(f"| {size:,} | {args.windows} | {found['accuracy_coverage']:.1%} | {found['f1_coverage']:.1%} | "
                     f"{found['auc_coverage']:.1%} | {found['accuracy_mae']:.4f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    if args.speed_records:
        seconds = speed(args.speed_records, args.repeat)
        load = os.getloadavg()[0]
        added_wall = seconds["estimated"][0] - seconds["plain"][0]
        added_cpu = seconds["estimated"][1] - seconds["plain"][1]
        lines += ["", f"## Cost at {args.speed_records:,} captured inferences", "",
                  f"Fastest of {args.repeat} fresh processes each, interleaved; {os.cpu_count()} CPUs, load average "
                  f"{load:.1f} when the runs ended. CPU = user + system seconds of the run and its worker processes, "
                  "which other jobs on the machine change far less than the wall time.", "",
                  "| Run | Wall seconds | CPU seconds |", "|---|---:|---:|",
                  "| monitor, window without labels, baseline without the estimation block (NoData) | "
                  f"{seconds['plain'][0]:.2f} | {seconds['plain'][1]:.2f} |",
                  "| monitor, window without labels, baseline with the estimation block (estimated) | "
                  f"{seconds['estimated'][0]:.2f} | {seconds['estimated'][1]:.2f} |",
                  "| monitor, labelled window (`bench.model_quality_speed`'s run) | "
                  f"{seconds['labelled'][0]:.2f} | {seconds['labelled'][1]:.2f} |", "",
                  f"Estimation and prediction drift of {args.speed_records:,} predictions add {added_cpu:.2f} CPU s, "
                  f"{added_cpu / seconds['labelled'][1]:.1%} of the labelled model-quality run's CPU time "
                  f"({added_wall:.2f} s wall, {added_wall / seconds['labelled'][0]:.1%}); goal <= 20 %."]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
