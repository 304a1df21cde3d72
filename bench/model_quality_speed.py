"""Model-quality monitoring speed: capture + ground-truth merge and binary metrics, against reading the files.

Writes ``--records`` captured inferences (CSV features in, CSV probability out) in SageMaker's
capture layout ``capture/<endpoint>/<variant>/yyyy/mm/dd/HH/*.jsonl`` and one ground-truth label
for each in ``groundtruth/yyyy/mm/dd/HH/*.jsonl``, then times

* the floor: ``orjson.loads`` of every line of every capture and ground-truth file;
* the run: ``monitors.model_quality.run_monitor`` (merge, merged-record output, metrics, reports);
* the capture reader alone (``io.capture.iter_capture_records``), the part of the run that
  belongs to ``io.capture``;
* a columnar read of the same files: ``pyarrow.json.read_json`` of every capture and ground-truth
  file (native, multi-threaded: what reading alone costs without a Python object per line).

Run: ``python bench/model_quality_speed.py --records 1000000 [--runs 3] [--folder DIR]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson

START = datetime(2024, 5, 2, 10, tzinfo=UTC)
CAPTURE_HOURS = 2
FILES_PER_HOUR = 30
FEATURES = 8


def _capture_line(inference_id: str, moment: str, features: str, score: float) -> str:
    return (
        '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"'
        + features
        + '","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT",'
        '"data":"' + repr(score) + '\\n","encoding":"CSV"}},"eventMetadata":{"eventId":"uuid-' + inference_id
        + '","inferenceId":"' + inference_id + '","inferenceTime":"' + moment + '"},"eventVersion":"0"}\n'
    )


def _label_line(inference_id: str, label: int) -> str:
    return (
        '{"groundTruthData":{"data":"' + str(label) + '","encoding":"CSV"},"eventMetadata":{"eventId":"'
        + inference_id + '"},"eventVersion":"0"}\n'
    )


def generate(folder: Path, records: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Write the capture and ground-truth trees; return (scores, labels) in capture order."""
    rng = np.random.default_rng(seed)
    labels = rng.random(records) < 0.3
    scores = np.round(np.clip(0.35 * labels + rng.uniform(0.0, 0.65, records), 0.0, 1.0), 6)
    features = np.round(rng.normal(size=(records, FEATURES)), 4)
    files = CAPTURE_HOURS * FILES_PER_HOUR
    per_file = -(-records // files)
    capture_root = folder / "capture" / "ep" / "AllTraffic"
    label_dir = folder / "groundtruth" / START.strftime("%Y/%m/%d/%H")
    label_dir.mkdir(parents=True, exist_ok=True)
    seconds = CAPTURE_HOURS * 3600
    for f in range(files):
        rows = range(f * per_file, min((f + 1) * per_file, records))
        if not rows:
            break
        first = START - timedelta(hours=CAPTURE_HOURS) + timedelta(seconds=seconds * f // files)
        hour_dir = capture_root / first.strftime("%Y/%m/%d/%H")
        hour_dir.mkdir(parents=True, exist_ok=True)
        capture, truth = [], []
        for i in rows:
            moment = (first + timedelta(seconds=(i - rows.start) * (seconds // files) // len(rows))).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            inference_id = f"id-{i}"
            capture.append(_capture_line(inference_id, moment, ",".join(map(str, features[i])), float(scores[i])))
            truth.append(_label_line(inference_id, int(labels[i])))
        (hour_dir / f"{first:%M-%S}-{f:03d}-capture.jsonl").write_text("".join(capture))
        (label_dir / f"labels-{f:03d}.jsonl").write_text("".join(truth))
    return scores, labels


def parse_floor(folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds to ``orjson.loads`` every line of every capture and ground-truth file."""
    began, cpu = time.perf_counter(), time.process_time()
    for path in sorted([*(folder / "capture").rglob("*.jsonl"), *(folder / "groundtruth").rglob("*.jsonl")]):
        with path.open("rb") as handle:
            for line in handle:
                orjson.loads(line)
    return time.perf_counter() - began, time.process_time() - cpu


def columnar_read(folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of ``pyarrow.json.read_json`` over every capture and ground-truth file."""
    import pyarrow.json as pa_json

    began, cpu = time.perf_counter(), time.process_time()
    for path in sorted([*(folder / "capture").rglob("*.jsonl"), *(folder / "groundtruth").rglob("*.jsonl")]):
        pa_json.read_json(path)
    return time.perf_counter() - began, time.process_time() - cpu


def capture_read(folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of ``io.capture.iter_capture_records`` alone over the capture tree."""
    from model_monitor_analyzer.io.capture import iter_capture_records
    from model_monitor_analyzer.io.problems import InputProblems

    began, cpu = time.perf_counter(), time.process_time()
    for _ in iter_capture_records(folder / "capture", problems=InputProblems()):
        pass
    return time.perf_counter() - began, time.process_time() - cpu


def monitor_run(folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one binary model-quality monitoring run over the generated window."""
    from model_monitor_analyzer.monitors import model_quality as job

    parser = argparse.ArgumentParser()
    job.add_monitor_arguments(parser)
    output = folder / "out"
    shutil.rmtree(output, ignore_errors=True)
    request = job.monitor_request(parser.parse_args([
        "--capture", str(folder / "capture"), "--ground-truth", str(folder / "groundtruth"),
        "--output", str(output), "--problem-type", "BinaryClassification",
        "--inference-attribute", "0", "--probability-attribute", "0", "--probability-threshold", "0.5",
        "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--end", (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--ground-truth-lookback", f"PT{CAPTURE_HOURS}H",
    ]))  # fmt: skip
    began, cpu = time.perf_counter(), time.process_time()
    outcome = job.run_monitor(request)
    elapsed = time.perf_counter() - began, time.process_time() - cpu
    if outcome.summary.get("matched") != outcome.summary.get("item_count"):
        raise SystemExit(f"unexpected join: {outcome.summary}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    """Generate, then print the floor, the run and their ratio (best of ``--runs``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="reuse or keep the generated files here")
    options = parser.parse_args(argv)
    folder = options.folder or Path(tempfile.mkdtemp(prefix="mq-speed-"))
    try:
        if not (folder / "capture").exists():
            began = time.perf_counter()
            generate(folder, options.records)
            print(f"generated {options.records} records in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        floors, runs, captures, columnar = [], [], [], []
        for _ in range(options.runs):  # alternated, so that a change of load touches all alike
            floors.append(parse_floor(folder))
            runs.append(monitor_run(folder))
            captures.append(capture_read(folder))
            columnar.append(columnar_read(folder))
        print(f"records: {options.records}")
        for what, index in (("wall", 0), ("CPU", 1)):
            floor, run = min(t[index] for t in floors), min(t[index] for t in runs)
            print(f"{what} floor (orjson per line): {floor:.2f} s  runs {', '.join(f'{t[index]:.2f}' for t in floors)}")
            print(f"{what} model quality monitor:   {run:.2f} s  runs {', '.join(f'{t[index]:.2f}' for t in runs)}")
            print(f"{what} ratio: {run / floor:.1f}x")
            reader = min(t[index] for t in captures)
            print(f"{what} of which reading the captures (io.capture.iter_capture_records): {reader:.2f} s"
                  f" = {reader / floor:.1f}x the floor")
            bulk = min(t[index] for t in columnar)
            print(f"{what} columnar read of the same files (pyarrow.json.read_json): {bulk:.2f} s;"
                  f" the run is {run / bulk:.1f}x that")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the process: {peak:.0f} MB")
    finally:
        if options.folder is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
