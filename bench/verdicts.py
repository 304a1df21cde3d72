"""Verdict benchmark: false alarms on unchanged windows and detection of known changes, per window size.

A 20-feature baseline (numeric, skewed, integer, low-, mid- and high-cardinality categories) is drawn
once; windows are drawn from the same distribution (unchanged) or with one known change each:

* ``mean shift 0.25 sd``: ``num_0`` moved by a quarter of its standard deviation;
* ``scale x1.5``: ``num_1`` spread 1.5 times wider around its mean;
* ``share +10 points``: one category of ``cat_0`` gains 10 points of share, the others lose in proportion;
* ``new category 5%``: 5 % of ``cat_1``'s values are a value the baseline never saw;
* ``missing +5 points``: ``num_2``, 3 % of whose values are missing in the baseline (as are ``cat_mid``'s),
  misses 8 % of them.

Every window goes through the analyzer's data-quality job (``run_monitor``, CSV written by pandas)
three ways: our default (the constraints' ``drift_method`` ``auto``), SageMaker's rule (``--drift-method
sagemaker``: L-infinity Robust against 0.1) and, with ``--evidently``, Evidently's DataDriftPreset in
the peers' environment. A window counts as *flagged* when it raises any violation, whatever its check (an
alarm pages on any of them; Evidently: any drifted column). For unchanged windows that share is the
false-alarm rate, for changed ones the detection rate; a further table names the checks behind our flagged
windows.

With ``--evidently`` every window CSV is kept (the very file, hence the same draw, our analyzer
read), and ``contenders/evidently_verdicts.py`` runs ``Report([DataDriftPreset()])`` with Evidently's
defaults on all of them in one process of the peers' environment (``.bench-venv/``, built when
missing), the baseline CSV as reference. Three more tables: any drifted column, Evidently's dataset
drift (at least half of the columns drifted, its default share 0.5), and, for changed windows, the
changed column among the drifted ones.

Model quality: a binary classifier's scores and labels; its baseline from 2,000 labelled rows (with the
label-free estimation block: the windows also get the estimates' drop checks, prediction drift and the
concept-shift gaps). Windows unchanged, with accuracy down 5 points (labels of correctly classified rows
flipped) and with the model's inputs shifted (a change only the scores show); our default (sample-size-aware
thresholds, every test of the window in one false-discovery family) against the built-in's (thresholds at
the baseline's values). Flagged: any model-quality violation; a further table names the checks behind our
flagged windows (realised metric, estimate, prediction drift part, concept-shift metric).

Run: ``python -m bench.verdicts`` (defaults: sizes 50 to 100,000, 200 windows per cell up to 1,000
rows, fewer above; ``--evidently`` adds Evidently, which runs meanwhile the model-quality part does;
``--only model-quality`` runs that part alone, ``--quality-changes`` picks its changes, ``--compare-rules`` judges
every window's p-values by each rule of a window's decision as well, for data quality by running the window
again with each rule in place of ours);
results in ``bench/results/verdicts.md``. Seeded: the same options give the same table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from model_monitor_analyzer.cli import main as analyzer
from model_monitor_analyzer.jobs.requests import InputFormat, InputOptions
from model_monitor_analyzer.monitors import data_quality as dq
from model_monitor_analyzer.monitors.data_quality.request import (
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
)

BASELINE_ROWS = 20_000
SIZES = (50, 200, 500, 1_000, 10_000, 100_000)
CAT0 = ["a", "b", "c", "d", "e"]
CAT0_P = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
CAT1 = ["x", "y", "z"]
CAT1_P = np.array([0.5, 0.3, 0.2])
MID = [f"m{i:02d}" for i in range(30)]
MID_P = (1 / np.arange(1, 31)) / (1 / np.arange(1, 31)).sum()
MISSING_SHARE = 0.03  # of num_2 and cat_mid, in the baseline and in unchanged windows


def draw(rng: np.random.Generator, rows: int, change: str = "unchanged") -> pd.DataFrame:
    """``rows`` rows of the 20 features, with ``change`` applied."""
    frame: dict[str, object] = {}
    for i in range(8):
        mean, sd = 10.0 * i, 1.0 + i
        values = rng.normal(mean, sd, rows)
        if i == 0 and change == "mean shift 0.25 sd":
            values = values + 0.25 * sd
        if i == 1 and change == "scale x1.5":
            values = mean + (values - mean) * 1.5
        if i == 2:  # a feature with missing values (empty in the CSV), more of them in the changed windows
            values[rng.random(rows) < (MISSING_SHARE + (0.05 if change == "missing +5 points" else 0.0))] = np.nan
        frame[f"num_{i}"] = values
    frame["skew_0"] = rng.lognormal(0, 1, rows)
    frame["skew_1"] = rng.exponential(3, rows)
    frame["skew_2"] = rng.gamma(2, 2, rows)
    frame["skew_3"] = rng.pareto(3, rows)
    frame["int_0"] = rng.poisson(3, rows)
    frame["int_1"] = rng.integers(0, 100, rows)
    frame["int_2"] = rng.binomial(10, 0.3, rows)
    frame["int_3"] = rng.integers(18, 90, rows)
    p0 = CAT0_P
    if change == "share +10 points":
        p0 = np.concatenate(([CAT0_P[0] + 0.10], CAT0_P[1:] * (1 - CAT0_P[0] - 0.10) / CAT0_P[1:].sum()))
    frame["cat_0"] = rng.choice(CAT0, rows, p=p0)
    cat1 = rng.choice(CAT1, rows, p=CAT1_P).astype(object)
    if change == "new category 5%":
        cat1[rng.random(rows) < 0.05] = "new"
    frame["cat_1"] = cat1
    cat_mid = rng.choice(MID, rows, p=MID_P).astype(object)
    cat_mid[rng.random(rows) < MISSING_SHARE] = None
    frame["cat_mid"] = cat_mid
    frame["cat_high"] = [f"id{v}" for v in rng.integers(0, 5_000, rows)]
    return pd.DataFrame(frame)


DATA_CHANGES = ("unchanged", "mean shift 0.25 sd", "scale x1.5", "share +10 points", "new category 5%",
                "missing +5 points")
CHANGED_COLUMN = {"mean shift 0.25 sd": "num_0", "scale x1.5": "num_1", "share +10 points": "cat_0",
                  "new category 5%": "cat_1", "missing +5 points": "num_2"}


@dataclass
class Cell:
    flagged: int = 0
    windows: int = 0
    #: check -> windows where it raised a violation (model quality: what the flagged windows were flagged for)
    checks: dict[str, int] = field(default_factory=dict)

    def rate(self) -> str:
        return f"{self.flagged / self.windows:.1%} ({self.flagged}/{self.windows})" if self.windows else "-"


def _violations(folder: Path) -> list[dict]:
    path = folder / "constraint_violations.json"
    return json.loads(path.read_text())["violations"] if path.exists() else []


#: Unchanged windows up to 1,000 rows are drawn this many times more often: a false-alarm rate near 1 %
#: needs about a thousand windows to be told from 0.5 % or 2 %.
NULL_WINDOWS_FACTOR = 5


def windows_per_size(size: int, small: int, change: str = "") -> int:
    """``small`` windows up to 1,000 rows (``NULL_WINDOWS_FACTOR`` times that unchanged), then fewer (the
    cost grows with the size)."""
    if size <= 1_000:
        return small * (NULL_WINDOWS_FACTOR if change == "unchanged" else 1)
    return max(10, small // 4) if size <= 10_000 else max(5, small // 20)


def window_name(size: int, change: str, index: int) -> str:
    """The file name of a kept window: its size, change and index."""
    return f"n{size}-c{DATA_CHANGES.index(change)}-{index:04d}.csv"


def window_cell(name: str) -> tuple[str, int]:
    """(change, size) of a kept window's file name."""
    size, change, _ = name.removesuffix(".csv").split("-")
    return DATA_CHANGES[int(change[1:])], int(size[1:])


def _data_quality_rules() -> dict[str, Callable]:
    """Other rules of a data-quality window's decision, each in place of ``window_discoveries`` (check -> feature ->
    p-value, level -> check -> discoveries) for ``--compare-rules``: one Benjamini-Hochberg procedure per check (the
    analyzer's decision before one per window), and one pooled procedure over every test of the window (each test
    keyed by check and feature). The analyzer's own gives each check an equal share (model quality's rule)."""
    from model_monitor_analyzer.checks.drift import benjamini_hochberg

    def pooled(families, level):
        found = benjamini_hochberg({(check, name): p for check, tests in families.items()
                                    for name, p in tests.items()}, level)
        return {check: frozenset(name for name in tests if (check, name) in found)
                for check, tests in families.items()}

    return {"per check": lambda families, level: {check: benjamini_hochberg(tests, level)
                                                  for check, tests in families.items()},
            "pooled": pooled}


def data_quality_table(work: Path, *, sizes: Iterable[int], small: int, seed: int,
                       progress: Callable[[str], None], keep: Path | None = None,
                       compare_rules: bool = False) -> dict[tuple[str, str, int], Cell]:
    """(mode, change, size) -> flagged windows, for our default and SageMaker's rule.

    ``keep``: a folder where every window CSV stays (named by ``window_name``), for other tools to
    judge the same windows; the baseline is ``work / "baseline.csv"``. ``compare_rules``: every window also judged
    by each of ``_data_quality_rules()`` in place of the analyzer's decision (mode ``rule <name>``)."""
    from model_monitor_analyzer.checks import data_quality as checks

    own = checks.window_discoveries
    modes: list[tuple[str, str | None, Callable]] = [("ours", None, own), ("sagemaker", "sagemaker", own)]
    if compare_rules:
        modes += [(f"rule {name}", None, rule) for name, rule in _data_quality_rules().items()]
    rng = np.random.default_rng(seed)
    draw(rng, BASELINE_ROWS).to_csv(work / "baseline.csv", index=False)
    quiet = InputOptions(progress=False)
    dq.run_baseline(DataQualityBaselineRequest(dataset=work / "baseline.csv", output=work / "baseline", reading=quiet))
    cells: dict[tuple[str, str, int], Cell] = {}
    for size in sizes:
        for change in DATA_CHANGES:
            count = windows_per_size(size, small, change)
            started = time.monotonic()
            for index in range(count):
                window = keep / window_name(size, change, index) if keep is not None else work / "window.csv"
                draw(rng, size, change).to_csv(window, index=False)
                for mode, method, rule in modes:
                    out = work / f"out-{mode.replace(' ', '-')}"
                    checks.window_discoveries = rule
                    try:
                        dq.run_monitor(DataQualityMonitorRequest(
                            capture=window, input_format=InputFormat.CSV, output=out, reading=quiet,
                            statistics=work / "baseline" / "statistics.json",
                            constraints=work / "baseline" / "constraints.json", drift_method=method, overwrite=True))
                    finally:
                        checks.window_discoveries = own
                    found = _violations(out)  # any check's violation: an alarm pages whatever raised it
                    flagged = bool(found)
                    cell = cells.setdefault((mode, change, size), Cell())
                    cell.windows += 1
                    cell.flagged += flagged
                    for kind in {v["constraint_check_type"] for v in found}:
                        cell.checks[kind] = cell.checks.get(kind, 0) + 1
                    if mode == "ours" and change == "unchanged" and flagged:
                        progress(f"  false alarm at n={size}: " + "; ".join(
                            v["feature_name"] + ": " + v["description"][:160] for v in found))
            progress(f"n={size:>7} {change:<20} " + "  ".join(
                f"{mode} {cells[(mode, change, size)].rate():>16}" for mode, _, _ in modes)
                + f"  ({time.monotonic() - started:.0f} s)")
    return cells


EVIDENTLY_MODES = {
    "evidently": "Evidently DataDriftPreset (defaults): any drifted column",
    "evidently-dataset": "Evidently DataDriftPreset (defaults): dataset drift (drifted share at least 0.5)",
    "evidently-changed": "Evidently DataDriftPreset (defaults): the changed column among the drifted ones",
}


def start_evidently(work: Path, windows: Path, python: Path, *, progress: Callable[[str], None]) -> subprocess.Popen:
    """``contenders/evidently_verdicts.py`` on every window in ``windows`` (reference ``work / "baseline.csv"``),
    one process run by the peers' ``python``, started in the background; ``evidently_table`` collects it."""
    from bench.peer_env import PEER_ENV_VARS, REPO_ROOT

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.update(PEER_ENV_VARS)
    progress(f"evidently: {sum(1 for _ in windows.glob('*.csv'))} windows, one process in the background")
    with (work / "evidently-summary.json").open("w") as summary:
        return subprocess.Popen(
            [str(python), "-m", "bench.contenders.evidently_verdicts", "--baseline", str(work / "baseline.csv"),
             "--windows", str(windows), "--out", str(work / "evidently.jsonl")],
            env=env, cwd=REPO_ROOT, stdout=summary)


def evidently_table(work: Path, process: subprocess.Popen, *, progress: Callable[[str], None]) -> tuple[
        dict[tuple[str, str, int], Cell], dict]:
    """Waits for ``start_evidently``'s process; (mode, change, size) -> flagged windows by Evidently's
    DataDriftPreset (any column, dataset drift, the changed column), and the run's summary (Evidently's
    version, the test each column got, and ``unchanged``: per size, the mean count of drifted columns in
    unchanged windows and the columns drifted in every one of them)."""
    if process.wait() != 0:
        raise RuntimeError(f"the Evidently contender failed (exit status {process.returncode})")
    summary = json.loads((work / "evidently-summary.json").read_text().strip().splitlines()[-1])
    cells: dict[tuple[str, str, int], Cell] = {}
    unchanged: dict[int, list[set[str]]] = {}
    for line in (work / "evidently.jsonl").read_text().splitlines():
        result = json.loads(line)
        change, size = window_cell(result["window"])
        flags = {"evidently": bool(result["drifted"]), "evidently-dataset": result["dataset_drift"]}
        if change in CHANGED_COLUMN:
            flags["evidently-changed"] = CHANGED_COLUMN[change] in result["drifted"]
        else:
            unchanged.setdefault(size, []).append(set(result["drifted"]))
        for mode, flagged in flags.items():
            cell = cells.setdefault((mode, change, size), Cell())
            cell.windows += 1
            cell.flagged += flagged
    summary["unchanged"] = {size: (sum(map(len, drifted)) / len(drifted), sorted(set.intersection(*drifted)))
                            for size, drifted in sorted(unchanged.items())}
    for size, change in sorted({(s, c) for (_, c, s) in cells}, key=lambda k: (k[0], DATA_CHANGES.index(k[1]))):
        progress(f"n={size:>7} {change:<20} evidently {cells[('evidently', change, size)].rate():>16}  "
                 f"dataset drift {cells[('evidently-dataset', change, size)].rate():>16}")
    progress(f"evidently {summary['version']}: {summary['windows']} windows in {summary['seconds']:.0f} s")
    return cells, summary


MODEL_CHANGES = ("unchanged", "accuracy -5 points", "inputs shift 0.25 sd")
QUALITY_BASELINE_ROWS = 2_000
QUALITY_SIZES = (50, 200, 1_000, 2_000, 10_000)


def draw_labelled(rng: np.random.Generator, rows: int, change: str = "unchanged") -> tuple[np.ndarray, np.ndarray]:
    """A calibrated binary classifier's scores and labels (accuracy about 0.76); ``accuracy -5 points`` flips
    the label of a share of the correctly classified rows that takes 5 points of accuracy away; ``inputs shift
    0.25 sd`` moves the model's input by a quarter of its standard deviation, the labels still drawn from the
    scores (a covariate shift: the scores' distribution moves, the model stays calibrated)."""
    x = rng.normal(size=rows)
    if change == "inputs shift 0.25 sd":
        x = x + 0.25
    scores = 1 / (1 + np.exp(-2 * x))
    labels = (rng.random(rows) < scores).astype(int)
    if change == "accuracy -5 points":
        correct = (scores > 0.5) == (labels == 1)
        expected_accuracy = 0.76
        flip = correct & (rng.random(rows) < 0.05 / expected_accuracy)
        labels = np.where(flip, 1 - labels, labels)
    return scores, labels


def _merged(folder: Path, scores: np.ndarray, labels: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"eventVersion": "0", "groundTruthData": {"data": str(label), "encoding": "CSV"},
                         "captureData": {"endpointOutput": {"data": f"{score:.6f}", "encoding": "CSV", "mode": "OUTPUT",
                                                            "observedContentType": "text/csv"}},
                         "eventMetadata": {"eventId": f"e{i}", "inferenceTime": "2026-01-01T10:00:00Z"}})
             for i, (score, label) in enumerate(zip(scores, labels))]
    (folder / "part-00000.jsonl").write_text("\n".join(lines) + "\n")


def quality_checks(out: Path) -> set[str]:
    """The checks behind a model-quality window's violations: ``realised <metric>``, ``estimated <metric>``,
    ``prediction drift <part>`` (scores, below_range, above_range, predicted_labels) and ``concept shift <metric>``
    (the parts and metrics read from statistics.json's estimation block)."""
    from model_monitor_analyzer.report.model_quality import ESTIMATION_KEY

    found: set[str] = set()
    block: dict = {}
    statistics = out / "statistics.json"
    if statistics.exists():
        block = json.loads(statistics.read_text()).get(ESTIMATION_KEY) or {}
    for violation in _violations(out):
        name = violation["metric_name"]
        if name == "predictionDrift":
            found.update(f"prediction drift {part}" for part in block.get("prediction_drift", {}).get("flagged", [])
                         or ["?"])
        elif name == "conceptShift":
            flagged = block.get("labelled_rows", {}).get("concept_shift", {}).get("flagged", []) or ["?"]
            found.update(f"concept shift {metric}" for metric in flagged)
        elif name.startswith("estimated"):
            found.add(f"estimated {name.removeprefix('estimated')[:1].lower()}{name.removeprefix('estimated')[1:]}")
        else:
            found.add(f"realised {name}")
    return found


def weighted_discoveries(families: dict[str, dict[str, float]], level: float) -> dict[str, frozenset[str]]:
    """Genovese, Roeder and Wasserman's weighted Benjamini-Hochberg over every p-value of the window, each kind of
    check an equal total weight (a test of a kind of ``m_k`` tests among ``m`` in ``K`` kinds weighs
    ``m / (K m_k)``; the weights average 1): Benjamini-Hochberg on ``p / w``. A comparison for ``--compare-rules``."""
    from model_monitor_analyzer.checks.drift import benjamini_hochberg

    finite = {family: {name: p for name, p in found.items() if not np.isnan(p)} for family, found in families.items()}
    kinds = [family for family, found in finite.items() if found]
    total = sum(len(finite[family]) for family in kinds)
    scaled = {f"{family}/{name}": min(1.0, p * len(kinds) * len(finite[family]) / total)
              for family in kinds for name, p in finite[family].items()}
    found = benjamini_hochberg(scaled, level)
    return {family: frozenset(name for name in tested if f"{family}/{name}" in found)
            for family, tested in families.items()}


def _rules() -> dict[str, Callable[[dict[str, dict[str, float]], float], dict[str, frozenset[str]]]]:
    """The rules ``--compare-rules`` judges every window's p-values by (the analyzer's own, ``joint``, among them)."""
    from model_monitor_analyzer.checks import quality_decision as qd

    return {"pooled": qd.pooled_discoveries, "joint": qd.joint_discoveries, "weighted": weighted_discoveries}


def _check_name(family: str, name: str) -> str:
    from model_monitor_analyzer.monitors.model_quality import estimation
    from model_monitor_analyzer.report.model_quality import camel_case_metric_name

    if family == estimation.PREDICTION_DRIFT:
        return f"prediction drift {name}"
    if family == estimation.CONCEPT_SHIFT:
        return f"concept shift {name}"
    return f"{family} {camel_case_metric_name(name) if family == 'realised' else name}"


def model_quality_table(work: Path, *, sizes: Iterable[int], small: int, seed: int,
                        progress: Callable[[str], None], changes: Iterable[str] = MODEL_CHANGES,
                        compare_rules: bool = False) -> dict[tuple[str, str, int], Cell]:
    """(mode, change, size) -> windows with any model-quality violation, for our default (significance)
    and the built-in's rule (thresholds at the baseline's values). ``compare_rules``: our default alone, and
    every window's p-values (recorded from ``estimation.estimate_window``) judged again by each of ``_rules()``
    offline, as mode ``rule <name>``; a window whose violations differ from what the analyzer's own rule says of
    its p-values stops the bench."""
    from model_monitor_analyzer.checks import quality_decision as qd
    from model_monitor_analyzer.monitors.model_quality import estimation

    recorded: list[estimation.WindowEstimation] = []
    levels: list[float] = []
    original = estimation.estimate_window

    def recording(*args, **kwargs):
        found = original(*args, **kwargs)
        recorded.append(found)
        levels.append(kwargs["decision"].significance_level)
        return found

    rules = _rules() if compare_rules else {}
    if compare_rules:
        estimation.estimate_window = recording
    try:
        return _model_quality_table(work, sizes=sizes, small=small, seed=seed, progress=progress, changes=changes,
                                    rules=rules, recorded=recorded, levels=levels, own=qd.joint_discoveries)
    finally:
        estimation.estimate_window = original


def _model_quality_table(work: Path, *, sizes: Iterable[int], small: int, seed: int, progress: Callable[[str], None],
                         changes: Iterable[str], rules: dict, recorded: list, levels: list[float],
                         own: Callable) -> dict[tuple[str, str, int], Cell]:
    rng = np.random.default_rng(seed + 1)
    scores, labels = draw_labelled(rng, QUALITY_BASELINE_ROWS)
    pd.DataFrame({"score": scores, "label": labels}).to_csv(work / "labelled.csv", index=False)
    model = ["--problem-type", "BinaryClassification", "--probability-threshold", "0.5"]
    for mode, comparison in (("ours", "significance"), ("sagemaker", "threshold")):
        assert analyzer(["baseline", "--type", "model-quality", "--dataset", str(work / "labelled.csv"), "--quiet",
                         "--inference-attribute", "score", "--probability-attribute", "score",
                         "--ground-truth-attribute", "label", *model, "--comparison", comparison,
                         "--output", str(work / f"mq-{mode}")]) == 0
    cells: dict[tuple[str, str, int], Cell] = {}
    for size in sizes:
        for change in changes:
            count = windows_per_size(size, small, change)
            started = time.monotonic()
            for _ in range(count):
                merged = work / "merged"
                shutil.rmtree(merged, ignore_errors=True)
                _merged(merged, *draw_labelled(rng, size, change))
                for mode in ("ours",) if rules else ("ours", "sagemaker"):
                    recorded.clear()
                    levels.clear()
                    out = work / f"mq-out-{mode}"
                    assert analyzer(["monitor", "--type", "model-quality", "--merged", str(merged), "--quiet",
                                     "--overwrite", "--no-metrics", "--inference-attribute", "0",
                                     "--probability-attribute", "0", *model, "--output", str(out),
                                     "--constraints", str(work / f"mq-{mode}" / "constraints.json")]) == 0
                    cell = cells.setdefault((mode, change, size), Cell())
                    cell.windows += 1
                    cell.flagged += bool(_violations(out))
                    for check in quality_checks(out):
                        cell.checks[check] = cell.checks.get(check, 0) + 1
                    if rules and mode == "ours":
                        (window,), (level,) = recorded, levels
                        if any(own(window.family, level).values()) != bool(_violations(out)):
                            raise AssertionError(f"n={size} {change}: the analyzer's violations are not its rule's")
                        for name, rule in rules.items():
                            judged = cells.setdefault((f"rule {name}", change, size), Cell())
                            found = rule(window.family, level)
                            judged.windows += 1
                            judged.flagged += any(found.values())
                            for family, names in found.items():
                                for tested in names:
                                    check = _check_name(family, tested)
                                    judged.checks[check] = judged.checks.get(check, 0) + 1
            other = ("  ".join(f"{name} {cells[(f'rule {name}', change, size)].rate():>16}" for name in rules)
                     if rules else f"built-in {cells[('sagemaker', change, size)].rate():>16}")
            progress(f"model quality n={size:>6} {change:<20} ours {cells[('ours', change, size)].rate():>16}  "
                     f"{other}  ({time.monotonic() - started:.0f} s)")
    return cells


def markdown(cells: dict[tuple[str, str, int], Cell], sizes: list[int], modes: dict[str, str]) -> str:
    """One table per mode: rows = change, columns = window size."""
    lines = []
    for mode, title in modes.items():
        lines += [f"### {title}", "", "| change | " + " | ".join(f"n = {s:,}" for s in sizes) + " |",
                  "|---|" + "---|" * len(sizes)]
        changes = sorted({c for (m, c, _) in cells if m == mode}, key=lambda c: (c != "unchanged", c))
        for change in changes:
            label = f"{change} (false alarms)" if change == "unchanged" else f"{change} (detected)"
            lines.append(f"| {label} | " + " | ".join(cells.get((mode, change, s), Cell()).rate() for s in sizes) + " |")
        lines.append("")
    return "\n".join(lines)


def checks_markdown(cells: dict[tuple[str, str, int], Cell], sizes: list[int], mode: str) -> str:
    """Per change, the windows each check flagged (``mode``'s cells; a window may be flagged by several)."""
    lines = []
    for change in sorted({c for (m, c, _) in cells if m == mode}, key=lambda c: (c != "unchanged", c)):
        checks = sorted({k for (m, c, _), cell in cells.items() if m == mode and c == change for k in cell.checks})
        if not checks:
            continue
        lines += [f"Windows {change} flagged by each check:", "",
                  "| check | " + " | ".join(f"n = {s:,}" for s in sizes) + " |", "|---|" + "---|" * len(sizes)]
        for check in checks:
            lines.append(f"| {check} | " + " | ".join(
                f"{cells[(mode, change, s)].checks.get(check, 0)}/{cells[(mode, change, s)].windows}"
                if (mode, change, s) in cells else "-" for s in sizes) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verdicts", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="window sizes (rows)")
    parser.add_argument("--windows", type=int, default=200, help="windows per cell up to 1,000 rows (default 200)")
    parser.add_argument("--quality-sizes", type=int, nargs="*", default=list(QUALITY_SIZES),
                        help="labelled window sizes of the model-quality part (none: skip it)")
    parser.add_argument("--evidently", action="store_true",
                        help="also Evidently's DataDriftPreset (defaults) on the same windows, in the peers' "
                             "virtualenv (built when missing)")
    parser.add_argument("--quality-changes", nargs="+", choices=MODEL_CHANGES, default=list(MODEL_CHANGES),
                        help="the model-quality part's changes (default: all)")
    parser.add_argument("--only", choices=("data-quality", "model-quality"),
                        help="run one part of the bench (the other part's tables are left out of the page)")
    parser.add_argument("--compare-rules", action="store_true",
                        help="model quality: our default alone, every window's p-values also judged by each rule of "
                             "a window's decision (one pooled family, kinds by Simes, weighted by kind); data "
                             "quality: every window also judged with one procedure per check and with one pooled "
                             "procedure")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results" / "verdicts.md")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="verdicts-"))
    judging: subprocess.Popen | None = None
    try:
        def say(text: str) -> None:
            print(text, file=sys.stderr, flush=True)
        keep, peer_python = None, None
        if args.only == "model-quality" and args.evidently:
            parser.error("--evidently judges the data-quality windows: not with --only model-quality")
        if args.evidently:
            from bench.peer_env import ensure_peer_env

            peer_python = ensure_peer_env(log=say)  # before the long part: a venv that cannot be built stops here
            keep = work / "windows"
            keep.mkdir()
        cells = (data_quality_table(work, sizes=args.sizes, small=args.windows, seed=args.seed, progress=say,
                                    keep=keep, compare_rules=args.compare_rules) if args.only != "model-quality" else {})
        if keep is not None and peer_python is not None:
            judging = start_evidently(work, keep, peer_python, progress=say)
        quality = (model_quality_table(work, sizes=args.quality_sizes, small=args.windows, seed=args.seed, progress=say,
                                       changes=args.quality_changes, compare_rules=args.compare_rules)
                   if args.quality_sizes and args.only != "data-quality" else {})
        evidently, evidently_run = evidently_table(work, judging, progress=say) if judging is not None else ({}, {})
    finally:
        if judging is not None and judging.poll() is None:
            judging.kill()
            judging.wait()
        shutil.rmtree(work, ignore_errors=True)
    text = ("# Verdict benchmark\n\n`python -m bench.verdicts "
            + " ".join(argv if argv is not None else sys.argv[1:]) + "`\n\n")
    if cells:
        text += ("Share of windows raising any data-quality violation (drift of a feature or of the dataset, "
                 "completeness, type, categorical values, non-finite values).\n\n"
                 + markdown(cells, args.sizes, {"ours": "Ours (auto: effect and evidence, one decision over the "
                                                        "window's tests, each check an equal share)",
                                                "sagemaker": "SageMaker's rule (L-infinity Robust, threshold 0.1)"})
                 + "\nOurs, the checks behind the violations:\n\n" + checks_markdown(cells, args.sizes, "ours")
                 + "\nSageMaker's rule, the checks behind the violations:\n\n"
                 + checks_markdown(cells, args.sizes, "sagemaker"))
        if args.compare_rules:
            rules = {f"rule {name}": f"Ours with the rule {name!r} in place of the window's decision"
                     for name in _data_quality_rules()}
            text += ("\nThe same windows judged by other rules of the window's decision (ours gives each check an "
                     "equal share: Simes within a check, Benjamini-Hochberg over the checks, then within the selected "
                     "ones, model quality's rule; per check: one Benjamini-Hochberg procedure per check, the analyzer's "
                     "decision before one per window; pooled: one Benjamini-Hochberg procedure over every test of the "
                     "window).\n\n" + markdown(cells, args.sizes, rules)
                     + "".join(f"\n{title}, the checks behind the violations:\n\n"
                               + checks_markdown(cells, args.sizes, mode) for mode, title in rules.items()))
    if evidently:
        tests = "; ".join(f"{method} ({', '.join(columns)})" for method, columns in evidently_run["methods"].items())
        text += (f"\nEvidently {evidently_run['version']}, `Report([DataDriftPreset()])` with its defaults on the same "
                 f"windows, the baseline as reference; each column gets Evidently's default test and threshold: {tests}. "
                 "A window is flagged when any column drifted; dataset drift is Evidently's own verdict (at least "
                 "half of the columns drifted); the last table counts a changed window when the column changed ("
                 + ", ".join(f"{change}: `{column}`" for change, column in CHANGED_COLUMN.items())
                 + ") is among the drifted ones, whatever else drifted. Unchanged windows, drifted columns on "
                 "average (and those drifted in every unchanged window): "
                 + "; ".join(f"n = {size:,}: {mean:.1f} ({', '.join(always) or 'none'})"
                             for size, (mean, always) in evidently_run["unchanged"].items())
                 + ".\n\n" + markdown(evidently, args.sizes, EVIDENTLY_MODES))
    if quality:
        text += ("\n## Model quality\n\nShare of windows raising any model-quality violation (binary classifier, "
                 f"baseline of {QUALITY_BASELINE_ROWS:,} labelled rows).\n\n"
                 + markdown(quality, args.quality_sizes, {
                     "ours": "Ours (significance at the window's size, one false-discovery decision over every test of "
                             "the window)",
                     **({} if args.compare_rules else {
                         "sagemaker": "The built-in's rule (thresholds at the baseline's values)"})})
                 + "\nOurs, the checks behind the violations (realised metrics, label-free estimates, prediction drift, "
                 "concept shift):\n\n" + checks_markdown(quality, args.quality_sizes, "ours"))
        if args.compare_rules:
            rules = {f"rule {name}": f"Rule {name}, on the same windows' p-values" for name in _rules()}
            text += ("\nThe same windows' p-values judged by each rule of a window's decision (pooled: one "
                     "Benjamini-Hochberg family; joint: each kind by Simes, Benjamini-Hochberg over the kinds, then "
                     "within the selected kinds; weighted: Benjamini-Hochberg with each kind an equal total weight).\n\n"
                     + markdown(quality, args.quality_sizes, rules)
                     + "".join(f"\n{title}, the checks behind the violations:\n\n"
                               + checks_markdown(quality, args.quality_sizes, mode) for mode, title in rules.items()))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
