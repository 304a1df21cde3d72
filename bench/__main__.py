"""``python -m bench`` (``make bench``): time the analyzer against its peers on generated data.

For each data set kind of ``--datasets`` (default: ``rounded`` and ``realistic``, see ``bench.generate``):

1. Generate (or find in ``bench/data/``) a baseline CSV and a SageMaker capture of ``--records``.
2. Make the peers' virtualenv (``.bench-venv/``) if it is missing.
3. Run, each in a fresh process on the same files: the bare parses (polars, pyarrow: the floor), our
   analyzer's ``baseline`` + ``monitor``, Evidently's DataDriftPreset and whylogs' profiles + drift scores.
4. If the analyzer takes ``--workers``, run ours again with one worker (the default uses every CPU).
5. Run ours again at each size of ``--memory-records`` to show how its peak memory grows with the data.

Then, for the same data set kinds, the capture layouts (``bench.layouts``: many files or one, input + output or
input only, CSV or JSON input, at each size of ``--layout-records``, against the bare parse of the same files, and
one worker against two on one capture file); model quality (``bench.model_quality_speed``, ``--model-quality-records``
captures joined with ground truth, against polars reading them); bias (``bench.bias_speed``, ``--bias-rows`` rows,
every metric, against reading the CSV). Each part prints its goals beside its figures.

Then print the Markdown page, one part per data set and per benchmark, and write it to ``bench/results/``.

Time with the defaults, on 2 otherwise idle CPUs: about 20 minutes (the main tables at 1M records per kind, Evidently
and whylogs taking most of it, and ours again at 5M for the memory figure: about 10; the layouts, 8 per kind at 300k
and 1M records, and the workers' comparison: about 8; model quality and bias at 1M: about 1 each), plus about 10
minutes of data generation on the first run (cached in ``bench/data/``, about 20 GB). ``--quick`` takes about
5 minutes; ``--layout-records 0 --model-quality-records 0 --bias-rows 0`` runs the main tables alone.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from bench import layouts
from bench.bias_speed import bias_lines, measure_bias
from bench.generate import KINDS, ensure_dataset, spec_for
from bench.model_quality_speed import measure_model_quality, model_quality_lines
from bench.peer_env import REPO_ROOT, ensure_peer_env
from bench.report import MemoryPoint, Section, render
from bench.run import (
    FLOORS,
    Result,
    analyzer_takes_workers,
    fastest,
    run_floor,
    run_ours,
    run_peer,
    warm_page_cache,
)

RESULTS = REPO_ROOT / "bench" / "results"


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Time the analyzer against Evidently, whylogs and the bare parse."
    )
    parser.add_argument(
        "--records",
        type=int,
        default=None,
        help="capture records, and baseline rows (default 1,000,000; 100,000 with --quick)",
    )
    parser.add_argument(
        "--memory-records",
        type=int,
        nargs="+",
        default=None,
        help="other sizes at which ours runs again for the memory figure; 0 skips it "
        "(default 5,000,000; 500,000 with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: smaller default sizes, results in bench/results/quick.md",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of every contender, taken in turn; the fastest of each is reported (default 1)",
    )
    parser.add_argument("--skip-peers", action="store_true", help="run only the floor and ours")
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=tuple(KINDS),
        default=list(KINDS),
        help="data set kinds to run, in this order (default: all of them)",
    )
    parser.add_argument(
        "--layout-records",
        type=int,
        nargs="+",
        default=None,
        help="capture records at which every capture layout runs; 0 skips the layouts "
        "(default 300,000 and 1,000,000; 100,000 with --quick)",
    )
    parser.add_argument(
        "--model-quality-records",
        type=int,
        default=None,
        help="captured inferences (each with a label) for model quality; 0 skips it "
        "(default 1,000,000; 100,000 with --quick)",
    )
    parser.add_argument(
        "--bias-rows",
        type=int,
        default=None,
        help="rows of the bias data set; 0 skips it (default 1,000,000; 100,000 with --quick)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="Markdown file to write (default bench/results/latest.md, quick.md with --quick)",
    )
    args = parser.parse_args(argv)
    if args.records is None:
        args.records = 100_000 if args.quick else 1_000_000
    if args.memory_records is None:
        args.memory_records = [500_000 if args.quick else 5_000_000]
    args.memory_records = sorted({n for n in args.memory_records if n > 0} - {args.records})
    if args.layout_records is None:
        args.layout_records = [100_000] if args.quick else list(layouts.DEFAULT_RECORDS)
    args.layout_records = sorted({n for n in args.layout_records if n > 0})
    for option in ("model_quality_records", "bias_rows"):
        if getattr(args, option) is None:
            setattr(args, option, 100_000 if args.quick else 1_000_000)
    if args.results is None:
        args.results = RESULTS / ("quick.md" if args.quick else "latest.md")
    return args


def _run_dataset(kind: str, args: argparse.Namespace, peer_python: Path | None, *, workers: bool) -> Section:
    """Every contender on one kind of data set, then ours at the memory size."""
    dataset = ensure_dataset(spec_for(args.records, kind=kind), log=_log)
    larger = [ensure_dataset(spec_for(records, kind=kind), log=_log) for records in args.memory_records]
    load_before = os.getloadavg()[0]
    warm_page_cache(dataset)
    contenders = {name: (lambda name=name: run_floor(name, dataset)) for name in FLOORS}
    contenders["ours"] = lambda: run_ours(dataset)
    if peer_python is not None:
        contenders["evidently"] = lambda: run_peer("evidently", dataset, peer_python)
        contenders["whylogs"] = lambda: run_peer("whylogs", dataset, peer_python)
    # Round robin, so a burst of load from elsewhere on the machine hits one run, not all of one contender's.
    repeat = max(args.repeat, 1)
    runs: dict[str, list[Result]] = {name: [] for name in contenders}
    for round_number in range(1, repeat + 1):
        for name, contender in contenders.items():
            _log(f"{kind}: {name} on {args.records:,} records (run {round_number} of {repeat})")
            runs[name].append(contender())
    results = {name: fastest(results) for name, results in runs.items()}
    one_worker = None
    if workers:
        _log(f"{kind}: ours with --workers 1 on {args.records:,} records")
        one_worker = fastest([run_ours(dataset, workers=1) for _ in range(repeat)])
    memory = [MemoryPoint.of(results["ours"])]
    for large in larger:
        warm_page_cache(large)
        _log(f"{kind}: ours on {large.spec.records:,} records (memory figure)")
        memory.append(MemoryPoint.of(fastest([run_ours(large) for _ in range(repeat)])))
    memory.sort(key=lambda point: point.records)
    return Section(
        dataset=dataset,
        results=results,
        memory=memory,
        load_average=(load_before, os.getloadavg()[0]),
        one_worker=one_worker,
    )


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    command = " ".join(["python -m bench", shlex.join(sys.argv[1:] if argv is None else argv)]).strip()
    peer_python = None if args.skip_peers else ensure_peer_env(log=_log)
    workers = analyzer_takes_workers()
    sections = [_run_dataset(kind, args, peer_python, workers=workers) for kind in args.datasets]
    repeat = max(args.repeat, 1)
    parts = []
    if args.layout_records:
        parts.append(
            layouts.run_all(args.datasets, args.layout_records, repeat=repeat, workers=workers, log=_log)
        )
    if args.model_quality_records > 0:
        parts.append(
            model_quality_lines(measure_model_quality(args.model_quality_records, repeat=repeat, log=_log))
        )
    if args.bias_rows > 0:
        parts.append(bias_lines(measure_bias(args.bias_rows, repeat=repeat, log=_log)))
    page = render(sections=sections, command=command, repeat=args.repeat, parts=parts)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(page)
    print(page)
    _log(f"wrote {args.results}")


if __name__ == "__main__":
    main()
