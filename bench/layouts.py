"""Capture layouts benchmark: ours on each capture layout users have, against the bare parse of the same files.

The analyzer's baseline + monitor on each layout of ``bench.capture_layouts``, at several sizes; and the monitor
with one worker against two on one capture file.

For each data set kind and size, every layout of ``LAYOUTS`` (many files or one, input + output or input only,
CSV or JSON input) runs, each command in a fresh process (``bench.measure``):

* ours: the analyzer's CLI, ``baseline`` on the baseline CSV that matches the layout (score and features, or the
  features alone for an input-only capture), then ``monitor`` over the whole capture window; times summed;
* the floor: ``bench.contenders.floor_polars`` on the same baseline CSV and capture tree: ``polars.read_csv`` of the
  baseline, ``polars.scan_ndjson`` of the capture's JSON Lines (the payloads, their encoding and the inference
  time), then the payload columns decoded in bulk (CSV payloads: one ``read_csv`` of their joined text; JSON
  payloads: ``str.json_decode`` and numeric positions cast to numbers); no statistics.

Then, on the largest size's one-file capture (input + output, CSV), the monitor alone with ``--workers 1`` and
``--workers 2`` against the same baseline (the analyzer splits inputs of 32 MB or more between its workers).

Commands run ``--repeat`` times in turn; the fastest run counts, with the largest peak memory seen.

Run: ``python -m bench.layouts [--records 300000 1000000] [--kinds rounded] [--repeat 1]`` (``python -m bench``
runs it too); the page goes to stdout and ``bench/results/layouts.md``. At the default sizes, on 2 idle CPUs, writing
the layouts takes about 1.5 minutes per kind the first time (cached under ``bench/data/layouts/``, about 4 GB per
kind, beside the data sets themselves), and the runs about 4 minutes per kind and repeat.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import goals
from bench.capture_layouts import LAYOUTS, LaidOut, Layout, ensure_layout
from bench.generate import KINDS, ROUNDED, ensure_dataset, spec_for
from bench.measure import Run, fastest_run, measure
from bench.peer_env import REPO_ROOT
from bench.run import (
    RUNS_ROOT,
    Result,
    child_env,
    fastest,
    run_baseline,
    run_monitor,
    run_ours_on,
    script_result,
    warm_files,
)

RESULTS = REPO_ROOT / "bench" / "results" / "layouts.md"
DEFAULT_RECORDS = (300_000, 1_000_000)
WORKERS_LAYOUT = Layout(one_file=True, output=True, json_input=False)


@dataclasses.dataclass(frozen=True, kw_only=True)
class LayoutRow:
    """One layout at one size: ours (baseline + monitor) and the floor on the same files."""

    kind: str
    records: int
    layout: Layout
    capture_mb: float
    ours: Result
    floor: Result

    @property
    def ratio(self) -> float:
        return self.ours.seconds / self.floor.seconds


@dataclasses.dataclass(frozen=True, kw_only=True)
class WorkersRow:
    """The monitor on one capture file with one worker and with two (the fastest runs, with the largest peak memory
    of their runs: ``measure.fastest_run``)."""

    kind: str
    records: int
    capture_mb: float
    one: Run
    two: Run

    @property
    def speedup(self) -> float:
        return self.one.seconds / self.two.seconds


def run_floor_on(laid_out: LaidOut) -> Result:
    """The polars floor on a layout's baseline CSV and capture tree, in a fresh process."""
    run = measure(
        [
            sys.executable,
            "-m",
            "bench.contenders.floor_polars",
            "--baseline",
            str(laid_out.baseline_csv),
            "--capture",
            str(laid_out.capture_dir),
            "--layout",
            laid_out.payload_layout,
        ],
        env=child_env(),
        cwd=REPO_ROOT,
    )
    return script_result("floor-polars", "floor: bare parse (polars)", run)


def run_layout(
    kind: str, records: int, layout: Layout, *, repeat: int, log: Callable[[str], None]
) -> LayoutRow:
    """Ours and the floor on one layout of ``records`` records of the ``kind`` data set."""
    dataset = ensure_dataset(spec_for(records, kind=kind), log=log)
    laid_out = ensure_layout(dataset, layout)
    warm_files(laid_out.baseline_csv, laid_out.capture_dir)
    ours, floor = [], []
    for round_number in range(1, repeat + 1):
        log(f"layouts: {kind}, {records:,} records, {layout.name} (run {round_number} of {repeat})")
        floor.append(run_floor_on(laid_out))
        ours.append(
            run_ours_on(laid_out.baseline_csv, laid_out.capture_dir, laid_out.window, name=layout.slug)
        )
    row = LayoutRow(
        kind=kind,
        records=records,
        layout=layout,
        capture_mb=laid_out.capture_bytes() / 1e6,
        ours=fastest(ours),
        floor=fastest(floor),
    )
    if row.ours.rows[1] != row.floor.rows[1]:
        raise RuntimeError(
            f"{layout.name}: ours read {row.ours.rows[1]:,} records, the floor {row.floor.rows[1]:,}"
        )
    return row


def run_workers(kind: str, records: int, *, repeat: int, log: Callable[[str], None]) -> WorkersRow:
    """The monitor with ``--workers 1`` and ``--workers 2`` on the one-file capture of ``records`` records."""
    laid_out = ensure_layout(ensure_dataset(spec_for(records, kind=kind), log=log), WORKERS_LAYOUT)
    warm_files(laid_out.baseline_csv, laid_out.capture_dir)
    RUNS_ROOT.mkdir(parents=True, exist_ok=True)
    runs: dict[int, list[Run]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(dir=RUNS_ROOT, prefix="workers-") as scratch:
        baseline_dir = Path(scratch) / "baseline"
        run_baseline(laid_out.baseline_csv, baseline_dir)
        for round_number in range(1, repeat + 1):
            for workers in runs:
                log(f"layouts: {kind}, {records:,} records, one file, monitor with --workers {workers} "
                    f"(run {round_number} of {repeat})")  # fmt: skip
                run = run_monitor(laid_out.capture_dir, baseline_dir, Path(scratch) / "monitor", laid_out.window,
                                  workers=workers)  # fmt: skip
                runs[workers].append(run)
    best = {workers: fastest_run(made) for workers, made in runs.items()}
    return WorkersRow(
        kind=kind, records=records, capture_mb=laid_out.capture_bytes() / 1e6, one=best[1], two=best[2]
    )


def _verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def layout_lines(rows: list[LayoutRow], workers: list[WorkersRow]) -> list[str]:
    """The layouts' part of a results page (Markdown lines, starting with a level-2 heading)."""
    lines = [
        "## Capture layouts: ours against the bare parse of the same files",
        "",
        "Each layout holds the same records of the data set (`bench/capture_layouts.py`): many files (as generated, "
        "5,000 records a file in hourly folders) or one file; input and output captured, or input only (then the "
        "baseline is the features alone); CSV input payloads, or JSON arrays of the features. Ours: the analyzer's "
        "`baseline` on the matching baseline CSV, then `monitor` over the window, two processes, times summed. "
        "Floor: `contenders/floor_polars.py` on the same files: `polars.read_csv` of the baseline, `polars.scan_ndjson` "
        "of the capture's JSON Lines (payloads, their encoding and the inference time), the payload columns decoded "
        "in bulk (CSV: one `read_csv` of the joined payloads; JSON: `str.json_decode`, numeric positions cast to "
        "numbers); no statistics. Peak memory is each command's own (the largest of ours' two).",
        "",
        "| Data set | Records | Layout | Capture MB | Ours s (baseline + monitor) | Floor s (baseline + capture) "
        f"| Ours / floor | Goal <= {goals.DATA_QUALITY_FLOOR:g}x met | Ours peak MB | Floor peak MB |",
        "|---|---:|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for row in rows:
        ours, floor = row.ours, row.floor
        lines.append(
            f"| {row.kind} | {row.records:,} | {row.layout.name} | {row.capture_mb:,.0f} "
            f"| {ours.seconds:.2f} ({ours.phases['baseline']:.2f} + {ours.phases['monitor']:.2f}) "
            f"| {floor.seconds:.2f} ({floor.phases['load_baseline']:.2f} + {floor.phases['load_capture']:.2f}) "
            f"| {row.ratio:.2f}x | {_verdict(row.ratio <= goals.DATA_QUALITY_FLOOR)} "
            f"| {ours.peak_rss_mb:,.0f} | {floor.peak_rss_mb:,.0f} |"
        )
    if rows:
        worst = max(rows, key=lambda row: row.ratio)
        lines += [
            "",
            f"Worst layout: {worst.kind}, {worst.records:,} records, {worst.layout.name}: {worst.ratio:.2f}x the floor "
            f"(goal <= {goals.DATA_QUALITY_FLOOR:g}x on every layout: "
            f"{_verdict(all(row.ratio <= goals.DATA_QUALITY_FLOOR for row in rows))}).",
        ]
    if workers:
        lines += [
            "",
            "The monitor alone on one capture file (input + output, CSV), one worker against two (`--workers`), "
            "against the same baseline; the analyzer hands inputs of 32 MB or more to its workers. CPU is user + system "
            "time of the process and its workers; cores busy is CPU over wall time (one worker already uses Arrow's "
            "threads on an idle core), and two workers cannot take less than their CPU over the CPUs:",
            "",
            "| Data set | Records | Capture MB | 1 worker s | 2 workers s | Speed-up | Goal | Met | CPU s (1 / 2) "
            "| Cores busy (1 / 2) | Peak MB (1 / 2) |",
            "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|",
        ]
        lines += [
            f"| {w.kind} | {w.records:,} | {w.capture_mb:,.0f} | {w.one.seconds:.2f} | {w.two.seconds:.2f} "
            f"| {w.speedup:.2f}x | >= {goals.TWO_WORKERS_SPEEDUP:g}x | {_verdict(w.speedup >= goals.TWO_WORKERS_SPEEDUP)} "
            f"| {w.one.cpu_seconds:.2f} / {w.two.cpu_seconds:.2f} "
            f"| {w.one.cpu_seconds / w.one.seconds:.2f} / {w.two.cpu_seconds / w.two.seconds:.2f} "
            f"| {w.one.peak_rss_mb:,.0f} / {w.two.peak_rss_mb:,.0f} |"
            for w in workers
        ]
    return lines


def run_all(
    kinds: list[str], sizes: list[int], *, repeat: int, workers: bool, log: Callable[[str], None]
) -> list[str]:
    """Every layout of every kind at every size, then the workers' comparison at the largest size; the lines."""
    rows = [
        run_layout(kind, records, layout, repeat=repeat, log=log)
        for kind in kinds
        for records in sizes
        for layout in LAYOUTS
    ]
    compared = (
        [run_workers(kind, max(sizes), repeat=repeat, log=log) for kind in kinds] if workers and sizes else []
    )
    return layout_lines(rows, compared)


def _log(message: str) -> None:
    print(f"[bench.layouts] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.layouts", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=list(DEFAULT_RECORDS),
                        help="capture records (and baseline rows) per layout, one run of every layout per size "
                        "(default 300,000 and 1,000,000)")  # fmt: skip
    parser.add_argument("--kinds", nargs="+", choices=tuple(KINDS), default=[ROUNDED],
                        help="data set kinds (default rounded)")  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each command, fastest counts (default 1)"
    )
    parser.add_argument(
        "--skip-workers", action="store_true", help="no one-worker against two-workers comparison"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="Markdown file to write")
    args = parser.parse_args(argv)
    command = " ".join(
        ["python -m bench.layouts", shlex.join(sys.argv[1:] if argv is None else argv)]
    ).strip()
    repeat = max(args.repeat, 1)
    measured = run_all(
        args.kinds, sorted(set(args.records)), repeat=repeat, workers=not args.skip_workers, log=_log
    )
    lines = [
        "# Benchmark: capture layouts",
        "",
        f"Command: `{command}`; seconds are wall time of fresh processes (start-up included), fastest of "
        f"{repeat} run(s).",
        "",
        *measured,
        "",
    ]
    page = "\n".join(lines)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(page)
    print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
