"""analysis.json, bias-drift constraint_violations.json and CloudWatch metric lines as Clarify writes them."""

from __future__ import annotations

import json
import math

from model_monitor_analyzer.checks.bias import (
    BiasAnalysis,
    BiasDriftViolation,
    BiasStage,
    FacetResult,
    FacetValueResult,
    MetricResult,
    StageResult,
)
from model_monitor_analyzer.report.bias import (
    CLOUDWATCH_INFINITY,
    analysis_document,
    metric_lines,
    read_analysis,
    violations_document,
    write_analysis,
)


def _analysis() -> BiasAnalysis:
    def stage(metrics: tuple[MetricResult, ...]) -> StageResult:
        return StageResult(
            label="Target",
            label_value_or_threshold="1",
            facets=(
                FacetResult(name="Sex", values=(FacetValueResult(value_or_threshold="0", metrics=metrics),)),
            ),
        )

    return BiasAnalysis(
        pre_training=stage(
            (
                MetricResult(
                    name="CDDL",
                    description="Conditional Demographic Disparity in Labels (CDDL)",
                    value=None,
                    error="Group variable is empty or not provided",
                ),
                MetricResult(name="CI", description="Class Imbalance (CI)", value=0.25),
            )
        ),
        post_training=stage(
            (
                MetricResult(name="DCR", description="Difference in Conditional Rejection (DCR)", value=0),
                MetricResult(name="TE", description="Treatment Equality (TE)", value=math.inf),
            )
        ),
    )


def test_analysis_json_puts_post_training_first_and_writes_infinity_as_text(tmp_path):
    path = write_analysis(_analysis(), tmp_path / "analysis.json")
    text = path.read_text()
    document = json.loads(text)
    assert list(document) == ["version", "post_training_bias_metrics", "pre_training_bias_metrics"]
    assert list(document["post_training_bias_metrics"]) == ["label", "facets", "label_value_or_threshold"]
    te = document["post_training_bias_metrics"]["facets"]["Sex"][0]["metrics"][1]
    assert te == {"name": "TE", "description": "Treatment Equality (TE)", "value": "Infinity"}
    assert '"value": 0\n' in text
    assert text.startswith('{\n    "version": "1.0",')


def test_an_errored_metric_is_written_with_null_value_and_its_error():
    document = analysis_document(_analysis())
    cddl = document["pre_training_bias_metrics"]["facets"]["Sex"][0]["metrics"][0]
    assert list(cddl) == ["name", "description", "value", "error"]
    assert cddl["value"] is None


def test_analysis_json_reads_back_with_infinity_as_a_number(tmp_path):
    read = read_analysis(write_analysis(_analysis(), tmp_path / "analysis.json"))
    assert read.post_training.facets[0].values[0].metrics[1].value == math.inf
    assert read == _analysis()


def test_violations_use_clarifys_sentence_and_check_type():
    violation = BiasDriftViolation(
        stage=BiasStage.POST_TRAINING,
        facet="Sex",
        facet_value="0",
        metric_name="TE",
        current=math.inf,
        baseline=2.916666666666667,
    )
    (written,) = violations_document([violation])["violations"]
    assert written == {
        "facet": "Sex",
        "facet_value": "0",
        "metric_name": "TE",
        "constraint_check_type": "bias_drift_check",
        "description": "Metric value Infinity doesn't meet the baseline constraint requirement 2.916666666666667",
    }


def test_metric_lines_carry_the_bias_dimensions_skip_errors_and_cap_infinity():
    lines = metric_lines(
        _analysis(), timestamp="2024-01-19T20:00:00Z", endpoint_name="ep", schedule_name="sched"
    )
    assert [line["MetricName"] for line in lines] == ["bias_metric_DCR", "bias_metric_TE", "bias_metric_CI"]
    te = lines[1]
    assert te["Value"] == CLOUDWATCH_INFINITY == 2.348543e108
    assert te["Timestamp"] == "2024-01-19T20:00:00Z"
    assert te["Dimensions"] == [
        {"Name": "Endpoint", "Value": "ep"},
        {"Name": "MonitoringSchedule", "Value": "sched"},
        {"Name": "BiasStage", "Value": "Post-Training"},
        {"Name": "Label", "Value": "Target"},
        {"Name": "LabelValue", "Value": "1"},
        {"Name": "Facet", "Value": "Sex"},
        {"Name": "FacetValue", "Value": "0"},
    ]
    assert {"Name": "BiasStage", "Value": "Pre-training"} in lines[2]["Dimensions"]


def test_batch_monitors_publish_without_the_endpoint_dimension():
    lines = metric_lines(_analysis(), timestamp="t", endpoint_name=None, schedule_name="sched")
    assert all(d["Name"] != "Endpoint" for line in lines for d in line["Dimensions"])
