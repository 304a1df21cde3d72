"""Data-quality runs stay lean: pyarrow must not be led into importing pandas, and a monitor's p-values need no
scipy unless a drift method asks for it (the Kolmogorov-Smirnov test)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from pathlib import Path
from model_monitor_analyzer.cli import main
root = Path(sys.argv[1])
(root / "capture").mkdir()
(root / "data.csv").write_text("score,age,city\\n0.5,31,Lyon\\n0.7,45.5,Oslo\\n")
line = ('{"captureData":{"endpointInput":{"data":"30,Rome","encoding":"CSV"},'
        '"endpointOutput":{"data":"0.6","encoding":"CSV"}},'
        '"eventMetadata":{"inferenceTime":"2024-01-01T10:15:00Z"},"eventVersion":"0"}\\n')
(root / "capture" / "a.jsonl").write_text(line * 3)
assert main(["baseline", "--dataset", str(root / "data.csv"), "--output", str(root / "b"), "--quiet"]) == 0
main(["monitor", "--capture", str(root / "capture"), "--statistics", str(root / "b" / "statistics.json"),
      "--constraints", str(root / "b" / "constraints.json"), "--output", str(root / "m"),
      "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z", "--quiet", *sys.argv[2:]])
assert (root / "m" / "statistics.json").exists()
print("pandas" in sys.modules, "scipy" in sys.modules)
"""


def test_baseline_and_monitor_runs_do_not_import_pandas(tmp_path):
    # Any Python-to-Arrow conversion or Array.to_numpy() makes pyarrow import pandas when it is
    # installed: a quarter of a second per process.
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False False"


def test_a_monitor_imports_scipy_only_for_a_drift_method_that_needs_it(tmp_path):
    # the Kolmogorov-Smirnov p-value is scipy's; the default methods' p-values are computed without it
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), "--drift-method", "ks"], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False True"
