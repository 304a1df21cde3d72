"""Loading the benchmark's files into pandas DataFrames, as the peer tools need them.

Done the fastest reasonable way a user would: pandas' pyarrow CSV engine for the baseline, orjson for
the capture lines, and one pyarrow-engine CSV read of all input payloads joined. Runs in the peers'
environment (pandas < 3).
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import orjson
import pandas as pd

from bench.contenders.capture_lines import (
    FEATURES_ONLY,
    LAYOUTS,
    SCORE_FIRST,
    capture_files,
    file_lines,
    header_names,
)


def load_baseline(path: Path) -> pd.DataFrame:
    """The baseline CSV (with header) as a DataFrame, types inferred."""
    return pd.read_csv(path, engine="pyarrow")


def load_capture(root: Path, names: list[str], layout: str = SCORE_FIRST) -> pd.DataFrame:
    """Every capture record below ``root`` as one row, columns named ``names`` (the baseline's header).

    With ``SCORE_FIRST`` the row is output then inputs, the row SageMaker's analyzer rebuilds from a
    record (output columns at the START); with ``FEATURES_ONLY`` it is the inputs alone, the columns
    the baseline has.
    """
    payloads = []
    with_output = layout != FEATURES_ONLY
    for path in capture_files(root):
        for line in file_lines(path):
            captured = orjson.loads(line)["captureData"]
            inputs = captured["endpointInput"]["data"]
            payloads.append(captured["endpointOutput"]["data"] + "," + inputs if with_output else inputs)
    text = "\n".join(payloads).encode()
    del payloads
    return pd.read_csv(io.BytesIO(text), header=None, names=names, engine="pyarrow")


def load_both(baseline: Path, capture: Path, layout: str = SCORE_FIRST) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(baseline, capture) frames with the capture's columns named after the baseline's header."""
    return load_baseline(baseline), load_capture(capture, header_names(baseline), layout)


def column_kinds(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numerical, categorical) column names, by dtype; booleans are categorical (pandas calls them
    numeric, and Evidently's numerical drift tests cannot take quantiles of them)."""
    numerical = [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    return numerical, [c for c in frame.columns if c not in numerical]


def run_peer(package: str, drifted_columns: Callable[[pd.DataFrame, pd.DataFrame], list[str]],
             description: str, argv: list[str] | None = None) -> None:
    """A peer contender's command line: load both files, find the drifted columns, print one JSON
    line with the load and compute seconds, row counts, the package's version and the columns."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--capture", type=Path, required=True)
    parser.add_argument("--layout", choices=LAYOUTS, default=SCORE_FIRST, help="how payloads map to the header")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    reference, current = load_both(args.baseline, args.capture, args.layout)
    loaded = time.perf_counter()
    drifted = drifted_columns(reference, current)
    finished = time.perf_counter()
    print(json.dumps({"load": loaded - started, "compute": finished - loaded, "baseline_rows": len(reference),
                      "version": version(package), "capture_rows": len(current), "drifted": sorted(drifted)}))
