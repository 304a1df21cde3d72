"""Every monitor type spells the shared options the same way."""

from __future__ import annotations

import pytest

from model_monitor_analyzer.cli import build_parser


@pytest.mark.parametrize("monitor_type", ["data-quality", "model-quality", "bias"])
def test_endpoint_schedule_and_metrics_dir_are_accepted_by_every_monitor_type(monitor_type, tmp_path):
    parser = build_parser(monitor_type)
    required = {"data-quality": ["--capture", "c", "--statistics", "s", "--constraints", "k"],
                "model-quality": [],
                "bias": ["--analysis-config", "a"]}[monitor_type]
    args = parser.parse_args(["monitor", "--type", monitor_type, *required, "--output", str(tmp_path),
                              "--endpoint", "ep", "--schedule", "sched", "--metrics-dir", str(tmp_path / "m")])
    values = vars(args)
    assert "ep" in values.values() and "sched" in values.values()
    assert any(str(v) == str(tmp_path / "m") for v in values.values())


@pytest.mark.parametrize("argv", [
    ["monitor", "--type", "model-quality", "--merged", "m", "--capture", "c", "--ground-truth", "g", "--output", "o",
     "--problem-type", "Regression", "--inference-attribute", "0"],
    ["monitor", "--type", "bias", "--analysis-config", "a.json", "--merged", "m", "--capture", "c",
     "--ground-truth", "g", "--output", "o"],
])
def test_two_sources_of_a_windows_data_are_refused_in_one_line(tmp_path, monkeypatch, capsys, argv):
    from model_monitor_analyzer.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "both name the window's data" in err[0]
