"""Bias baseline speed: every pre- and post-training metric (flip test included) against reading the CSV.

Writes ``--rows`` rows of a CSV with four numeric features, a facet column (5 values), a group
variable (10 values), a binary label, the model's predicted label and its probability, then times

* the floor: ``pyarrow.csv.read_csv`` of the file (all cores, types inferred);
* the run: ``monitors.bias.run_baseline`` with ``methods: all`` for both stages (analysis.json written).

Run: ``python bench/bias_model_quality.py --rows 1000000 [--runs 3] [--folder DIR]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from model_monitor_analyzer.monitors import bias as bias_job

FEATURES = 4


def write_dataset(path: Path, rows: int, seed: int = 0) -> None:
    """The generated CSV: features x0..x3, facet ``group``, ``region``, ``label``, ``predicted``, ``score``."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, FEATURES)).round(4)
    group = rng.integers(0, 5, rows)
    region = rng.integers(0, 10, rows)
    score = 1 / (1 + np.exp(-(features @ np.linspace(1, -1, FEATURES) + 0.3 * (group == 1))))
    label = (rng.random(rows) < score).astype(np.int64)
    columns = {f"x{i}": features[:, i] for i in range(FEATURES)}
    columns |= {"group": group, "region": region, "label": label, "predicted": (score > 0.5).astype(np.int64),
                "score": score.round(6)}  # fmt: skip
    pacsv.write_csv(pa.table(columns), path)


def write_config(path: Path) -> None:
    path.write_text(json.dumps({
        "dataset_type": "text/csv",
        "label": "label",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "group", "value_or_threshold": [1]}],
        "group_variable": "region",
        "predicted_label": "predicted",
        "excluded_columns": ["score"],
        "methods": {"pre_training_bias": {"methods": "all"}, "post_training_bias": {"methods": "all"}},
    }))  # fmt: skip


def time_floor(dataset: Path) -> float:
    started = time.perf_counter()
    pacsv.read_csv(dataset)
    return time.perf_counter() - started


def time_run(config: Path, dataset: Path, output: Path) -> float:
    parser = argparse.ArgumentParser()
    bias_job.add_baseline_arguments(parser)
    args = parser.parse_args(["--analysis-config", str(config), "--dataset", str(dataset), "--output", str(output),
                              "--overwrite"])  # each run replaces the previous run's files
    request = bias_job.baseline_request(args)
    started = time.perf_counter()
    bias_job.run_baseline(request)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="where to write the data (default: a temporary folder)")
    options = parser.parse_args()
    folder = options.folder or Path(tempfile.mkdtemp(prefix="bias-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        dataset, config = folder / "dataset.csv", folder / "analysis_config.json"
        write_dataset(dataset, options.rows)
        write_config(config)
        floors = [time_floor(dataset) for _ in range(options.runs)]
        runs = [time_run(config, dataset, folder / "out") for _ in range(options.runs)]
        floor, run = statistics.median(floors), statistics.median(runs)
        size = dataset.stat().st_size / 1e6
        print(f"rows {options.rows:,}  file {size:.0f} MB  runs {options.runs} (medians)")
        print(f"floor  pyarrow.csv.read_csv   {floor:7.2f} s")
        print(f"bias   baseline, all metrics  {run:7.2f} s   ({run / floor:.1f}x the floor)")
    finally:
        if options.folder is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
