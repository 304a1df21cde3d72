"""``model-monitor-analyzer report --reports <folder or s3://...>``: one history page across windows."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from model_monitor_analyzer.checks.concept_shift import DEFAULT_LAST, DEFAULT_OUTSIDE
from model_monitor_analyzer.errors import AnalyzerInputError

# The results' readers and the history page are imported when the report runs: every run of the CLI adds this
# command's options, and they bring in every monitor type's report code.
if TYPE_CHECKING:
    from model_monitor_analyzer.report.html.history import HistoryWindow
    from model_monitor_analyzer.results import Execution, MonitoringResults

COMMAND = "report"
HISTORY_FILE = "history.html"


def result_files() -> frozenset[str]:
    """The files of a window's results, which the history page must never replace."""
    from model_monitor_analyzer.results import (
        ANALYSIS_FILE,
        CONSTRAINTS_FILE,
        REPORT_FILE,
        STATISTICS_FILE,
        VIOLATIONS_FILE,
    )

    return frozenset({REPORT_FILE, STATISTICS_FILE, CONSTRAINTS_FILE, VIOLATIONS_FILE, ANALYSIS_FILE})


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``report``."""
    parser.add_argument("--reports", required=True,
                        help="folder or s3://bucket/prefix holding the windows' report folders (yyyy/mm/dd/HH)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"the history page to write (default: {HISTORY_FILE} in --reports when it is a "
                             f"folder, else in the current folder)")
    parser.add_argument("--concept-shift-windows", type=int, nargs=2, metavar=("K", "N"),
                        default=(DEFAULT_OUTSIDE, DEFAULT_LAST),
                        help="report a possible concept shift when a metric's realised value lies outside its "
                             f"estimate's 95 %% interval in K of the last N labelled windows (default "
                             f"{DEFAULT_OUTSIDE} {DEFAULT_LAST})")


def _link(execution: Execution, page: Path) -> str | None:
    """How the history page links to a window's report: a relative path beside it, the S3 console for S3."""
    from model_monitor_analyzer.results import S3Prefix

    location = execution.report_location
    if location is None:
        return None
    store = execution.store
    if isinstance(store, S3Prefix):
        key = location[len(f"s3://{store.bucket}/"):]
        return f"https://s3.console.aws.amazon.com/s3/object/{store.bucket}?prefix={quote(key)}"
    return Path(os.path.relpath(location, page.resolve().parent)).as_posix()


def _check_violations(execution: Execution) -> list[dict]:
    """The violations the history lists by check rather than by a number: those the report's summary
    names; for a folder without our report (the built-in's), every entry of constraint_violations.json."""
    if execution.summary is not None:
        return list(execution.summary.get("check_violations", []))
    listed = []
    try:
        entries = execution.violations()
    except AnalyzerInputError:  # a cut file: the window shows as Incomplete, the others as they are
        return []
    for entry in entries:
        name = entry.get("feature_name") or entry.get("metric_name") or "dataset"
        if entry.get("facet") is not None:  # bias: a metric of one facet value
            name = f"{name} {entry['facet']}={entry.get('facet_value')}"
        listed.append({"name": str(name), "check": str(entry.get("constraint_check_type", "")),
                       "description": str(entry.get("description", ""))})
    return listed


def history_windows(results: MonitoringResults, page: Path) -> list[HistoryWindow]:
    """The windows found in ``results`` as the history page shows them."""
    from model_monitor_analyzer.report.html.history import HistoryWindow

    windows = []
    for execution in results.list_executions():
        summary = execution.summary or {}
        windows.append(HistoryWindow(
            monitor_type=execution.monitor_type, status=execution.status, start=execution.window_start,
            end=execution.window_end, records=summary.get("records"),
            violations=execution.violation_count(), series=execution.metrics(),
            check_violations=_check_violations(execution), link=_link(execution, page),
            realised_against_estimate=tuple(execution.realised_against_estimate())))
    return windows


def _is_history_page(path: Path) -> bool:
    """Whether ``path`` is a page ``history_page`` wrote (the only file ``report`` replaces)."""
    try:
        with path.open("rb") as handle:
            start = handle.read(4096)
    except OSError:
        return False
    return start.startswith(b"<!DOCTYPE html>") and b"<title>Monitoring history</title>" in start


def run_report(args: argparse.Namespace) -> int:
    """Write the history page; print where it is and how many windows it shows."""
    from model_monitor_analyzer.report.html.history import history_page
    from model_monitor_analyzer.report.html.page import write_report
    from model_monitor_analyzer.results import LocalFolder, MonitoringResults

    results = MonitoringResults.open(args.reports)
    output = args.output
    if output is None:
        output = (Path(args.reports) if isinstance(results.store, LocalFolder) else Path.cwd()) / HISTORY_FILE
    if output.name in result_files() or output.is_dir():
        raise AnalyzerInputError(
            f"--output {output} is a window's result or a folder, not a page to write: give a file name such as {HISTORY_FILE}"
        )
    if (output.exists() or output.is_symlink()) and not _is_history_page(output):
        raise AnalyzerInputError(
            f"--output {output} exists and is not a history page this command wrote: give another file name (an "
            "earlier history page is replaced, any other file is kept)"
        )
    outside, last = args.concept_shift_windows
    if not 1 <= outside <= last:
        raise AnalyzerInputError(f"--concept-shift-windows {outside} {last}: K must be between 1 and N")
    windows = history_windows(results, output)
    if not windows:
        raise AnalyzerInputError(
            f"--reports {args.reports} holds no monitoring window (a folder yyyy/mm/dd/HH with a window's result "
            "files): give the folder the monitor writes its reports to"
        )
    write_report(output, history_page(windows, source=str(args.reports), concept_shift=(outside, last)))
    print(f"{len(windows)} windows", file=sys.stdout)
    print(f"wrote {output}")
    return 0
