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
