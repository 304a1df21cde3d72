"""Bias-drift verdicts: false alarms on unchanged windows and detection of known changes, per window size.

The simulated model: a facet ``f`` (1 = the sensitive group d, a share of the rows that the table varies:
10 % and 30 %), a group variable ``g`` (4 values), a binary label positive for 40 % of a's rows and 30 %
of d's, and predictions right for 80 % of the positives and 85 % of the negatives. The baseline is
5,000 rows, written and read back as the analyzer's baseline analysis.json (its ``bias_drift_decision``
block included). Windows of 200, 1,000 and 10,000 rows are drawn from the same model (unchanged) or with
d's predicted-positive rate moved down by 0.05, 0.10 or 0.20 (d's positive predictions turned negative
at random), which moves DPPL, CDDPL, DI and the rates of d away from the baseline.

Each window is analysed in-process (``checks.bias.analyze_bias``, every pre-training metric and every
post-training metric but FT) and judged three ways:

* ours: the sample-size-aware decision the baseline records (``checks.bias_decision.decide``);
* Clarify: Clarify's rule, |current - neutral| > |baseline - neutral| (drift_tolerance 0);
* Clarify + 0.1: Clarify's rule with drift_tolerance 0.1 (the workaround before this decision).

A window counts as *flagged* when it raises any bias-drift violation; for unchanged windows that share
is the false-alarm rate, for changed ones the detection rate. A last table shows the flip test alone
(with one numeric feature), which has no standard error and keeps Clarify's rule.

Run: ``python -m bench.bias_verdicts [--windows 100] [--changed-windows 40]``; results in
``bench/results/bias_verdicts.md``. Seeded: the same options give the same table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from model_monitor_analyzer import constraint_rules as rules
from model_monitor_analyzer.checks.bias import POST_TRAINING_METRICS, BiasAnalysis, FacetSpec, analyze_bias
from model_monitor_analyzer.checks.bias_decision import decide, decision_for_baseline
from model_monitor_analyzer.report.bias import parse_analysis
from model_monitor_analyzer.report.bias_decision import baseline_document

BASELINE_ROWS = 5_000
SIZES = (200, 1_000, 10_000)
SHIFTS = (0.05, 0.10, 0.20)
SENSITIVE_SHARES = (0.1, 0.3)
COUNT_METRICS = [d.name for d in POST_TRAINING_METRICS if d.name != "FT"]
RESULTS = Path(__file__).parent / "results" / "bias_verdicts.md"


def draw(rows: int, rng: np.random.Generator, *, sensitive_share: float, shift: float = 0.0,
         feature: bool = False) -> dict[str, np.ndarray]:
    """Rows of the simulated model; ``shift`` moves d's predicted-positive rate down by that much."""
    facet = rng.random(rows) < sensitive_share
    label = rng.random(rows) < np.where(facet, 0.30, 0.40)
    predicted = np.where(label, rng.random(rows) < 0.80, rng.random(rows) < 0.15)
    if shift:
        rate = 0.30 * 0.80 + 0.70 * 0.15  # d's expected predicted-positive rate
        predicted = predicted & ~(facet & (rng.random(rows) < shift / rate))
    table = {"f": facet.astype(np.int64), "y": label.astype(np.int64), "p": predicted.astype(np.int64),
             "g": rng.integers(0, 4, rows)}
    if feature:
        table["x"] = (rng.normal(size=rows) + label).round(3)
    return table


def analyse(table: dict[str, np.ndarray], methods: list[str]) -> BiasAnalysis:
    """Every pre-training metric and the given post-training ones, facet f = 1, group variable g."""
    return analyze_bias(table, label="y", label_values=[1], facets=[FacetSpec(column="f", values=(1,))],
                        group_variable="g", predicted_label="p", post_training_methods=methods)


def file_baseline(analysis: BiasAnalysis) -> tuple[BiasAnalysis, rules.BiasDecision]:
    """The baseline as a monitor reads it: analysis.json with its decision, written and parsed back."""
    document = json.loads(json.dumps(baseline_document(analysis, decision_for_baseline(analysis))))
    return parse_analysis(document), rules.parse_bias_decision(document)


RULES = ("ours", "Clarify", "Clarify + 0.1")


def judge(baseline: BiasAnalysis, decision: rules.BiasDecision, window: BiasAnalysis) -> dict[str, bool]:
    """Whether each rule flags the window."""
    clarify = rules.BiasDecision(comparison=rules.THRESHOLD)
    return {
        "ours": bool(decide(baseline=baseline, current=window, decision=decision).violations),
        "Clarify": bool(decide(baseline=baseline, current=window, decision=clarify).violations),
        "Clarify + 0.1": bool(decide(baseline=baseline, current=window, decision=clarify, tolerance=0.1).violations),
    }


def _percent(flags: list[bool]) -> str:
    return f"{100 * sum(flags) / len(flags):.1f} %"


def count_metric_table(share: float, windows: int, changed_windows: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    baseline, decision = file_baseline(analyse(draw(BASELINE_ROWS, rng, sensitive_share=share), COUNT_METRICS))
    lines = [f"### Sensitive group {share:.0%} of the rows", "",
             "| window rows | change in d's predicted-positive rate | windows | " + " | ".join(RULES) + " |",
             "|---:|---|---:|" + "---:|" * len(RULES)]
    for size in SIZES:
        for shift in (0.0, *SHIFTS):
            count = windows if shift == 0 else changed_windows
            flags: dict[str, list[bool]] = {rule: [] for rule in RULES}
            for _ in range(count):
                verdicts = judge(baseline, decision, analyse(draw(size, rng, sensitive_share=share, shift=shift),
                                                             COUNT_METRICS))
                for rule, flagged in verdicts.items():
                    flags[rule].append(flagged)
            what = "none (false alarms)" if shift == 0 else f"-{shift:.2f} (detection)"
            lines.append(f"| {size:,} | {what} | {count} | " + " | ".join(_percent(flags[r]) for r in RULES) + " |")
    return [*lines, ""]


def flip_test_table(windows: int, seed: int) -> list[str]:
    """FT on unchanged windows: it has no standard error, so only Clarify's rule with a margin can judge it
    (ours leaves it unjudged with drift_tolerance 0)."""
    rng = np.random.default_rng(seed)
    baseline, _ = file_baseline(analyse(draw(BASELINE_ROWS, rng, sensitive_share=0.2, feature=True), ["FT"]))
    tolerances = (0.0, 0.05, 0.1)
    lines = ["### The flip test alone on unchanged windows (one numeric feature, sensitive group 20 %)", "",
             "FT has no standard error: Clarify's rule with drift_tolerance as its margin is its only rule; "
             "ours leaves it unjudged at drift_tolerance 0.", "",
             "| window rows | windows | " + " | ".join(f"Clarify + {t:g}" for t in tolerances) + " |",
             "|---:|---:|" + "---:|" * len(tolerances)]
    clarify = rules.BiasDecision(comparison=rules.THRESHOLD)
    for size in SIZES:
        flags: dict[float, list[bool]] = {t: [] for t in tolerances}
        for _ in range(windows):
            window = analyse(draw(size, rng, sensitive_share=0.2, feature=True), ["FT"])
            for tolerance in tolerances:
                flags[tolerance].append(bool(decide(baseline=baseline, current=window, decision=clarify,
                                                    tolerance=tolerance).violations))
        lines.append(f"| {size:,} | {windows} | " + " | ".join(_percent(flags[t]) for t in tolerances) + " |")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--windows", type=int, default=100, help="unchanged windows per size (default 100)")
    parser.add_argument("--changed-windows", type=int, default=40, help="windows per size and change (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    lines = ["# Bias-drift verdicts: false alarms and detection", "",
             f"Baseline {BASELINE_ROWS:,} rows; significance level "
             f"{rules.DEFAULT_QUALITY_SIGNIFICANCE_LEVEL} (Benjamini-Hochberg across a window's metrics); "
             f"{len(COUNT_METRICS) + 8} metrics judged per window (FT left out: see the last table). "
             "Flagged: the window raises any bias-drift violation. "
             f"Command: `python -m bench.bias_verdicts --windows {args.windows} --changed-windows "
             f"{args.changed_windows} --seed {args.seed}`.", ""]
    for index, share in enumerate(SENSITIVE_SHARES):
        lines += count_metric_table(share, args.windows, args.changed_windows, seed=args.seed + index)
    lines += flip_test_table(max(args.changed_windows, 20), seed=args.seed + 100)
    lines.append(f"Ran in {time.perf_counter() - started:.0f} s.")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
