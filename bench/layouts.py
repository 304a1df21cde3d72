"""Capture layouts benchmark: the monitor's time against the bare parse of the same files, for the layouts
users have, not only the generator's.

From the ``rounded`` data set (``bench.generate``, CSV payloads, about 4,600 records per file) it writes the
first ``--records`` capture records again as:

* ``many files, input + output``: as generated;
* ``one file, input + output``: every record in one JSON Lines file (a copied or slow endpoint's day);
* ``many files, input only`` / ``one file, input only``: ``endpointOutput`` left out (capture option Input);
* ``many files, JSON input`` / ``one file, JSON input``: the input payload as a JSON array of the features
  (``encoding`` JSON), the output kept as CSV.

Each layout is read by the analyzer's ``monitor`` (a fresh process, default workers) against a baseline of the
matching columns (score and features, or features only), and by the floor: polars reading the records
(``scan_ndjson``) and their payloads (``read_csv`` of the joined CSV texts, ``str.json_decode`` of JSON texts),
keeping nothing. Each is run ``--repeat`` times in turn; the fastest run counts.

Run: ``python -m bench.layouts`` (after ``python -m bench`` or ``python -m bench.generate``, which make the
data set); the table goes to stdout and to ``bench/results/layouts.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

from bench.generate import ensure_dataset, spec_for

REPO_ROOT = Path(__file__).resolve().parent.parent
WINDOW = ["--start", "2024-05-01T00:00:00Z", "--end", "2024-05-02T00:00:00Z"]
LAYOUTS = ("many files, input + output", "one file, input + output", "many files, input only",
           "one file, input only", "many files, JSON input", "one file, JSON input")

FLOOR = r'''
import sys
from pathlib import Path
import polars as pl
root, json_input = Path(sys.argv[1]), sys.argv[2] == "json"
files = sorted(root.rglob("*.jsonl"))
frame = pl.scan_ndjson(files, infer_schema_length=1000).select(
    pl.col("captureData"), pl.col("eventMetadata").struct.field("inferenceTime")).collect()
capture = frame["captureData"]
inputs = capture.struct.field("endpointInput").struct.field("data")
if json_input:
    rows = inputs.str.json_decode().len()
else:
    import io
    rows = pl.read_csv(io.BytesIO("\n".join(inputs.to_list()).encode()), has_header=False).height
if "endpointOutput" in [f.name for f in capture.dtype.fields]:
    outputs = capture.struct.field("endpointOutput").struct.field("data")
    import io
    pl.read_csv(io.BytesIO("\n".join(outputs.to_list()).encode()), has_header=False)
print(rows)
'''


def _records(capture: Path, limit: int) -> list[dict]:
    records: list[dict] = []
    for path in sorted(capture.rglob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            records.append(orjson.loads(line))
            if len(records) == limit:
                return records
    return records


def _reshaped(record: dict, *, output: bool, json_input: bool) -> dict:
    data = record["captureData"]
    shaped = {"endpointInput": dict(data["endpointInput"])}
    if json_input:
        values = [None if v == "" else _number(v) for v in shaped["endpointInput"]["data"].rstrip("\n").split(",")]
        shaped["endpointInput"].update(data=json.dumps(values), encoding="JSON", observedContentType="application/json")
    if output:
        shaped["endpointOutput"] = data["endpointOutput"]
    return {**record, "captureData": shaped}


def _number(text: str) -> object:
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return text


def write_layout(records: list[dict], folder: Path, *, per_file: int | None, output: bool, json_input: bool) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    hour = folder / "bench-endpoint" / "AllTraffic" / "2024" / "05" / "01" / "00"
    hour.mkdir(parents=True)
    size = per_file or len(records)
    for number, start in enumerate(range(0, len(records), size)):
        chunk = records[start:start + size]
        (hour / f"{number:05d}.jsonl").write_bytes(
            b"".join(orjson.dumps(_reshaped(r, output=output, json_input=json_input)) + b"\n" for r in chunk))


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.layouts", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000, help="capture records per layout (default 300,000)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each command, fastest counts (default 2)")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "bench" / "data" / "layouts")
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "bench" / "results" / "layouts.md")
    args = parser.parse_args(argv)
    dataset = ensure_dataset(spec_for(1_000_000, kind="rounded"), log=lambda m: print(m, file=sys.stderr))
    records = _records(dataset.capture_dir, args.records)
    analyzer = str(Path(sys.executable).with_name("model-monitor-analyzer"))
    baselines = {}
    for name, drop_score in (("score + features", False), ("features", True)):
        folder = args.work / f"baseline-{'features' if drop_score else 'all'}"
        csv = folder / "baseline.csv"
        folder.mkdir(parents=True, exist_ok=True)
        with dataset.baseline_csv.open() as source, csv.open("w") as target:
            for number, line in enumerate(source):
                if number > 100_000:
                    break
                target.write(line.split(",", 1)[1] if drop_score else line)
        subprocess.run([analyzer, "baseline", "--dataset", str(csv), "--output", str(folder / "out"), "--quiet",
                        "--overwrite"], check=True, stdout=subprocess.DEVNULL)
        baselines[name] = folder / "out"
    rows = []
    for layout in LAYOUTS:
        one_file, output, json_input = "one file" in layout, "input + output" in layout, "JSON" in layout
        folder = args.work / layout.replace(" ", "-").replace(",", "").replace("+", "and")
        write_layout(records, folder, per_file=None if one_file else 4_630, output=output, json_input=json_input)
        baseline = baselines["score + features" if output else "features"]
        ours_command = [analyzer, "monitor", "--capture", str(folder), "--statistics", str(baseline / "statistics.json"),
                        "--constraints", str(baseline / "constraints.json"), "--output", str(args.work / "out"),
                        "--overwrite", "--quiet", *WINDOW]
        floor_command = [sys.executable, "-c", FLOOR, str(folder), "json" if json_input else "csv"]
        ours, floor = [], []
        for _ in range(args.repeat):
            floor.append(_timed(floor_command))
            ours.append(_timed(ours_command))
        megabytes = sum(p.stat().st_size for p in folder.rglob("*.jsonl")) / 1e6
        rows.append((layout, megabytes, min(floor), min(ours)))
        print(f"{layout}: floor {min(floor):.2f} s, ours {min(ours):.2f} s", file=sys.stderr, flush=True)
    lines = [
        "# Capture layouts: the monitor against the bare parse",
        "",
        f"Command: `python -m bench.layouts --records {args.records} --repeat {args.repeat}`; {len(records):,} "
        "records of the `rounded` data set per layout; seconds are wall time of a fresh process, fastest run.",
        "",
        "| Layout | MB | Floor (polars) s | Ours (monitor) s | Ours / floor |",
        "|---|---:|---:|---:|---:|",
        *[f"| {layout} | {mb:.0f} | {floor:.2f} | {ours:.2f} | {ours / floor:.2f}x |"
          for layout, mb, floor, ours in rows],
        "",
    ]
    args.results.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
