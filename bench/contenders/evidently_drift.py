"""Evidently's DataDriftPreset on the benchmark's baseline (reference) and capture (current).

Run in the peers' environment. Prints load and compute seconds, row counts and the drifted columns.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import version
from pathlib import Path

from bench.contenders.frames import column_kinds, load_both


def drift_report(reference, current) -> list[str]:
    """Run DataDriftPreset (Evidently's default tests per column type and size); return drifted columns."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numerical, categorical = column_kinds(reference)
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    drifted = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith(":ValueDrift") and metric["value"] >= config["threshold"]:
            drifted.append(config["column"])
    return drifted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--capture", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    reference, current = load_both(args.baseline, args.capture)
    loaded = time.perf_counter()
    drifted = drift_report(reference, current)
    finished = time.perf_counter()
    print(
        json.dumps(
            {
                "load": loaded - started,
                "compute": finished - loaded,
                "baseline_rows": len(reference),
                "version": version("evidently"),
                "capture_rows": len(current),
                "drifted": sorted(drifted),
            }
        )
    )


if __name__ == "__main__":
    main()
