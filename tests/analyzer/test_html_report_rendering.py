"""The reports render in headless Chromium (Debian's chromium package): height, no console errors,
no horizontal scrolling on a narrow screen, a screenshot that is not blank, bounded sizes."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.requests import InputFormat
from model_monitor_analyzer.monitors import data_quality as job
from model_monitor_analyzer.monitors.data_quality.request import (
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
)
from model_monitor_analyzer.report.html import model_quality as mq_report
from tests.analyzer.test_bias_job import (
    ADULT,
    FEATURES,
    PREDICTED,
    _monitor_config,
    _ten_invocations,
    _write_lines,
)

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
# Appended to a copy of the page under test (reports themselves hold no script): the page's size,
# written into the title that --dump-dom prints.
MEASURE = ("<script>const e=document.documentElement;document.title='measured '+e.scrollHeight+' '+e.scrollWidth+' '"
           "+e.clientWidth;</script>")
PHONE_WIDTH = 500  # headless Chromium's narrowest window


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium package is not installed (`make test` installs it as root with apt-get)")
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
                          capture_output=True, text=True, timeout=120)


def render(report: Path, folder: Path, *, width: int) -> dict:
    """Render ``report`` at ``width`` pixels: its measured size, console lines and a full-height screenshot."""
    report, folder = report.resolve(), folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    measured = folder / f"measured-{report.name}"
    measured.write_text(report.read_text().replace("</body>", MEASURE + "</body>"))
    dom = _chromium(folder / "profile-dom", f"--window-size={width},900", "--dump-dom", measured.as_uri())
    height, scroll_width, client_width = map(int, re.search(r"<title>measured (\d+) (\d+) (\d+)</title>", dom.stdout).groups())
    screenshot = folder / f"{report.stem}.png"
    shot = _chromium(folder / "profile-shot", f"--window-size={width},{min(height, 8000)}",
                     f"--screenshot={screenshot}", report.as_uri())
    console = [line for line in (dom.stderr + shot.stderr).splitlines() if ":CONSOLE" in line]
    return {"height": height, "scroll_width": scroll_width, "client_width": client_width, "console": console,
            "screenshot": screenshot}


def _png_size(png: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _blank_screenshot(folder: Path, width: int, height: int) -> Path:
    """A screenshot of an empty page of the same size: what a page that drew nothing would compress to."""
    blank = folder / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    _chromium(folder / "profile-blank", f"--window-size={width},{height}", f"--screenshot={folder / 'blank.png'}",
              blank.as_uri())
    return folder / "blank.png"


@pytest.fixture(scope="module")
def reports(tmp_path_factory, reference_examples) -> dict[str, Path]:
    """A data-quality baseline and window, a model-quality window and a bias window, and their history."""
    root = tmp_path_factory.mktemp("rendered")
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"amount": rng.lognormal(3, 1, 3000).round(2), "age": rng.integers(18, 90, 3000),
                          "channel": rng.choice(["web", "app", "shop", "phone"], 3000, p=[.4, .3, .2, .1])})
    frame.iloc[:2000].to_csv(root / "baseline.csv", index=False)
    window = frame.iloc[2000:].copy()
    window["amount"] *= 1.8
    window.to_csv(root / "window.csv", index=False)
    job.run_baseline(DataQualityBaselineRequest(dataset=root / "baseline.csv", output=root / "baseline"))
    hour = datetime(2026, 2, 1, 9, tzinfo=UTC)
    job.run_monitor(DataQualityMonitorRequest(
        capture=root / "window.csv", input_format=InputFormat.CSV, output=root / "windows" / "2026/02/01/09",
        window=TimeWindow(start=hour, end=hour.replace(hour=10)), statistics=root / "baseline" / "statistics.json",
        constraints=root / "baseline" / "constraints.json"))
    statistics = json.loads((reference_examples / "sdk-model-card-metrics" /
                             "model_monitor_model_quality_binary_classification.json").read_text())
    mq = root / "model-quality"
    mq_report.write_window_report(mq, statistics=statistics, constraints=None, violations=None,
                                  join={"matched": 4}, window=(hour, hour.replace(hour=10)), records=4)
    merged = _write_lines(root / "merged" / "part-00000.jsonl", _ten_invocations(reference_examples))
    assert main(["monitor", "--type", "bias", "--analysis-config", str(_monitor_config(reference_examples, root)),
                 "--merged", str(merged.parent), "--features-attribute", FEATURES, "--inference-attribute", PREDICTED,
                 "--baseline", str(reference_examples / ADULT / "notebook-output" / "analysis.json"),
                 "--output", str(root / "bias")]) == 0
    assert main(["report", "--reports", str(root / "windows"), "--output", str(root / "history.html")]) == 0
    return {"data-quality window": root / "windows" / "2026/02/01/09" / "report.html",
            "data-quality baseline": root / "baseline" / "report.html",
            "model-quality window": mq / "report.html", "bias window": root / "bias" / "report.html",
            "history": root / "history.html"}


KINDS = ["data-quality window", "data-quality baseline", "model-quality window", "bias window", "history"]


@pytest.mark.parametrize("kind", KINDS)
def test_report_renders_without_console_errors_and_with_content(reports, kind, tmp_path):
    rendered = render(reports[kind], tmp_path, width=1000)
    assert rendered["console"] == []
    assert 300 < rendered["height"] < 20_000
    width, height = _png_size(rendered["screenshot"])
    assert (width, height) == (1000, min(rendered["height"], 8000))
    # text and charts compress far worse than an empty page of the same size
    blank = _blank_screenshot(tmp_path, width, height)
    assert rendered["screenshot"].stat().st_size > 5 * blank.stat().st_size


@pytest.mark.parametrize("kind", KINDS)
def test_report_fits_a_narrow_screen_without_scrolling_sideways(reports, kind, tmp_path):
    rendered = render(reports[kind], tmp_path, width=PHONE_WIDTH)
    assert rendered["scroll_width"] <= rendered["client_width"]


@pytest.mark.parametrize("kind", KINDS)
def test_report_is_small(reports, kind):
    assert reports[kind].stat().st_size < 200_000


if __name__ == "__main__":  # render one report by hand: python -m tests.analyzer.test_html_report_rendering REPORT OUT
    print(render(Path(sys.argv[1]), Path(sys.argv[2]), width=int(sys.argv[3]) if len(sys.argv) > 3 else 1000))
