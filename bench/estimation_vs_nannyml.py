"""The analyzer's label-free estimate against NannyML's CBPE, on the same data and the same calibration.

Data as in ``bench.estimation`` (simulated covariate shift, known probabilities, a miscalibrated score), the
calibration the analyzer's baseline fits on the reference (``checks.performance_estimation.fit_calibration``),
then each window estimated by the analyzer and, in NannyML's own environment, by NannyML's CBPE with a
calibrator applying the same breakpoints (``bench/contenders/nannyml_cbpe.py``). NannyML does not install in the
project's environment: point ``NANNYML_PYTHON`` at the Python of a virtualenv with ``nannyml==0.13.1`` (and
``statsmodels``, which it imports without declaring it).

Run: ``NANNYML_PYTHON=<venv>/bin/python python -m bench.estimation_vs_nannyml [--windows 10 --size 5000]``;
writes ``bench/results/estimation-vs-nannyml.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from bench.estimation import CLASSES, REFERENCE_SIZE, SEED, THRESHOLD, simulate, simulate_multiclass
from bench.peer_env import REPO_ROOT
from model_monitor_analyzer.checks import performance_estimation as pe

RESULTS = REPO_ROOT / "bench" / "results" / "estimation-vs-nannyml.md"
CONTENDER = REPO_ROOT / "bench" / "contenders" / "nannyml_cbpe.py"
#: The names NannyML gives the metrics the analyzer estimates.
NANNYML_NAMES = {"estimated_auc": "roc_auc", "estimated_accuracy": "accuracy", "estimated_precision": "precision",
                 "estimated_recall": "recall", "estimated_f1": "f1"}


def compare(python: str, *, windows: int, size: int, seed: int = SEED) -> dict[str, object]:
    """Both estimates of every window and the largest absolute difference per metric."""
    rng = np.random.default_rng(seed)
    _, reference_scores, reference_labels = simulate(rng, REFERENCE_SIZE, 0.0)
    calibration = pe.fit_calibration(reference_scores, reference_labels).calibration
    if calibration is None:
        raise RuntimeError("the reference's scores needed no calibration: the comparison would not test one")
    parts = [simulate(rng, size, rng.uniform(-1.0, 1.0)) for _ in range(windows)]
    scores = np.concatenate([s for _, s, _ in parts])
    ours = []
    for _, window, _ in parts:
        estimates = pe.estimate_binary(window, calibration.apply(window), window > THRESHOLD, auc_draws=0)
        ours.append({name: estimates[name].value for name in NANNYML_NAMES})
    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch) / "data.npz", Path(scratch) / "nannyml.json"
        np.savez(source, reference_scores=reference_scores, reference_predicted=(reference_scores > THRESHOLD).astype(int),
                 reference_labels=reference_labels.astype(int), analysis_scores=scores,
                 analysis_predicted=(scores > THRESHOLD).astype(int), chunk_size=size,
                 calibration_scores=calibration.scores, calibration_probabilities=calibration.probabilities)
        subprocess.run([python, str(CONTENDER), str(source), str(target)], check=True, cwd=scratch,
                       env={**os.environ, "DO_NOT_TRACK": "1", "NML_DISABLE_USAGE_LOGGING": "1"})
        theirs = json.loads(target.read_text())
    if len(theirs["chunks"]) != windows:
        raise RuntimeError(f"NannyML made {len(theirs['chunks'])} chunks of {windows} windows")
    differences = {name: max(abs(o[name] - t[NANNYML_NAMES[name]]) for o, t in zip(ours, theirs["chunks"], strict=True))
                   for name in NANNYML_NAMES}
    return {"nannyml": theirs["nannyml"], "ours": ours, "theirs": theirs["chunks"], "differences": differences}


MULTICLASS_CONTENDER = REPO_ROOT / "bench" / "contenders" / "nannyml_cbpe_multiclass.py"


def compare_multiclass(python: str, *, windows: int, size: int, seed: int = SEED) -> dict[str, object]:
    """Both multiclass estimates (accuracy, macro precision/recall/F1/ROC AUC) of every window, with the same
    per-class calibrations, and the largest absolute difference per metric."""
    from model_monitor_analyzer.checks import multiclass_estimation as me

    rng = np.random.default_rng(seed)
    _, reference_scores, reference_labels = simulate_multiclass(rng, REFERENCE_SIZE, 0.0)
    calibrations = me.fit_class_calibrations(reference_scores, reference_labels)
    parts = [simulate_multiclass(rng, size, rng.uniform(-1.0, 1.0)) for _ in range(windows)]
    scores = np.concatenate([s for _, s, _ in parts])
    ours = []
    for _, window, _ in parts:
        estimates = me.estimate_multiclass(window, calibrations.probabilities(window), np.argmax(window, axis=1),
                                           auc_draws=0)
        ours.append({name: estimates[name].value for name in NANNYML_NAMES})
    kept = {}
    for i, choice in enumerate(calibrations.choices):
        found = choice.calibration
        kept[f"scores_{i}"] = np.array([]) if found is None else found.scores
        kept[f"probabilities_{i}"] = np.array([]) if found is None else found.probabilities
    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch) / "data.npz", Path(scratch) / "nannyml.json"
        np.savez(source, classes=np.array(CLASSES), reference_scores=reference_scores,
                 reference_predicted=np.argmax(reference_scores, axis=1), reference_labels=reference_labels,
                 analysis_scores=scores, analysis_predicted=np.argmax(scores, axis=1), chunk_size=size, **kept)
        subprocess.run([python, str(MULTICLASS_CONTENDER), str(source), str(target)], check=True, cwd=scratch,
                       env={**os.environ, "DO_NOT_TRACK": "1", "NML_DISABLE_USAGE_LOGGING": "1"})
        theirs = json.loads(target.read_text())
    if len(theirs["chunks"]) != windows:
        raise RuntimeError(f"NannyML made {len(theirs['chunks'])} chunks of {windows} windows")
    differences = {name: max(abs(o[name] - t[NANNYML_NAMES[name]]) for o, t in zip(ours, theirs["chunks"], strict=True))
                   for name in NANNYML_NAMES}
    return {"nannyml": theirs["nannyml"], "ours": ours, "theirs": theirs["chunks"], "differences": differences,
            "calibrated_classes": sum(c.calibration is not None for c in calibrations.choices)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=10)
    parser.add_argument("--size", type=int, default=5_000)
    args = parser.parse_args(argv)
    python = os.environ.get("NANNYML_PYTHON")
    if not python:
        parser.error("set NANNYML_PYTHON to the Python of a virtualenv with nannyml==0.13.1 and statsmodels")
    found = compare(python, windows=args.windows, size=args.size)
    lines = ["# Benchmark: label-free estimation against NannyML's CBPE", "",
             f"Command: `NANNYML_PYTHON=<venv>/bin/python python -m bench.estimation_vs_nannyml --windows "
             f"{args.windows} --size {args.size}` (NannyML {found['nannyml']})", "",
             "Same simulated windows, same calibration (the analyzer's, applied by a NannyML calibrator).", "",
             "| Metric | Largest absolute difference over the windows | Goal |", "|---|---:|---|"]
    lines += [f"| {NANNYML_NAMES[name]} | {difference:.2e} | <= 0.005 |"
              for name, difference in found["differences"].items()]  # type: ignore[union-attr]
    multiclass = compare_multiclass(python, windows=args.windows, size=args.size)
    lines += ["", "## Multiclass", "",
              f"Four classes, the same windows' sizes, per-class scores `p ** 2` renormalised; the analyzer's one-vs-rest calibrations "
              f"({multiclass['calibrated_classes']} of {len(CLASSES)} classes kept one), applied by a NannyML calibrator "
              "per class; NannyML's multiclass CBPE (macro averages) against `estimate_multiclass`.", "",
              "| Metric | Largest absolute difference over the windows | Goal |", "|---|---:|---|"]
    lines += [f"| {NANNYML_NAMES[name]}{'' if name == 'estimated_accuracy' else ' (macro)'} | {difference:.2e} | <= 0.005 |"
              for name, difference in multiclass["differences"].items()]  # type: ignore[union-attr]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
