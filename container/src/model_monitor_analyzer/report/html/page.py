"""The frame every HTML report shares: header, summary, styles, and the machine-readable summary.

A report is one self-contained file: styles inline, charts inline SVG, no script and nothing
fetched, so it opens from the S3 console or a laptop with no network. It also embeds its
summary as JSON (``<script type="application/json" id="model-monitor-summary">``): the history
page and ``model_monitor_analyzer.results`` read a window's status, each drift distance or
metric, and the violations no number carries from there, without reading a megabyte of
statistics.json per window.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path

from model_monitor_analyzer.report.jsonfile import write_bytes

REPORT_FILE = "report.html"
SUMMARY_ELEMENT_ID = "model-monitor-summary"
SUMMARY_FORMAT = "model-monitor-report/1"
_SUMMARY = re.compile(
    rb'<script type="application/json" id="' + SUMMARY_ELEMENT_ID.encode() + rb'">(.*?)</script>', re.DOTALL
)

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:980px;padding:12px;color:#222}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #ddd}
h3{font-size:1em;margin:.2em 0}
.status{display:inline-block;padding:2px 8px;border-radius:4px;color:#fff;font-weight:600}
.Completed{background:#2ca02c}.CompletedWithViolations{background:#e6550d}.NoData{background:#7f7f7f}
.Baseline{background:#4c78a8}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.5em 0}
dl.facts dt{color:#555}dl.facts dd{margin:0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:10px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px}
.card.violated{border-color:#e6550d;box-shadow:inset 4px 0 0 #e6550d}
.chart{width:100%;height:auto;font-size:10px;fill:#333}
table{border-collapse:collapse;font-size:.9em;margin:.3em 0}td,th{padding:2px 6px;border-bottom:1px solid #eee;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bad{color:#c0392b;font-weight:600}.ok{color:#2ca02c}
ul.violations{padding-left:1.1em;margin:.3em 0}ul.violations li{color:#c0392b}
.scroll{overflow-x:auto}
.legend{color:#555;font-size:.85em}
"""


@dataclass(frozen=True, kw_only=True)
class SeriesPoint:
    """One number a window is judged by: a feature's drift distance, a model metric, a bias metric.

    ``threshold`` is the value beyond which it violates (``upper``/``lower`` say which side);
    bias metrics have both bounds (``lower_threshold`` too).
    """

    name: str
    measure: str
    value: float | None
    threshold: float | None = None
    lower_threshold: float | None = None
    violated: bool = False
    baseline: float | None = None


@dataclass(frozen=True, kw_only=True)
class CheckViolation:
    """A violation that no series point carries, because its check gives no number to follow over
    time (a value outside the baseline's domain, a type mismatch, a missing column): the history lists
    it by ``name`` (a feature, or ``dataset``) and ``check`` (its ``constraint_check_type``)."""

    name: str
    check: str
    description: str


@dataclass(frozen=True, kw_only=True)
class ReportHeader:
    """What a report says about its run before any detail."""

    monitor_type: str  # data-quality, model-quality, bias
    kind: str  # "monitor" or "baseline"
    status: str  # Completed, CompletedWithViolations, NoData, Baseline
    window_start: datetime | None = None
    window_end: datetime | None = None
    records: int | None = None
    bad_records: int | None = None
    facts: Mapping[str, object] = field(default_factory=dict)


def _clean(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def summary_document(header: ReportHeader, violations: int, series: Sequence[SeriesPoint],
                     check_violations: Sequence[CheckViolation] = (),
                     realised_against_estimate: Sequence[Mapping[str, object]] = ()) -> dict:
    """The JSON summary a report embeds (see the module docstring); ``realised_against_estimate``: a labelled
    model-quality window's realised metrics with their estimates' intervals (``checks.concept_shift``)."""
    extra = {"realised_against_estimate": list(realised_against_estimate)} if realised_against_estimate else {}
    return _clean({
        **extra,
        "format": SUMMARY_FORMAT,
        "kind": header.kind,
        "monitor_type": header.monitor_type,
        "status": header.status,
        "window": {"start": header.window_start, "end": header.window_end},
        "records": header.records,
        "bad_records": header.bad_records,
        "violations": violations,
        "series": [vars(point) for point in series],
        "check_violations": [vars(violation) for violation in check_violations],
    })


def read_summary(html: bytes) -> dict | None:
    """The summary embedded in a report's HTML (None when it has none: not one of our reports)."""
    found = _SUMMARY.search(html)
    if found is None:
        return None
    try:
        summary = json.loads(found.group(1).replace(b"<\\/", b"</"))
    except ValueError:
        return None
    return summary if isinstance(summary, dict) and summary.get("format") == SUMMARY_FORMAT else None


def _time_text(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"


def header_html(header: ReportHeader, violations: int) -> str:
    """Title, status badge and the run's facts (window, records, bad records, violations)."""
    titles = {"data-quality": "Data quality", "model-quality": "Model quality", "bias": "Bias drift"}
    title = f"{titles.get(header.monitor_type, header.monitor_type)} {header.kind}"
    facts: dict[str, object] = {}
    if header.kind == "monitor":
        facts["Window"] = f"{_time_text(header.window_start)} → {_time_text(header.window_end)}"
    if header.records is not None:
        facts["Records"] = f"{header.records:,}"
    if header.bad_records is not None:
        facts["Bad records"] = f"{header.bad_records:,}"
    if header.kind == "monitor":
        facts["Violations"] = str(violations)
    facts.update(header.facts)
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts.items())
    return (f"<h1>{escape(title)}</h1><span class=\"status {escape(header.status)}\">{escape(header.status)}</span>"
            f'<dl class="facts">{rows}</dl>')


def page(header: ReportHeader, body: str, *, violations: int, series: Sequence[SeriesPoint],
         check_violations: Sequence[CheckViolation] = (),
         realised_against_estimate: Sequence[Mapping[str, object]] = ()) -> str:
    """A whole report: one HTML document with its styles, body and embedded summary."""
    # "</" would end the script element early, whatever JSON string holds it
    summary = json.dumps(summary_document(header, violations, series, check_violations, realised_against_estimate),
                         separators=(",", ":")).replace("</", "<\\/")
    title = f"{header.monitor_type} {header.kind} {_time_text(header.window_start)}"
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"{header_html(header, violations)}{body}"
            f'<script type="application/json" id="{SUMMARY_ELEMENT_ID}">{summary}</script>'
            "</body></html>\n")


def no_data_page(header: ReportHeader, note: str = "No records in the monitoring window: nothing to analyze.") -> str:
    """The report of a window without data: its header and why there is nothing else."""
    return page(header, f"<p>{escape(note)}</p>", violations=0, series=[])


def table(headings: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[int] = ()) -> str:
    """An HTML table from already-escaped cells; columns in ``numeric`` are right-aligned."""
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{h}</th>' for i, h in enumerate(headings))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{cell}</td>' for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


# Control characters HTML does not allow in a document (a value read from raw bytes may hold them): shown
# as the replacement character, not written into the page.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def write_report(path: Path, html: str) -> Path:
    """Write ``html`` to ``path`` (creating the folder), without control characters HTML does not allow."""
    write_bytes(path, _CONTROL.sub("\ufffd", html).encode("utf-8"))
    return path
