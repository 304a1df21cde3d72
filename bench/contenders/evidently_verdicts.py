"""Evidently's DataDriftPreset verdict on every window of the verdict benchmark, in one process.

Run in the peers' environment by ``bench.verdicts --evidently``: the reference is the baseline CSV
(read once), each ``*.csv`` in ``--windows`` is a current data set. Each goes through
``Report([DataDriftPreset()], include_tests=True)``: the preset's defaults (Evidently picks each
column's test and threshold; dataset drift at a drifted-column share of 0.5); the tests only carry
Evidently's own drift decisions (a column's ``ValueDrift`` test fails when its drift is detected,
the ``DriftedColumnsCount`` test when the drifted share reaches 0.5) and change nothing computed.

Writes one JSON line per window to ``--out``: ``window`` (file name), ``drifted`` (columns),
``share`` (drifted share) and ``dataset_drift``; prints progress on stderr and, at the end, one JSON
line on stdout with Evidently's version, the window count, the seconds and the test (with its
threshold) each column got.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

from bench.contenders.frames import column_kinds, load_baseline

VALUE_DRIFT = "evidently:metric_v2:ValueDrift"
DRIFTED_COLUMNS = "evidently:metric_v2:DriftedColumnsCount"


def verdict(snapshot, methods: dict[str, set[str]]) -> dict[str, object]:
    """The drifted columns, the drifted share and whether dataset drift fired, from a run's snapshot;
    adds each column to ``methods`` under the test (and threshold) Evidently chose for it."""
    result = snapshot.dict()
    for metric in result["metrics"]:
        config = metric["config"]
        if config["type"] == VALUE_DRIFT:
            methods.setdefault(f"{config['method']} at {config['threshold']:g}", set()).add(config["column"])
    share = next(m["value"]["share"] for m in result["metrics"] if m["config"]["type"] == DRIFTED_COLUMNS)
    drifted, dataset_drift = [], None
    for test in result["tests"]:
        params = test["metric_config"]["params"]
        failed = str(getattr(test["status"], "value", test["status"])) == "FAIL"
        if params["type"] == VALUE_DRIFT and failed:
            drifted.append(params["column"])
        elif params["type"] == DRIFTED_COLUMNS:
            dataset_drift = failed
    if dataset_drift is None:
        raise RuntimeError("the report has no test on the drifted columns' share")
    return {"drifted": sorted(drifted), "share": float(share), "dataset_drift": dataset_drift}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="reference CSV (with header)")
    parser.add_argument("--windows", type=Path, required=True, help="folder of window CSV files")
    parser.add_argument("--out", type=Path, required=True, help="JSON Lines file for the verdicts")
    args = parser.parse_args(argv)

    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    started = time.monotonic()
    reference_frame = load_baseline(args.baseline)
    numerical, categorical = column_kinds(reference_frame)  # the same column types for every window
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    reference = Dataset.from_pandas(reference_frame, data_definition=definition)
    windows = sorted(args.windows.glob("*.csv"))
    said = time.monotonic()
    methods: dict[str, set[str]] = {}
    with args.out.open("w") as out:
        for done, path in enumerate(windows, 1):
            current = Dataset.from_pandas(load_baseline(path), data_definition=definition)
            snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference)
            out.write(json.dumps({"window": path.name, **verdict(snapshot, methods)}) + "\n")
            now = time.monotonic()
            if now - said >= 30 or done == len(windows):
                said = now
                each = (now - started) / done
                print(f"evidently: {done}/{len(windows)} windows, {each:.1f} s each, "
                      f"about {each * (len(windows) - done) / 60:.0f} min left", file=sys.stderr, flush=True)
    print(json.dumps({"version": version("evidently"), "windows": len(windows),
                      "seconds": round(time.monotonic() - started, 1),
                      "methods": {method: [c for c in reference_frame.columns if c in columns]
                                  for method, columns in sorted(methods.items())}}))


if __name__ == "__main__":
    main()
