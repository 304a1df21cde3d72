"""whylogs: profile the baseline and the capture, then score drift between the two profiles.

Uses ``calculate_drift_scores`` (whylogs' own default per column: Kolmogorov-Smirnov on its KLL
sketches for numbers, chi-squared on frequent items for strings), which is what its drift report
shows. Run in the peers' environment. Prints load and compute seconds, row counts and the columns
whylogs classes as DRIFT.
"""

from __future__ import annotations

from bench.contenders.frames import run_peer


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
    run_peer("whylogs", drift_scores, __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    main()
