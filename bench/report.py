"""The benchmark's results as Markdown: per data set, what ran, a table of contenders, the ratios against the goals."""

from __future__ import annotations

import dataclasses
import os
import platform
from datetime import UTC, datetime

from bench import goals
from bench.generate import Dataset
from bench.run import Result


@dataclasses.dataclass(frozen=True, kw_only=True)
class MemoryPoint:
    """Ours at one size: records (capture records = baseline rows), seconds, peak RSS per command."""

    records: int
    seconds: float
    baseline_rss_mb: float
    monitor_rss_mb: float

    @property
    def peak_rss_mb(self) -> float:
        return max(self.baseline_rss_mb, self.monitor_rss_mb)

    @classmethod
    def of(cls, result: Result) -> MemoryPoint:
        return cls(
            records=result.rows[1],
            seconds=result.seconds,
            baseline_rss_mb=result.phases["baseline_rss_mb"],
            monitor_rss_mb=result.phases["monitor_rss_mb"],
        )


def _steps(result: Result) -> str:
    if result.name == "ours":
        return f"baseline {result.phases['baseline']:.1f} + monitor {result.phases['monitor']:.1f}"
    if result.name.startswith("floor"):
        return f"baseline {result.phases['load_baseline']:.1f} + capture {result.phases['load_capture']:.1f}"
    return f"load {result.phases['load']:.1f} + compute {result.phases['compute']:.1f}"


def _verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Section:
    """One data set's part of the page: its contenders' results, ours at several sizes, the load."""

    dataset: Dataset
    results: dict[str, Result]
    memory: list[MemoryPoint]
    load_average: tuple[float, float] | None = None  # 1-minute load before and after the runs
    one_worker: Result | None = None  # ours with --workers 1 (the analyzer's default uses every CPU)


def floor_of(results: dict[str, Result]) -> Result | None:
    """The fastest bare parse among the floors that ran."""
    floors = [r for name, r in results.items() if name.startswith("floor")]
    return min(floors, key=lambda r: r.seconds) if floors else None


def _ratio_rows(results: dict[str, Result], memory: list[MemoryPoint]) -> list[str]:
    ours = results["ours"]
    rows = []
    for name, goal in (("evidently", goals.EVIDENTLY_SPEEDUP), ("whylogs", goals.WHYLOGS_SPEEDUP)):
        if name in results:
            ratio = results[name].seconds / ours.seconds
            rows.append(f"| {name} / ours (time) | {ratio:.1f}x | >= {goal:g}x | {_verdict(ratio >= goal)} |")
            compute = results[name].phases["compute"]
            rows.append(
                f"| {name} compute only / ours (time) | {compute / ours.seconds:.1f}x | (for reference) | |"
            )
    floor = floor_of(results)
    if floor is not None:
        ratio = ours.seconds / floor.seconds
        rows.append(
            f"| ours / floor (time; floor = {floor.name}, the faster bare parse) | {ratio:.2f}x "
            f"| <= {goals.DATA_QUALITY_FLOOR:g}x | {_verdict(ratio <= goals.DATA_QUALITY_FLOOR)} |"
        )
        for name, other in results.items():
            if name.startswith("floor") and name != floor.name:
                rows.append(
                    f"| ours / {name} (time) | {ours.seconds / other.seconds:.2f}x | (for reference) | |"
                )
    if len(memory) >= 2:
        large = memory[-1]
        small = next((p for p in memory[:-1] if p.records >= goals.FLAT_FROM_RECORDS), memory[0])
        for command in ("baseline", "monitor"):
            before, after = getattr(small, f"{command}_rss_mb"), getattr(large, f"{command}_rss_mb")
            growth = after / before
            rows.append(
                f"| ours peak memory of `{command}`, {large.records:,} / {small.records:,} records | {growth:.2f}x "
                f"({before:,.0f} -> {after:,.0f} MB) | flat (<= {goals.FLAT_RSS_GROWTH:g}x) "
                f"| {_verdict(growth <= goals.FLAT_RSS_GROWTH)} |"
            )
    if memory:
        largest = memory[-1]
        rows.append(
            f"| ours peak memory at {largest.records:,} records | {largest.peak_rss_mb:,.0f} MB "
            f"| <= {goals.PEAK_RSS_MB:,.0f} MB (at 10,000,000) | {_verdict(largest.peak_rss_mb <= goals.PEAK_RSS_MB)} |"
        )
    return rows


def _load_note(load_average: tuple[float, float]) -> str:
    """The machine's load before and after the data set's runs (and a warning when other work
    competed for the CPUs)."""
    before, after = load_average
    note = f"Load average (1 min) of the machine: {before:.2f} before this data set's runs, {after:.2f} after"
    if max(before, after) > (os.cpu_count() or 1):
        note += " (more than the CPU count: other work competed for the CPUs and the times are inflated)"
    return note + "."


def _workers_lines(one: Result, default: Result) -> list[str]:
    rows = [
        f"| {label} | {r.seconds:.1f} | {r.phases['baseline']:.1f} + {r.phases['monitor']:.1f} | {r.peak_rss_mb:,.0f} |"
        for label, r in (("1 (`--workers 1`)", one), (f"default (every CPU: {os.cpu_count()})", default))
    ]
    return [
        "",
        f"Workers of ours (same records; speed-up of the default over one worker: {one.seconds / default.seconds:.2f}x):",
        "",
        "| Workers | Seconds | baseline + monitor (s) | Peak memory MB |",
        "|---|---:|---|---:|",
        *rows,
    ]


def _section_lines(section: Section) -> list[str]:
    dataset, results, memory = section.dataset, section.results, section.memory
    sizes = dataset.size_bytes()
    spec = dataset.spec
    lines = [
        f"## Data set `{spec.kind}`: {spec.records:,} records",
        "",
        f"Data (generated by `bench/generate.py`, seed {spec.seed}): a baseline CSV of {spec.baseline_records:,} rows "
        f"({sizes['baseline'] / 1e6:,.0f} MB) and a SageMaker data capture of {spec.records:,} records "
        f"({sizes['capture'] / 1e6:,.0f} MB of JSON Lines); {dataset.kind.description}; drifted in the capture "
        "for some features."
        + (f" {_load_note(section.load_average)}" if section.load_average is not None else ""),
        "",
        "| Contender | Version | Seconds | Steps (s) | Peak memory MB | Rows (baseline / capture) | Drifted columns |",
        "|---|---|---:|---|---:|---|---:|",
    ]
    for result in results.values():
        drifted = "—" if result.drifted is None else str(len(result.drifted))
        lines.append(
            f"| {result.label} | {result.version} | {result.seconds:.1f} | {_steps(result)} | "
            f"{result.peak_rss_mb:,.0f} | {result.rows[0]:,} / {result.rows[1]:,} | {drifted} |"
        )
    if "ours" in results:
        lines += ["", "| Ratio | Measured | Goal | Met |", "|---|---:|---|---|", *_ratio_rows(results, memory)]
    if section.one_worker is not None and "ours" in results:
        lines += _workers_lines(section.one_worker, results["ours"])
    if memory:
        lines += [
            "",
            "Memory of ours against the number of records (baseline rows = capture records):",
            "",
            "| Records | Seconds | Peak memory MB, baseline | Peak memory MB, monitor |",
            "|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {p.records:,} | {p.seconds:.1f} | {p.baseline_rss_mb:,.0f} | {p.monitor_rss_mb:,.0f} |"
            for p in memory
        ]
    lines += ["", "Columns each contender reports as drifted (ours: `baseline_drift_check` violations):", ""]
    for result in results.values():
        if result.drifted is not None:
            lines.append(f"- {result.name}: {', '.join(result.drifted) or 'none'}")
    if "ours" in results:
        lines.append(f"- ours, all violations: {int(results['ours'].phases['violations'])}")
    counts = {r.rows for r in results.values()}
    if len(counts) > 1:
        lines += ["", f"**Warning: contenders saw different row counts: {sorted(counts)}.**"]
    return lines


def _goals_line() -> str:
    return (
        f"Goals: data quality (baseline + monitor) <= {goals.DATA_QUALITY_FLOOR:g}x the bare parse of the same files on "
        f"every layout, Evidently >= {goals.EVIDENTLY_SPEEDUP:g}x and whylogs >= {goals.WHYLOGS_SPEEDUP:g}x slower "
        f"than ours (main layout); two workers >= {goals.TWO_WORKERS_SPEEDUP:g}x one on one capture file; model "
        f"quality <= {goals.MODEL_QUALITY_FLOOR:g}x its floor; bias, every metric, <= {goals.BIAS_FLOOR:g}x its floor."
    )


def render(
    *,
    sections: list[Section],
    command: str,
    repeat: int = 1,
    notes: list[str] | None = None,
    parts: list[list[str]] | None = None,
) -> str:
    """The whole results page: how it was measured, one part per data set, then the other ``parts`` (Markdown
    lines each, from the layouts, model-quality and bias benchmarks)."""
    lines = [
        "# Benchmark: analyzer against Evidently, whylogs and the bare parse",
        "",
        _goals_line(),
        "",
        f"Command: `{command}`  ",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}.",
        "",
        "Each contender runs in a fresh process on the same files; seconds are wall time from process start to exit "
        "(start-up and imports included); peak memory is the command's own: the larger of its kernel peak RSS and "
        "the sampled peak of the summed PSS of its process tree (so worker processes count)"
        + (f"; each contender ran {repeat} times and the fastest run is shown" if repeat > 1 else "")
        + ". The floor is the faster of two bare parses of the same files (polars; pyarrow + orjson).",
        *[line for note in notes or [] for line in ("", note)],
    ]
    for section in sections:
        lines += ["", *_section_lines(section)]
    for part in parts or []:
        lines += ["", *part]
    return "\n".join(lines) + "\n"
