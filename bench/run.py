"""Running each contender on one data set, each in a fresh process, and collecting what it did.

Contenders:

* floor-polars, floor-pyarrow: ``bench.contenders.floor_polars`` and ``bench.contenders.floor``, the
  bare parse of the files (project environment); the faster of the two is the floor;
* ours: the analyzer's CLI, ``baseline`` then ``monitor`` over the whole capture window, two processes;
* evidently, whylogs: ``bench.contenders.*_drift`` in the peers' environment, load + compute.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.contenders.capture_lines import capture_files
from bench.generate import Dataset
from bench.measure import Run, measure
from bench.peer_env import PEER_ENV_VARS, REPO_ROOT

RUNS_ROOT = REPO_ROOT / "bench" / "data" / "runs"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    """One contender on one data set: seconds and peak RSS over its process(es), phase timings, findings.

    ``seconds`` is wall time from process start to exit (interpreter start-up and imports included),
    summed over the contender's processes; ``peak_rss_mb`` is the largest of their peaks.
    ``phases`` holds the seconds the contender reports for its own steps (load, compute, ...).
    ``drifted`` lists the columns it reports as drifted (None when it does not judge drift).
    """

    name: str
    label: str
    seconds: float
    peak_rss_mb: float
    phases: dict[str, float]
    rows: tuple[int, int]
    drifted: tuple[str, ...] | None
    version: str = ""


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a contender: ours, with the repository importable and telemetry off."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.update(PEER_ENV_VARS)
    env.update(extra or {})
    return env


def fastest(results: list[Result]) -> Result:
    """The fastest of several runs of one contender, with the largest peak RSS seen in any of them.

    The minimum time is the run least disturbed by whatever else the machine did meanwhile.
    """
    best = min(results, key=lambda result: result.seconds)
    return dataclasses.replace(best, peak_rss_mb=max(result.peak_rss_mb for result in results))


def warm_page_cache(dataset: Dataset) -> None:
    """Read every input file once, so no contender pays (or is spared) the first read from disk."""
    warm_files(dataset.baseline_csv, dataset.capture_dir)


def warm_files(baseline_csv: Path, capture_dir: Path) -> None:
    """``warm_page_cache`` for a baseline CSV and a capture tree."""
    for path in [baseline_csv, *capture_files(capture_dir)]:
        with path.open("rb") as f:
            while f.read(16 << 20):
                pass


def script_result(name: str, label: str, run: Run, *, version: str = "") -> Result:
    """A contender script's run as a ``Result``, from the JSON line of phases it prints."""
    phases = run.phases()
    drifted = phases.pop("drifted", None)
    rows = (int(phases.pop("baseline_rows")), int(phases.pop("capture_rows")))
    version = str(phases.pop("version", version))
    return Result(
        name=name,
        label=label,
        seconds=run.seconds,
        peak_rss_mb=run.peak_rss_mb,
        phases=phases,
        rows=rows,
        drifted=None if drifted is None else tuple(drifted),
        version=version,
    )


FLOORS = {
    "floor-polars": ("bench.contenders.floor_polars", "floor: bare parse (polars)"),
    "floor-pyarrow": ("bench.contenders.floor", "floor: bare parse (pyarrow + orjson)"),
}


def _input_arguments(dataset: Dataset) -> list[str]:
    return [
        "--baseline",
        str(dataset.baseline_csv),
        "--capture",
        str(dataset.capture_dir),
        "--layout",
        dataset.kind.layout,
    ]


def run_floor(name: str, dataset: Dataset) -> Result:
    """A bare parse (``name`` in ``FLOORS``), in the project's environment."""
    module, label = FLOORS[name]
    run = measure(
        [sys.executable, "-m", module, *_input_arguments(dataset)],
        env=child_env(),
        cwd=REPO_ROOT,
    )
    return script_result(name, label, run)


def run_peer(name: str, dataset: Dataset, python: Path) -> Result:
    """Evidently or whylogs (``name``), in the peers' environment."""
    module = {"evidently": "bench.contenders.evidently_drift", "whylogs": "bench.contenders.whylogs_drift"}[
        name
    ]
    label = {"evidently": "Evidently DataDriftPreset", "whylogs": "whylogs profile + drift scores"}[name]
    run = measure(
        [str(python), "-m", module, *_input_arguments(dataset)],
        env=child_env(),
        cwd=REPO_ROOT,
    )
    return script_result(name, label, run)


def _analyzer_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("model-monitor-analyzer")
    except PackageNotFoundError:
        return ""


def _count_rows(statistics: Path) -> int:
    return int(json.loads(statistics.read_text())["dataset"]["item_count"])


def analyzer_takes_workers() -> bool:
    """Whether the analyzer's ``baseline`` command has a ``--workers`` option (processes to use)."""
    done = subprocess.run(
        [sys.executable, "-m", "model_monitor_analyzer", "baseline", "--help"],
        env=child_env(),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return "--workers" in done.stdout


def run_ours(
    dataset: Dataset, *, label: str = "ours: analyzer baseline + monitor", workers: int | None = None
) -> Result:
    """The analyzer's CLI end to end from files: ``baseline`` on the CSV, then ``monitor`` on the capture.

    Each command is its own process (as a user runs them); both are timed. The monitor exits 0 with
    ``CompletedWithViolations`` when it finds drift, which the data set is made to contain.
    ``workers`` is passed as ``--workers`` to both (None: the analyzer's default, every CPU).
    """
    return run_ours_on(
        dataset.baseline_csv,
        dataset.capture_dir,
        dataset.window,
        label=label,
        workers=workers,
        name=dataset.root.name,
    )


def run_ours_on(
    baseline_csv: Path,
    capture_dir: Path,
    window: tuple[str, str],
    *,
    label: str = "ours: analyzer baseline + monitor",
    workers: int | None = None,
    name: str = "ours",
) -> Result:
    """``run_ours`` on any baseline CSV and capture tree, over the window ``[start, end)``."""
    RUNS_ROOT.mkdir(parents=True, exist_ok=True)
    # A folder of its own per run, so two benches running at once cannot trip over each other's files.
    with tempfile.TemporaryDirectory(dir=RUNS_ROOT, prefix=f"{name}-") as scratch:
        workdir = Path(scratch)
        baseline_dir = workdir / "baseline"
        baseline = run_baseline(baseline_csv, baseline_dir, workers=workers)
        monitor = run_monitor(capture_dir, baseline_dir, workdir / "monitor", window, workers=workers)
        violations = json.loads((workdir / "monitor" / "constraint_violations.json").read_text())[
            "violations"
        ]
        rows = (
            _count_rows(baseline_dir / "statistics.json"),
            _count_rows(workdir / "monitor" / "statistics.json"),
        )
    drifted = sorted(
        {v["feature_name"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"}
    )
    return Result(
        name="ours",
        label=label,
        seconds=baseline.seconds + monitor.seconds,
        peak_rss_mb=max(baseline.peak_rss_mb, monitor.peak_rss_mb),
        phases={
            "baseline": baseline.seconds,
            "monitor": monitor.seconds,
            "baseline_rss_mb": baseline.peak_rss_mb,
            "monitor_rss_mb": monitor.peak_rss_mb,
            "violations": len(violations),
        },
        rows=rows,
        drifted=tuple(drifted),
        version=_analyzer_version(),
    )


ANALYZER = [sys.executable, "-m", "model_monitor_analyzer"]


def _worker_options(workers: int | None) -> list[str]:
    return [] if workers is None else ["--workers", str(workers)]


def run_baseline(baseline_csv: Path, output: Path, *, workers: int | None = None) -> Run:
    """The analyzer's ``baseline`` on a CSV with a header, in a fresh process; its files go to ``output``."""
    return measure(
        [
            *ANALYZER,
            "baseline",
            "--dataset",
            str(baseline_csv),
            "--output",
            str(output),
            *_worker_options(workers),
        ],
        env=child_env(),
        cwd=REPO_ROOT,
    )


def run_monitor(
    capture_dir: Path,
    baseline_dir: Path,
    output: Path,
    window: tuple[str, str],
    *,
    workers: int | None = None,
) -> Run:
    """The analyzer's data-quality ``monitor`` of a capture tree against ``baseline_dir``'s statistics and
    constraints, in a fresh process; replaces an earlier run's files in ``output``."""
    start, end = window
    return measure(
        [
            *ANALYZER,
            "monitor",
            "--capture",
            str(capture_dir),
            "--statistics",
            str(baseline_dir / "statistics.json"),
            "--constraints",
            str(baseline_dir / "constraints.json"),
            "--output",
            str(output),
            "--overwrite",
            "--start",
            start,
            "--end",
            end,
            *_worker_options(workers),
        ],
        env=child_env(),
        cwd=REPO_ROOT,
    )
