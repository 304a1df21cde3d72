"""What the Spark runner's model-quality monitor brings back to the driver per split, before and after the splits
measure themselves.

On ``bench.model_quality_speed``'s generated window (``--records`` captured inferences in 60 files, one label each,
a probability with six decimals), each capture file is joined as one Spark split is, in this process and without
Spark (``spark.model_quality._join_split``, the executors' own function, with the broadcast labels read here), in
three ways:

* columns: what each split sent before, its matched outputs and labels (``LabelledColumnsBuilder``), pickled, and
  its merged lines (zlib) in the same row; with the estimate, every capture's output payload as well (data,
  encoding, content type). The label rows it matched are counted as they are sent now (before: int64 positions,
  8 bytes more a matched capture);
* state: what it sends now, its metric state (the rows as ``to_bytes`` writes them), counts and problems; with the
  estimate, the rows' outputs and labels and every capture's output as the estimate reads them
  (``estimation.WindowOutputs``);
* merged: the merged lines, zlib-compressed, now streamed to the part files one partition at a time.

The driver held every split's row at once before (``collect``); now every split's state, and one partition's merged
lines at a time. Run: ``python -m bench.spark_model_quality_driver [--records 100000]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
from datetime import timedelta
from pathlib import Path

import pyarrow as pa

from bench.model_quality_speed import CAPTURE_HOURS, START, generate
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.capture import CHUNK_BYTES, _captured_outputs
from model_monitor_analyzer.io.ground_truth import read_ground_truth_columns
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.monitors.model_quality import run as local_run
from model_monitor_analyzer.monitors.model_quality.request import OPTION_NAMES
from model_monitor_analyzer.spark import model_quality as spark_mq
from model_monitor_analyzer.spark.partitions import _chunks


def _split_bytes(file: Path, plan: spark_mq._JoinPlan, join: merge.WindowJoin, labels) -> tuple[int, int, int]:
    """(pickled state, compressed merged lines, pickled raw output payloads) of one file joined as one split."""
    lines = pa.array(file.read_bytes().decode().splitlines(), pa.string())
    problems = InputProblems(max_bad_record_ratio=0.0, input_name="capture records")
    state, merged = spark_mq._join_split([lines], str(file), 0, plan, merge.WindowJoin.sharing(join), labels, problems)
    raw = 0
    if plan.measuring is not None and plan.measuring.outputs_of is not None and not plan.measuring.state:
        payloads = []  # what a split sent for the estimate before: every capture's output payload as read
        for lines_before, chunk in _chunks([lines], CHUNK_BYTES):
            captured = _captured_outputs(chunk, str(file), lines_before, plan.window, InputProblems())
            if captured is not None and len(captured):
                payloads.append((captured.data, captured.encodings, captured.content_types))
        raw = len(pickle.dumps(payloads))
    return len(pickle.dumps(state)), len(merged), raw


def measure(records: int) -> str:
    with tempfile.TemporaryDirectory(prefix="mq-driver-") as folder:
        root = Path(folder)
        generate(root, records)
        labels = read_ground_truth_columns(root / "groundtruth", uploaded_from=START,
                                           uploaded_before=START + timedelta(hours=1))
        join = merge.WindowJoin(labels)
        join.prepare()
        window = TimeWindow(start=START - timedelta(hours=CAPTURE_HOURS), end=START + timedelta(hours=1))
        files = sorted((root / "capture").rglob("*.jsonl"))
        capture_bytes = sum(file.stat().st_size for file in files)
        request = job.monitor_request(_monitor_namespace(root))
        settings = request.settings
        rows = []
        for estimate in (False, True):
            totals = {}
            for name, state in (("columns", False), ("state", True)):
                plan = spark_mq._JoinPlan(window=window, max_bad_record_ratio=0.0, measuring=spark_mq._Measuring(
                    settings=settings, names=OPTION_NAMES, attributes=local_run.value_attributes(settings),
                    state=state, outputs_of=request if estimate else None))
                sizes = [_split_bytes(file, plan, join, labels) for file in files]
                totals[name] = (sum(s for s, _, _ in sizes), sum(m for _, m, _ in sizes), sum(r for _, _, r in sizes),
                                max(m for _, m, _ in sizes))
            columns, state = totals["columns"], totals["state"]
            before = columns[0] + columns[1] + columns[2]
            after = state[0] + 2 * state[3]  # a split's lines written, the next one's fetched
            rows.append(f"| {'with the label-free estimate' if estimate else 'metrics only'} | {len(files)} | "
                        f"{(columns[0] + columns[2]) / records:.1f} | {state[0] / records:.1f} | "
                        f"{columns[1] / records:.1f} | {before / 1e6:.2f} | {after / 1e6:.2f} |")
    return "\n".join([
        f"Model-quality monitor, {records:,} labelled captures in {len(files)} files (one split each), binary, "
        "a six-decimal probability. Command: `python -m bench.spark_model_quality_driver "
        f"--records {records}`.",
        "",
        "| Window | Splits | Before: columns, B/row | Now: state, B/row | Merged lines (zlib), B/row | "
        "Driver holds before, MB | Driver holds now, MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Before: every split's row at once (columns and merged lines, with the estimate every capture's raw "
        "output payload). Now: every split's state, and the merged lines of a partition written while the next is "
        "fetched (here counted as twice the largest split's: a partition of one split). A partition reads at most "
        "`spark.sql.files.maxPartitionBytes` of captures; its merged lines, compressed, are "
        f"{state[1] / capture_bytes:.1%} of the capture bytes here ({capture_bytes / records:.0f} bytes a capture).",
    ])


def _monitor_namespace(root: Path) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    job.add_monitor_arguments(parser)
    return parser.parse_args([
        "--capture", str(root / "capture"), "--ground-truth", str(root / "groundtruth"), "--output", str(root / "out"),
        "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
        "--probability-threshold", "0.5", "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--end", (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    print(measure(parser.parse_args(argv).records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
