"""The baseline the example app deploys is what the analyzer computes from the demo's embedded data."""

from __future__ import annotations

import json

from model_monitor_analyzer.cli import main as analyzer

from demo import data
from tests.conftest import REPO_ROOT


def test_committed_demo_baseline_is_reproduced_by_the_analyzer(tmp_path, capsys):
    training = data.write_training_set(tmp_path / "training.csv")
    assert analyzer(["baseline", "--dataset", str(training), "--output", str(tmp_path / "baseline"), "--quiet"]) == 0
    for name in ("statistics.json", "constraints.json"):
        fresh = json.loads((tmp_path / "baseline" / name).read_text())
        assert fresh == json.loads((REPO_ROOT / "demo" / "baseline" / name).read_text()), (
            f"demo/baseline/{name} is stale: run `python -m demo --update-baseline`")
