"""Per-feature overrides set at deployment tune one feature without editing the baseline."""

from __future__ import annotations

import json

import pytest

from demo import data
from model_monitor_analyzer.checks.data_quality import with_feature_overrides
from model_monitor_analyzer.cli import main as analyzer
from model_monitor_analyzer.report.constraints import parse_constraints
from tests.conftest import REPO_ROOT

CONSTRAINTS = REPO_ROOT / "demo" / "baseline" / "constraints.json"
STATISTICS = REPO_ROOT / "demo" / "baseline" / "statistics.json"


def test_overrides_merge_into_the_named_features_only():
    constraints = parse_constraints(json.loads(CONSTRAINTS.read_text()))
    tuned = with_feature_overrides(constraints, {"day_minutes": {"distribution_constraints": {"comparison_threshold": 0.9}}})
    by_name = {f.name: f for f in tuned.features}
    assert by_name["day_minutes"].overrides == {"distribution_constraints": {"comparison_threshold": 0.9}}
    assert by_name["eve_minutes"].overrides == next(f for f in constraints.features if f.name == "eve_minutes").overrides


def test_unknown_features_are_named_in_the_error():
    constraints = parse_constraints(json.loads(CONSTRAINTS.read_text()))
    with pytest.raises(ValueError, match=r"features the baseline does not have: \['dayminutes'\]"):
        with_feature_overrides(constraints, {"dayminutes": {"evaluate_constraints": "Disabled"}})


def _monitor(tmp_path, *extra: str) -> list[dict]:
    from datetime import datetime

    hours = data.demo_hours(datetime(2026, 11, 25, 8))
    capture = data.write_capture(tmp_path / "capture", hours, ground_truth=tmp_path / "gt")
    out = tmp_path / "out"
    assert analyzer(["monitor", "--capture", str(capture), "--statistics", str(STATISTICS), "--constraints",
                     str(CONSTRAINTS), "--output", str(out), "--start", "2026-11-25T11:00:00Z",
                     "--end", "2026-11-25T12:00:00Z", "--quiet", "--overwrite", *extra]) == 0
    return json.loads((out / "constraint_violations.json").read_text())["violations"]


def test_a_raised_drift_threshold_silences_that_features_drift_violation(tmp_path):
    drifted = {v["feature_name"] for v in _monitor(tmp_path) if v["constraint_check_type"] == "baseline_drift_check"}
    assert "day_minutes" in drifted
    # the baseline asks for auto: day_minutes is judged by its Wasserstein distance in standard deviations
    overrides = json.dumps({"day_minutes": {"distribution_constraints": {"drift_threshold": 50}}})
    tuned = {v["feature_name"] for v in _monitor(tmp_path, "--feature-overrides", overrides)
             if v["constraint_check_type"] == "baseline_drift_check"}
    assert tuned == drifted - {"day_minutes"}


def test_bad_override_json_is_one_line_exit_2(tmp_path, capsys):
    with pytest.raises(AssertionError):
        _monitor(tmp_path, "--feature-overrides", "{not json")
    assert capsys.readouterr().err.startswith("error: --feature-overrides: not valid JSON")


def test_the_job_environment_carries_the_overrides_to_the_run(tmp_path):
    from model_monitor_analyzer.contract.paths import ContainerPaths
    from model_monitor_analyzer.monitors.data_quality.environment import (
        monitor_request_from_environment as monitor_request,
    )

    env = {"baseline_statistics": str(STATISTICS), "baseline_constraints": str(CONSTRAINTS),
           "feature_overrides": '{"plan": {"evaluate_constraints": "Disabled"}}'}
    request = monitor_request(env, ContainerPaths(root=tmp_path))
    assert request.feature_overrides == {"plan": {"evaluate_constraints": "Disabled"}}


def test_the_short_form_of_the_construct_expands_to_monitoring_config_keys(tmp_path):
    overrides = json.dumps({"day_minutes": {"drift": 50}, "plan": {"check": False}})
    violations = _monitor(tmp_path, "--feature-overrides", overrides)
    assert not {v["feature_name"] for v in violations} & {"day_minutes", "plan"}


def test_the_built_in_rules_threshold_silences_a_feature_under_the_built_in_rule(tmp_path):
    overrides = json.dumps({"day_minutes": {"distribution_constraints": {"comparison_threshold": 0.99}}})
    drifted = {v["feature_name"] for v in _monitor(tmp_path, "--drift-method", "sagemaker")
               if v["constraint_check_type"] == "baseline_drift_check"}
    tuned = {v["feature_name"] for v in _monitor(tmp_path, "--drift-method", "sagemaker", "--feature-overrides", overrides)
             if v["constraint_check_type"] == "baseline_drift_check"}
    assert "day_minutes" in drifted and tuned == drifted - {"day_minutes"}


def test_a_per_feature_method_override_judges_that_feature_by_it(tmp_path):
    overrides = json.dumps({"day_minutes": {"method": "psi", "drift": 0.2}})
    violations = _monitor(tmp_path, "--feature-overrides", overrides)
    (drift,) = [v for v in violations if v["feature_name"] == "day_minutes" and v["constraint_check_type"] == "baseline_drift_check"]
    assert "exceeds threshold: 0.2 (psi; p-value" in drift["description"]


def test_an_unknown_override_key_is_one_line_exit_2(tmp_path, capsys):
    with pytest.raises(AssertionError):
        _monitor(tmp_path, "--feature-overrides", json.dumps({"day_minutes": {"distribution_constraints": {"treshold": 1}}}))
    assert capsys.readouterr().err.startswith("error: --feature-overrides: unknown key 'treshold'")
