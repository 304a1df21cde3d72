"""Chart legends stay off the lines they explain, measured where the page is drawn: headless Chromium
gives each legend item's box (with the real font) and each polyline's points, and no segment of a
line may cross the legend's box."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from itertools import pairwise

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from model_monitor_analyzer.report.html import model_quality as mq_report
from tests.analyzer.test_html_report_rendering import _chromium

HOUR = datetime(2026, 2, 1, 9, tzinfo=UTC)
ROC_LEGEND = ["TPR vs FPR", "chance"]
# Appended to a copy of the page: per chart holding the legend labels, the union of the labels'
# boxes and their key lines, the chart's viewBox, and every polyline's points, into the title.
PROBE = """<script>
const labels = %s;
const charts = [];
for (const svg of document.querySelectorAll('svg.chart')) {
  const texts = [...svg.querySelectorAll('text')].filter(t => labels.includes(t.textContent));
  if (texts.length !== labels.length) continue;
  const boxes = texts.flatMap(t => [t.getBBox(), t.previousElementSibling.getBBox()]);
  const box = {left: Math.min(...boxes.map(b => b.x)), top: Math.min(...boxes.map(b => b.y)),
               right: Math.max(...boxes.map(b => b.x + b.width)), bottom: Math.max(...boxes.map(b => b.y + b.height))};
  const view = svg.viewBox.baseVal;
  const lines = [...svg.querySelectorAll('polyline')].map(p => [...p.points].map(q => [q.x, q.y]));
  charts.push({box, view: [view.x, view.y, view.width, view.height], lines});
}
document.title = 'probe ' + JSON.stringify(charts);
</script>"""


def _legend_and_lines(report, folder, labels):
    probed = folder / "probed.html"
    probed.write_text(report.read_text().replace("</body>", PROBE % json.dumps(labels) + "</body>"))
    dom = _chromium(folder / "profile", "--window-size=1000,900", "--dump-dom", probed.resolve().as_uri())
    found = re.search(r"<title>probe (.*?)</title>", dom.stdout, re.DOTALL)
    assert found, dom.stderr[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _segment_meets_box(start, end, box, clearance):
    """Whether the segment from ``start`` to ``end`` passes within ``clearance`` of ``box``, by points every
    tenth of a unit along it (a check independent of the chart's own clipping arithmetic)."""
    left, top = box["left"] - clearance, box["top"] - clearance
    right, bottom = box["right"] + clearance, box["bottom"] + clearance
    (x0, y0), (x1, y1) = start, end
    steps = max(1, int(max(abs(x1 - x0), abs(y1 - y0)) * 10))
    return any(left <= x0 + (x1 - x0) * i / steps <= right and top <= y0 + (y1 - y0) * i / steps <= bottom
               for i in range(steps + 1))


def _roc_statistics() -> dict:
    """A binary classifier's ROC curve as scikit-learn computes it (AUC about 0.9): it rises steeply
    and runs close to the top edge from the middle on, where a legend in the top right corner would sit."""
    rng = np.random.default_rng(21)
    labels = rng.integers(0, 2, 2000)
    scores = labels * 1.8 + rng.normal(0, 1, 2000)
    fpr, tpr, _ = roc_curve(labels, scores)
    return {"binary_classification_metrics": {
        "auc": {"value": float(roc_auc_score(labels, scores)), "standard_deviation": 0.0},
        "receiver_operating_characteristic_curve": {"false_positive_rates": fpr.tolist(),
                                                    "true_positive_rates": tpr.tolist()}}}


def test_roc_curve_legend_covers_no_segment_of_the_curve_or_the_chance_line(tmp_path):
    report = mq_report.write_window_report(tmp_path / "window", statistics=_roc_statistics(), constraints=None,
                                           violations=None, join={"matched": 2000}, window=(HOUR, HOUR), records=2000)
    (chart,) = _legend_and_lines(report, tmp_path, ROC_LEGEND)
    box = chart["box"]
    x, y, width, height = chart["view"]
    assert x <= box["left"] and box["right"] <= x + width and y <= box["top"] and box["bottom"] <= y + height
    curve, chance = chart["lines"]
    assert len(curve) > 20 and len(chance) == 2
    crossing = [(a, b) for line in (curve, chance) for a, b in pairwise(line)
                if _segment_meets_box(a, b, box, clearance=1.0)]  # half the 1.8 stroke
    assert crossing == []
