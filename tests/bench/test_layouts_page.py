"""The layouts' part of the results page states each layout's ratio to its floor and the workers' speed-up
against the issue's goals."""

from __future__ import annotations

from bench import goals
from bench.capture_layouts import LAYOUTS
from bench.layouts import LayoutRow, WorkersRow, layout_lines
from bench.measure import Run
from bench.run import Result


def _result(name: str, seconds: float, phases: dict[str, float]) -> Result:
    return Result(
        name=name, label=name, seconds=seconds, peak_rss_mb=100.0, phases=phases, rows=(10, 10), drifted=None
    )


def _row(layout, ours_seconds: float, floor_seconds: float) -> LayoutRow:
    return LayoutRow(
        kind="rounded",
        records=10,
        layout=layout,
        capture_mb=1.0,
        ours=_result("ours", ours_seconds, {"baseline": ours_seconds / 2, "monitor": ours_seconds / 2}),
        floor=_result("floor-polars", floor_seconds, {"load_baseline": 0.1, "load_capture": 0.2}),
    )


def _line_of(lines: list[str], text: str) -> str:
    (line,) = [line for line in lines if text in line]
    return line


def test_each_layout_is_judged_against_the_floor_goal_and_the_worst_is_named():
    within = 0.99 * goals.DATA_QUALITY_FLOOR
    over = 1.01 * goals.DATA_QUALITY_FLOOR
    lines = layout_lines([_row(LAYOUTS[0], within, 1.0), _row(LAYOUTS[-1], over, 1.0)], [])
    assert _line_of(lines, LAYOUTS[0].name).endswith(f"| {within:.2f}x | yes | 100 | 100 |")
    assert _line_of(lines, f"| {LAYOUTS[-1].name} |").endswith(f"| {over:.2f}x | **no** | 100 | 100 |")
    assert _line_of(lines, "Worst layout").startswith(
        f"Worst layout: rounded, 10 records, {LAYOUTS[-1].name}"
    )


def test_two_workers_speed_up_is_one_worker_time_over_two_workers_time():
    def run(seconds: float, peak_mb: float, cpu: float) -> Run:
        return Run(command=("monitor",), seconds=seconds, peak_rss_mb=peak_mb, exit_code=0, cpu_seconds=cpu, stdout="",
                   stderr="")

    workers = WorkersRow(kind="rounded", records=10, capture_mb=40.0, one=run(3.4, 200.0, 4.25), two=run(2.0, 300.0, 3.8))
    line = _line_of(layout_lines([], [workers]), "| rounded | 10 | 40 |")
    assert f"| 3.40 | 2.00 | 1.70x | >= {goals.TWO_WORKERS_SPEEDUP:g}x | yes |" in line
    # CPU seconds, and cores busy: CPU over wall time
    assert line.endswith("| 4.25 / 3.80 | 1.25 / 1.90 | 200 / 300 |")
