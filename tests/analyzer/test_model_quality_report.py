"""Model-quality report text: Java's number format for long lists (the curves of 1M-row windows)."""

from __future__ import annotations

import math

from model_monitor_analyzer.report import model_quality as report

# Java's Double.toString of each value (JDK 19+, shortest digits).
JAVA_TEXT = [
    (0.0, "0.0"),
    (-0.0, "-0.0"),
    (1.0, "1.0"),
    (0.001, "0.001"),
    (0.0001, "1.0E-4"),
    (1 / 3, "0.3333333333333333"),
    (1 / 700000, "1.4285714285714286E-6"),
    (1234567.0, "1234567.0"),
    (9999999.999999998, "9999999.999999998"),
    (1e7, "1.0E7"),
    (-0.5, "-0.5"),
    (math.nan, "NaN"),
    (math.inf, "Infinity"),
]


def test_each_double_is_written_as_java_writes_it():
    assert [report.java_double(value) for value, _ in JAVA_TEXT] == [text for _, text in JAVA_TEXT]


def test_a_list_of_doubles_is_written_as_java_writes_each():
    values = [value for value, _ in JAVA_TEXT]
    assert report.java_double_list(values) == ", ".join(text for _, text in JAVA_TEXT)


def test_a_curve_is_one_jackson_array_line():
    document = {"curve": {"rates": [0.0, 0.25, 1e-5, 1.0]}}
    assert report.jackson_json(document) == '{\n  "curve" : {\n    "rates" : [ 0.0, 0.25, 1.0E-5, 1.0 ]\n  }\n}'


def _each_double(values) -> str:
    return ", ".join(report.java_double(float(value)) for value in values)


def test_a_long_list_of_doubles_is_written_as_each_double_on_its_own():
    # doubles of every magnitude, the ends of the positional range and their neighbours, zeros, NaN, infinities
    import numpy as np

    rng = np.random.default_rng(3)
    values = rng.standard_normal(50_000) * 10.0 ** rng.integers(-12, 12, 50_000)
    edges = np.array([1e-3, 1e7, 0.0, -0.0, 5e-324, 1.7976931348623157e308, math.nan, math.inf, -math.inf])
    around = np.concatenate([np.nextafter(edges[:2], 0), np.nextafter(edges[:2], np.inf), edges])
    mixed = np.concatenate([around, values, -around, rng.random(20_000)])
    rng.shuffle(mixed)
    assert report.java_double_list(mixed.tolist()) == _each_double(mixed)
    only_outside = [1e-5, 2e9, math.nan]  # no value orjson writes
    assert report.java_double_list(only_outside) == _each_double(only_outside)


def _jackson_by_hand(document, level: int = 0) -> str:
    """Jackson's layout, written the plain way: the reference for the one-pass writer."""
    import json

    if isinstance(document, dict):
        if not document:
            return "{ }"
        inner = "  " * (level + 1)
        members = [f"{inner}{json.dumps(key, ensure_ascii=False)} : {_jackson_by_hand(value, level + 1)}"
                   for key, value in document.items()]
        return "{\n" + ",\n".join(members) + "\n" + "  " * level + "}"
    if isinstance(document, list):
        if not document:
            return "[ ]"
        return "[ " + ", ".join(_jackson_by_hand(item, level) for item in document) + " ]"
    if document is None:
        return "null"
    if isinstance(document, bool):
        return "true" if document else "false"
    if isinstance(document, int):
        return str(document)
    if isinstance(document, float):
        return report.java_double(document)
    return json.dumps(document, ensure_ascii=False)


def test_a_document_is_written_as_jackson_lays_it_out():
    document = {
        "version": 0.0, "dataset": {"item_count": 3, "evaluation_time": "2024-05-02T10:00:00.000Z"},
        "metrics": {"confusion_matrix": {"0": {"0": 1, "1": 2}, "1": {}}, "empty": [],
                    "mixed": [1, 2.5, None, True, "é\"x", {"a": [0.25, 3]}, []],
                    "curve": {"rates": [0.0, 1e-9, 0.5, 1.0], "ints": [1, 2, 3]}},
        "nothing": {},
    }
    assert report.jackson_json(document) == _jackson_by_hand(document)


def test_the_curves_of_binary_metrics_are_written_as_their_numbers_one_by_one():
    # the curves keep the arrays they were made from (checks.model_quality.FloatCurve) and are written from them:
    # the same numbers as the public curve functions give, the same text as each double written on its own
    import numpy as np

    from model_monitor_analyzer.checks import model_quality as mq

    rng = np.random.default_rng(5)
    actual = rng.random(30_000) < 0.02  # few positives: rates below 1e-3 are written in Java's E notation
    scores = np.round(rng.random(actual.size), 5)
    metrics = mq.binary_classification_metrics(actual, scores > 0.5, scores)
    roc, pr = metrics["receiver_operating_characteristic_curve"], metrics["precision_recall_curve"]
    assert (list(roc["false_positive_rates"]), list(roc["true_positive_rates"])) == mq.roc_curve(scores, actual)
    assert (list(pr["precisions"]), list(pr["recalls"])) == mq.precision_recall_curve(scores, actual)
    document = report.statistics_document(mq.ProblemType.BINARY_CLASSIFICATION, metrics, item_count=actual.size)
    text = report.jackson_json(document)
    for curve in (roc, pr):
        for name, values in curve.items():
            assert f'"{name}" : [ {_each_double(values)} ]' in text
    assert any("E-" in report.java_double(value) for value in roc["false_positive_rates"][:50])
