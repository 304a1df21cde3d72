"""``python -m bench.batch_transform``: a transform job's files against the endpoint capture of the same records.

Writes ``--records`` requests (8 numeric features written as numpy prints them, one text feature) twice: as an
endpoint's capture (one JSON Lines file, input and output captured, inference ids) and as a transform job's
files (the CSV input, the ``.out`` output ending with the inference id and time), with a label per inference id.
Then runs data quality and model quality on each, in fresh processes with one worker, alternating, and prints
the best time and the peak memory of each with the batch / endpoint ratio (the tests hold their numbers equal).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HOUR = "2025-03-01T10:15:00Z"
WINDOW = ["--start", "2025-03-01T10:00:00Z", "--end", "2025-03-01T11:00:00Z"]


def write_records(root: Path, records: int, seed: int = 1) -> None:
    """The endpoint capture, the transform job, the labels and a reference dataset of the same requests."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(records, 8))
    text = rng.choice(["north", "south", "east"], records)
    scores = rng.random(records)
    rows = [",".join(map(str, features[i])) + "," + text[i] for i in range(records)]
    endpoint = root / "endpoint" / "ep" / "AllTraffic" / "2025" / "03" / "01" / "10"
    endpoint.mkdir(parents=True)
    with (endpoint / "15-00-000-capture.jsonl").open("w") as out:
        for i, row in enumerate(rows):
            out.write(json.dumps({
                "captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": row,
                                                  "encoding": "CSV"},
                                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                                   "data": str(scores[i]), "encoding": "CSV"}},
                "eventMetadata": {"eventId": f"event-{i}", "inferenceId": f"id-{i}", "inferenceTime": HOUR},
                "eventVersion": "0"}) + "\n")
    job = root / "job"
    (job / "input").mkdir(parents=True)
    (job / "output").mkdir()
    (job / "input" / "requests.csv").write_text("\n".join(rows) + "\n")
    (job / "output" / "requests.csv.out").write_text("".join(f"{scores[i]},id-{i},{HOUR}\n" for i in range(records)))
    labels = root / "gt" / "2025" / "03" / "01" / "10"
    labels.mkdir(parents=True)
    truth = rng.random(records) < scores
    with (labels / "labels.jsonl").open("w") as out:
        for i in range(records):
            out.write(json.dumps({"groundTruthData": {"data": str(int(truth[i])), "encoding": "CSV"},
                                  "eventMetadata": {"eventId": f"id-{i}"}, "eventVersion": "0"}) + "\n")
    header = ",".join([f"f{k}" for k in range(8)] + ["region"])
    (root / "reference.csv").write_text(header + "\n" + "\n".join(rows[:20_000]) + "\n")


def _timed(arguments: list[str]) -> tuple[float, int]:
    """Seconds and peak memory (KB) of one analyzer run in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "model_monitor_analyzer", *arguments],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the analyzer failed: {' '.join(arguments)}\n{done.stderr}")
    return time.perf_counter() - start, int(done.stderr.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        write_records(root, args.records)
        subprocess.run([sys.executable, "-m", "model_monitor_analyzer", "baseline", "--dataset",
                        str(root / "reference.csv"), "--output", str(root / "baseline"), "--quiet"], check=True, capture_output=True)
        common = [*WINDOW, "--quiet", "--overwrite", "--workers", "1"]
        data_quality = ["--statistics", str(root / "baseline" / "statistics.json"), "--constraints",
                        str(root / "baseline" / "constraints.json"), *common]
        model_quality = ["--type", "model-quality", "--problem-type", "BinaryClassification", "--probability-attribute",
                         "0", "--probability-threshold", "0.5", "--ground-truth", str(root / "gt"), *common]
        print(f"{args.records:,} records, best of {args.repeat}, one worker\n")
        print("| run | endpoint capture | transform job | ratio |\n|---|---|---|---|")
        for name, options in (("data quality", data_quality), ("model quality", model_quality)):
            best: dict[str, tuple[float, int]] = {}
            for _ in range(args.repeat):
                for side, capture in (("endpoint", ["--capture", str(root / "endpoint")]),
                                      ("batch", ["--capture", str(root / "job"), "--capture-format", "batch"])):
                    seconds, memory = _timed(["monitor", *capture, *options, "--output", str(root / f"out-{side}")])
                    held = best.get(side, (float("inf"), 0))
                    best[side] = (min(held[0], seconds), max(held[1], memory))
            (e_time, e_memory), (b_time, b_memory) = best["endpoint"], best["batch"]
            print(f"| {name} | {e_time:.2f} s, {e_memory / 1024:.0f} MB | {b_time:.2f} s, {b_memory / 1024:.0f} MB "
                  f"| {b_time / e_time:.2f} |")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
