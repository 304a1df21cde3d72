"""The Spark runner against the local engine: one data-quality monitoring window of realistic capture files.

On the same files (``bench.generate``'s ``realistic`` kind: full-precision floats, integers, booleans,
categories, a high-cardinality postcode, empty fields; ``--records`` capture records in files of 5,000),
each in a fresh process (``bench.measure``), the analyzer's ``monitor`` against one baseline made once
beforehand:

* local: the local engine (``--engine local``, every CPU);
* Spark local[1] and local[2]: ``--engine spark --spark-master local[N]``, the JVM's start included;
* Spark start-up: a process that starts a ``local[2]`` session, runs a job of one row and stops, so the
  start-up can be told apart from the work; and the same with one Arrow batch through ``mapInArrow`` on each of
  its two slots, which adds what any PySpark job of Python tasks pays before its first record (the Python
  workers' start, the Arrow path's first use in the JVM and in Python).

Each command runs ``--repeat`` times in turn; the fastest run counts, with the largest peak memory seen (the
JVM's and the Python workers' together, as ``bench.measure`` sums a process tree). The statistics of the three
runs are compared too: item counts and violations must be identical.

Run: ``python -m bench.spark_speed --records 1000000 [--repeat 1]``; the table goes to stdout and to
``bench/results/spark.md``. The issue's 10M figures come from the same command with larger ``--records``.

Larger windows without their disk: ``--copies K`` reads a tree in which each capture file of the ``--records``
dataset is listed K times (hard links under other names in the same hour folders), so the window holds K times the
records while the disk holds them once (and the page cache can hold them: the reads are cheaper than K times the
distinct bytes would be, which the timing figures then flatter, not the memory ones). ``--runners`` picks which
of the runners run, e.g. ``--records 10000000 --copies 5 --runners local2`` for a 50M-record window's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.generate import REALISTIC, ensure_dataset, spec_for
from bench.measure import Run, fastest_run, measure
from bench.peer_env import REPO_ROOT
from bench.run import RUNS_ROOT, child_env, warm_files

RESULTS = REPO_ROOT / "bench" / "results" / "spark.md"
ANALYZER = [sys.executable, "-m", "model_monitor_analyzer"]
STARTUP = [sys.executable, "-c", (
    "from pyspark.sql import SparkSession; "
    "s = SparkSession.builder.master('local[2]').config('spark.ui.enabled', 'false').getOrCreate(); "
    "s.range(1).count(); s.stop()"
)]
STARTUP_PYTHON = [sys.executable, "-c", (
    "from pyspark.sql import SparkSession; "
    "s = SparkSession.builder.master('local[2]').config('spark.ui.enabled', 'false').getOrCreate(); "
    "s.range(2, numPartitions=2).mapInArrow(lambda batches: batches, 'id long').count(); s.stop()"
)]
ENGINES = (("local engine", ("--engine", "local")),
           ("Spark local[1]", ("--engine", "spark", "--spark-master", "local[1]")),
           ("Spark local[2]", ("--engine", "spark", "--spark-master", "local[2]")))
RUNNERS = {"local": "local engine", "local1": "Spark local[1]", "local2": "Spark local[2]"}


def copied_tree(capture_dir: Path, target: Path, copies: int) -> Path:
    """A capture tree under ``target`` in which each file of ``capture_dir`` appears ``copies`` times: hard links
    (a symbolic link where the file system refuses one), named ``<name>`` and ``<stem>-copy<K>.jsonl``."""
    for path in sorted(capture_dir.rglob("*.jsonl")):
        folder = target / path.parent.relative_to(capture_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for copy in range(copies):
            link = folder / (path.name if copy == 0 else f"{path.stem}-copy{copy}{path.suffix}")
            try:
                os.link(path, link)
            except OSError:
                link.symlink_to(path)
    return target


def _monitor(capture: Path, baseline: Path, output: Path, window: tuple[str, str], engine: tuple[str, ...]) -> list[str]:
    return [*ANALYZER, "monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
            "--constraints", str(baseline / "constraints.json"), "--output", str(output), "--overwrite",
            "--start", window[0], "--end", window[1], "--quiet", *engine]


def _summary(output: Path) -> tuple[int, int]:
    statistics = json.loads((output / "statistics.json").read_text())
    violations = json.loads((output / "constraint_violations.json").read_text())["violations"]
    return statistics["dataset"]["item_count"], len(violations)


def run_bench(records: int, *, repeat: int, copies: int = 1, runners: tuple[str, ...] = tuple(RUNNERS)) -> str:
    """Time the chosen runners and the start-up; the Markdown page."""
    dataset = ensure_dataset(spec_for(records, kind=REALISTIC))
    load_before = os.getloadavg()[0]
    capture_bytes = copies * sum(path.stat().st_size for path in dataset.capture_dir.rglob("*.jsonl"))
    env = child_env({"PYSPARK_PYTHON": sys.executable})
    engines = [(label, engine) for label, engine in ENGINES if label in {RUNNERS[name] for name in runners}]
    RUNS_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=RUNS_ROOT, prefix="spark-") as scratch:
        work = Path(scratch)
        capture = dataset.capture_dir if copies == 1 else copied_tree(dataset.capture_dir, work / "capture", copies)
        measure([*ANALYZER, "baseline", "--dataset", str(dataset.baseline_csv), "--output", str(work / "baseline"),
                 "--quiet"], env=env, cwd=REPO_ROOT)
        warm_files(dataset.baseline_csv, dataset.capture_dir)
        runs: dict[str, list[Run]] = {label: [] for label, _ in engines}
        startup: list[Run] = []
        startup_python: list[Run] = []
        results: dict[str, tuple[int, int]] = {}
        for _ in range(repeat):
            startup.append(measure(STARTUP, env=env, cwd=REPO_ROOT))
            startup_python.append(measure(STARTUP_PYTHON, env=env, cwd=REPO_ROOT))
            for label, engine in engines:
                output = work / label.replace(" ", "-").replace("[", "").replace("]", "")
                runs[label].append(measure(_monitor(capture, work / "baseline", output, dataset.window,
                                                    engine), env=env, cwd=REPO_ROOT))
                results[label] = _summary(output)
    load_after = os.getloadavg()[0]
    if len(set(results.values())) != 1:
        raise SystemExit(f"the engines disagree on records or violations: {results}")
    best = {label: fastest_run(label_runs) for label, label_runs in runs.items()}
    start = fastest_run(startup).seconds
    start_python = fastest_run(startup_python).seconds
    local = best["local engine"].seconds if "local engine" in best else None
    one = best["Spark local[1]"].seconds if "Spark local[1]" in best else None
    rows = [
        "| Runner | Seconds | Peak memory (MB) | / local engine | Seconds less Spark start-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, run in best.items():
        work_seconds = f"{run.seconds - start:.1f}" if label != "local engine" else "-"
        against = f"{run.seconds / local:.2f}x" if local else "-"
        rows.append(f"| {label} | {run.seconds:.1f} | {run.peak_rss_mb:,.0f} | {against} | {work_seconds} |")
    rows.append(f"| Spark start-up alone (local[2], one-row job) | {start:.1f} | "
                f"{fastest_run(startup).peak_rss_mb:,.0f} | - | - |")
    rows.append(f"| Spark start-up with its Python workers (local[2], one Arrow batch per slot) | {start_python:.1f} | "
                f"{fastest_run(startup_python).peak_rss_mb:,.0f} | - | - |")
    two = best["Spark local[2]"].seconds if "Spark local[2]" in best else None
    items, violations = next(iter(results.values()))
    goals = []
    if one and two:
        goals.append(f"- Spark local[1] / local[2]: {one / two:.2f}x (goal at 10M records: >= 1.7x)")
    if two and local:
        goals.append(f"- Spark local[2] against the local engine plus the start-up: {two:.1f} s against "
                     f"{local + start:.1f} s ({(two - start) / local:.2f}x the local engine's time once the start-up "
                     "is taken off; goal: within start-up + 30 %)")
        goals.append(f"- The same with the start-up of a job of Python tasks ({start_python:.1f} s): "
                     f"{(two - start_python) / local:.2f}x the local engine's time")
    command = f"python -m bench.spark_speed --records {records} --repeat {repeat}"
    if copies != 1:
        command += f" --copies {copies}"
    if tuple(runners) != tuple(RUNNERS):
        command += " --runners " + " ".join(runners)
    copied = (f"; each of the {records:,}-record dataset's capture files listed {copies} times (hard links)"
              if copies != 1 else "")
    return "\n".join([
        "# Spark runner against the local engine",
        "",
        f"Data-quality `monitor` of one window: {copies * records:,} realistic capture records "
        f"({capture_bytes / 1e6:,.0f} MB of JSON Lines{copied}, {items:,} records in the window, {violations} "
        "violations from every runner), each command in a fresh process, fastest of "
        f"{repeat}, on {os.cpu_count()} CPUs with a load average of {load_before:.1f} before and {load_after:.1f} after "
        f"(other work on the machine). Command: `{command}`.",
        "",
        *rows,
        "",
        *goals,
        "",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.spark_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="capture records (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command; the fastest counts (default 1)")
    parser.add_argument("--copies", type=int, default=1,
                        help="list each capture file this many times (hard links): a larger window on the same disk")
    parser.add_argument("--runners", nargs="+", choices=tuple(RUNNERS), default=list(RUNNERS),
                        help="which runners to time (default: all three)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the Markdown")
    args = parser.parse_args(argv)
    if args.copies < 1:
        parser.error("--copies must be 1 or more")
    page = run_bench(args.records, repeat=args.repeat, copies=args.copies, runners=tuple(args.runners))
    print(page)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(page)


if __name__ == "__main__":
    main()
