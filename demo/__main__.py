"""`make demo`: synthesize the example app, lint it, then monitor six simulated hours of traffic.

1. ``python app.py`` into cdk.out, cfn-lint on every template, resources per stack by type;
2. the analyzer CLI builds a baseline from the embedded validation set (and checks it against the
   baseline committed in demo/baseline/, which the example app deploys);
3. six hours of captured traffic in SageMaker's layout (one idle hour, two with injected drift)
   are analysed window by window, as the scheduled engine does, and each window's status and
   violations are printed.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from demo import data

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-output"
COMMITTED_BASELINE = ROOT / "demo" / "baseline"
ANALYZER = [sys.executable, "-m", "model_monitor_analyzer"]
FIRST_HOUR = datetime(2026, 11, 25, 8, tzinfo=UTC)


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


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


def build_baseline() -> Path:
    step("Baseline from the embedded validation set (model-monitor-analyzer baseline)")
    training = data.write_training_set(OUT / "training.csv")
    baseline = OUT / "baseline"
    subprocess.run([*ANALYZER, "baseline", "--dataset", str(training), "--output", str(baseline)], check=True)
    same = all((COMMITTED_BASELINE / f).is_file() and (baseline / f).read_bytes() == (COMMITTED_BASELINE / f).read_bytes()
               for f in ("statistics.json", "constraints.json"))
    print("matches demo/baseline/ (the baseline the example app deploys)" if same else
          "differs from demo/baseline/: run `python -m demo --update-baseline` after changing the analyzer or data")
    return baseline


def monitor_hours(baseline: Path) -> None:
    step("Monitoring six hours of captured traffic, one window per hour")
    capture = data.write_capture(OUT / "capture", hours := data.demo_hours(FIRST_HOUR.replace(tzinfo=None)))
    print(f"capture in SageMaker's layout under {capture.relative_to(ROOT)}/{data.ENDPOINT}/{data.VARIANT}/yyyy/mm/dd/HH/")
    print(f"{'window (UTC)':<14} {'records':>7}  {'status':<24} violations")
    for hour in hours:
        start, end = hour.start, hour.start + timedelta(hours=1)
        report = OUT / "reports" / start.strftime("%Y/%m/%d/%H")
        done = subprocess.run(
            [*ANALYZER, "monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
             "--constraints", str(baseline / "constraints.json"), "--output", str(report),
             "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", end.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "--endpoint", data.ENDPOINT, "--schedule", "churn-demo-data-quality", "--quiet"],
            capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"analyzer failed for {start:%H:%M}: {done.stderr.strip()}")
        violations_file = report / "constraint_violations.json"
        violations = json.loads(violations_file.read_text())["violations"] if violations_file.exists() else []
        status = "NoData" if not (report / "statistics.json").exists() else (
            "CompletedWithViolations" if violations else "Completed")
        found = ", ".join(f"{v['constraint_check_type']}({v['feature_name']})" for v in violations) or "-"
        print(f"{start:%H:%M}-{end:%H:%M}    {hour.records:>7}  {status:<24} {found}")
        print(f"{'':14} {'':7}  ({hour.note})")
    print(f"reports, statistics and CloudWatch metric lines: {(OUT / 'reports').relative_to(ROOT)}/")


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    if "--update-baseline" in argv:
        baseline = build_baseline()
        COMMITTED_BASELINE.mkdir(exist_ok=True)
        for name in ("statistics.json", "constraints.json"):
            shutil.copyfile(baseline / name, COMMITTED_BASELINE / name)
        print(f"updated {COMMITTED_BASELINE.relative_to(ROOT)}/")
        return 0
    synthesize()
    monitor_hours(build_baseline())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
