"""whylogs: profile the baseline and the capture, then score drift between the two profiles.

Uses ``calculate_drift_scores`` (whylogs' own default per column: Kolmogorov-Smirnov on its KLL
sketches for numbers, chi-squared on frequent items for strings), which is what its drift report
shows. Run in the peers' environment. Prints load and compute seconds, row counts and the columns
whylogs classes as DRIFT.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import version
from pathlib import Path

from bench.contenders.frames import load_both


def drift_scores(reference, current) -> list[str]:
    """Profile both frames and score every column; return the columns in the DRIFT category."""
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    reference_view = why.log(reference).view()
    current_view = why.log(current).view()
    scores = calculate_drift_scores(
        target_view=current_view, reference_view=reference_view, with_thresholds=True
    )
    return [column for column, score in scores.items() if score and score.get("drift_category") == "DRIFT"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--capture", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    reference, current = load_both(args.baseline, args.capture)
    loaded = time.perf_counter()
    drifted = drift_scores(reference, current)
    finished = time.perf_counter()
    print(
        json.dumps(
            {
                "load": loaded - started,
                "compute": finished - loaded,
                "baseline_rows": len(reference),
                "version": version("whylogs"),
                "capture_rows": len(current),
                "drifted": sorted(drifted),
            }
        )
    )


if __name__ == "__main__":
    main()
