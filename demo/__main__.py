"""`make demo`: synthesize the example app, lint it, then monitor seven simulated hours of traffic.

1. ``python app.py`` into cdk.out, cfn-lint on every template, resources per stack by type;
2. the analyzer CLI builds the data-quality, model-quality and bias baselines from the embedded
   validation set (and checks them against the baselines committed in demo/, which the example
   app deploys);
3. seven hours of captured traffic in SageMaker's layout, with ground-truth labels (one idle hour,
   two with data and concept drift, one where the model's outcome shifts for seniors), are
   analysed window by window by the three monitors, as the scheduled engine does, and each window's
   status, key metric and violations are printed;
4. every window and baseline has its report.html, and ``model-monitor-analyzer report`` builds one
   history page across the windows of the three monitors.
Everything is written under demo-output/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from demo import data

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-output"
COMMITTED = {"data-quality": ROOT / "demo" / "baseline",
             "model-quality": ROOT / "demo" / "baseline-model-quality",
             "bias": ROOT / "demo" / "baseline-bias"}
ANALYZER = [sys.executable, "-m", "model_monitor_analyzer"]
FIRST_HOUR = datetime(2026, 11, 25, 8, tzinfo=UTC)
# Model-quality thresholds 0.05 below the baseline's values; bias metrics may move 0.2 farther
# from neutral than in the baseline. With the built-in's zero margins, sampling noise alone
# raises violations in about half of the normal hours.
QUALITY_MARGIN = "0.05"
BIAS_TOLERANCE = "0.2"
BINARY = ["--problem-type", "BinaryClassification", "--probability-threshold", str(data.THRESHOLD)]


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def analyzer(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([*ANALYZER, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"model-monitor-analyzer {args[0]} failed: {done.stderr.strip()}")
    return done


def synthesize() -> None:
    step("Synthesizing the example app (python app.py -> cdk.out)")
    started = time.perf_counter()
    shutil.rmtree(ROOT / "cdk.out", ignore_errors=True)
    subprocess.run([sys.executable, "app.py"], cwd=ROOT, check=True)
    print(f"synthesized in {time.perf_counter() - started:.1f} s")
    templates = sorted((ROOT / "cdk.out").glob("*.template.json"))
    for template in templates:
        resources = json.loads(template.read_text()).get("Resources", {})
        counts = Counter(r["Type"] for r in resources.values())
        print(f"{template.name.removesuffix('.template.json')}: {len(resources)} resources")
        for kind, n in sorted(counts.items()):
            print(f"  {n:3d}  {kind}")
    lint = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), "--ignore-checks", "W3005", "--",
                           *map(str, templates)], capture_output=True, text=True)
    print("cfn-lint: no findings" if lint.returncode == 0 else f"cfn-lint findings:\n{lint.stdout}")
    if lint.returncode & 2:  # errors (warnings are reported above)
        raise SystemExit("cfn-lint found errors in the synthesized templates")


def build_baselines() -> dict[str, Path]:
    step("Baselines from the embedded validation set (model-monitor-analyzer baseline)")
    training = data.write_training_set(OUT / "validation.csv")
    labelled = data.write_training_set(OUT / "validation-labelled.csv", columns=data.LABELLED_COLUMNS)
    config = OUT / "analysis_config.json"
    config.write_text(json.dumps(data.analysis_config(), indent=2))
    baselines = {kind: OUT / "baselines" / kind for kind in COMMITTED}
    analyzer("baseline", "--dataset", str(training), "--output", str(baselines["data-quality"]))
    analyzer("baseline", "--type", "model-quality", "--dataset", str(labelled), *BINARY,
             "--probability-attribute", "churn_score", "--ground-truth-attribute", "churn",
             "--threshold-margin", QUALITY_MARGIN, "--output", str(baselines["model-quality"]))
    analyzer("baseline", "--type", "bias", "--analysis-config", str(config), "--dataset", str(labelled),
             "--output", str(baselines["bias"]))
    shutil.copyfile(config, baselines["bias"] / "analysis_config.json")
    for kind, folder in baselines.items():
        same = all((COMMITTED[kind] / f.name).is_file() and f.read_bytes() == (COMMITTED[kind] / f.name).read_bytes()
                   for f in folder.glob("*.json"))
        files = ", ".join(sorted(f.name for f in folder.glob("*.json")))
        print(f"{kind:<14} {files:<58} {'= ' if same else '!= '}{COMMITTED[kind].relative_to(ROOT)}/")
        if not same:
            print("  (run `python -m demo --update-baseline` after changing the analyzer or the data)")
    return baselines


@dataclass(frozen=True)
class WindowResult:
    status: str
    metric: str
    violations: list[str]


def _result(report: Path, summary_file: str, metric: str) -> WindowResult:
    violations_file = report / "constraint_violations.json"
    violations = json.loads(violations_file.read_text())["violations"] if violations_file.exists() else []
    if not (report / summary_file).exists():
        return WindowResult("NoData", "", [])
    names = [v.get("feature_name") or v.get("metric_name") for v in violations]
    return WindowResult("CompletedWithViolations" if violations else "Completed", metric, names)


def monitor_window(capture: Path, labels: Path, baselines: dict[str, Path], start: datetime) -> dict[str, WindowResult]:
    end = start + timedelta(hours=1)
    window = ["--start", f"{start:%Y-%m-%dT%H:%M:%SZ}", "--end", f"{end:%Y-%m-%dT%H:%M:%SZ}"]
    reports = {kind: OUT / "reports" / kind / f"{start:%Y/%m/%d/%H}" for kind in baselines}
    analyzer("monitor", "--capture", str(capture), "--statistics", str(baselines["data-quality"] / "statistics.json"),
             "--constraints", str(baselines["data-quality"] / "constraints.json"),
             "--output", str(reports["data-quality"]), *window, "--endpoint", data.ENDPOINT,
             "--schedule", "churn-demo-data-quality", "--quiet")
    analyzer("monitor", "--type", "model-quality", "--capture", str(capture), "--ground-truth", str(labels),
             "--constraints", str(baselines["model-quality"] / "constraints.json"), *BINARY,
             "--probability-attribute", "0", "--output", str(reports["model-quality"]), *window)
    analyzer("monitor", "--type", "bias", "--analysis-config", str(baselines["bias"] / "analysis_config.json"),
             "--capture", str(capture), "--ground-truth", str(labels), "--probability-attribute", "0",
             "--baseline", str(baselines["bias"] / "analysis.json"), "--drift-tolerance", BIAS_TOLERANCE,
             "--output", str(reports["bias"]), *window)
    accuracy = dppl = ""
    if (reports["model-quality"] / "statistics.json").exists():
        stats = json.loads((reports["model-quality"] / "statistics.json").read_text())
        accuracy = f"accuracy {stats['binary_classification_metrics']['accuracy']['value']:.2f}"
    if (reports["bias"] / "analysis.json").exists():
        analysis = json.loads((reports["bias"] / "analysis.json").read_text())
        metrics = analysis["post_training_bias_metrics"]["facets"]["senior"][0]["metrics"]
        dppl = f"DPPL {next(m['value'] for m in metrics if m['name'] == 'DPPL'):+.2f}"
    return {"data-quality": _result(reports["data-quality"], "statistics.json", ""),
            "model-quality": _result(reports["model-quality"], "statistics.json", accuracy),
            "bias": _result(reports["bias"], "analysis.json", dppl)}


def monitor_hours(baselines: dict[str, Path]) -> None:
    step("Monitoring seven hours of captured traffic and labels, one window per hour, three monitors")
    hours = data.demo_hours(FIRST_HOUR.replace(tzinfo=None))
    labels = OUT / "ground-truth"
    capture = data.write_capture(OUT / "capture", hours, ground_truth=labels)
    print(f"capture: {capture.relative_to(ROOT)}/{data.ENDPOINT}/{data.VARIANT}/yyyy/mm/dd/HH/, "
          f"labels: {labels.relative_to(ROOT)}/yyyy/mm/dd/HH/")
    for hour in hours:
        results = monitor_window(capture, labels, baselines, hour.start)
        print(f"\n{hour.start:%H:%M}-{hour.start + timedelta(hours=1):%H:%M}  {hour.records} records  ({hour.note})")
        for kind, result in results.items():
            found = ", ".join(result.violations) if result.violations else "-"
            print(f"  {kind:<14} {result.status:<24} {result.metric:<15} {found}")
    print(f"\nreports, statistics, merged records and CloudWatch metric lines: {(OUT / 'reports').relative_to(ROOT)}/")


def show_reports(baselines: dict[str, Path]) -> None:
    step("Reports to open in a browser (model-monitor-analyzer report builds the history page)")
    history = OUT / "reports" / "history.html"
    done = analyzer("report", "--reports", str(OUT / "reports"), "--output", str(history))
    for kind, folder in baselines.items():
        print(f"{kind:<14} baseline  {(folder / 'report.html').relative_to(ROOT)}")
    for kind in baselines:
        windows = sorted((OUT / "reports" / kind).glob("*/*/*/*/report.html"))
        sizes = ", ".join(f"{w.stat().st_size / 1024:.0f}" for w in windows)
        print(f"{kind:<14} {len(windows)} windows  {(OUT / 'reports' / kind).relative_to(ROOT)}/yyyy/mm/dd/HH/report.html"
              f"  ({sizes} KiB)")
    print(f"history: {history.relative_to(ROOT)}  ({done.stdout.splitlines()[0]})")
    print(f"open it: file://{history}")


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    if "--update-baseline" in argv:
        for kind, folder in build_baselines().items():
            shutil.rmtree(COMMITTED[kind], ignore_errors=True)
            shutil.copytree(folder, COMMITTED[kind], ignore=shutil.ignore_patterns("report.html"))
            print(f"updated {COMMITTED[kind].relative_to(ROOT)}/")
        return 0
    synthesize()
    baselines = build_baselines()
    monitor_hours(baselines)
    show_reports(baselines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
