"""lambda/_shared: the one copy of the handlers' helpers, and the metric-name rule held equal to the analyzer's."""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_monitor_analyzer.report import metrics as analyzer_metrics

from .conftest import LAMBDA_ROOT, load_handler


@pytest.fixture(scope="module")
def shared():
    load_handler("metrics_publisher")  # puts lambda/ on sys.path as each asset has it
    import _shared.names
    import _shared.times

    return _shared


def _body_without_docstring(function) -> str:
    tree = ast.parse(inspect.getsource(function)).body[0]
    if isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant):
        tree.body = tree.body[1:]
    return ast.dump(tree)


def test_metric_name_rule_is_the_analyzers_rule_statement_for_statement(shared):
    assert _body_without_docstring(shared.names.cloudwatch_metric_name) == \
        _body_without_docstring(analyzer_metrics.cloudwatch_metric_name)
    assert (shared.names.MAX_METRIC_NAME_LENGTH, shared.names.METRIC_NAME_DIGEST_LENGTH) == \
        (analyzer_metrics.MAX_METRIC_NAME_LENGTH, analyzer_metrics.METRIC_NAME_DIGEST_LENGTH)


@given(st.text(min_size=1, max_size=600))
def test_metric_name_rule_gives_the_analyzers_name_for_any_name(name):
    load_handler("metrics_publisher")
    import _shared.names

    assert _shared.names.cloudwatch_metric_name(name) == analyzer_metrics.cloudwatch_metric_name(name)


def test_a_long_feature_name_becomes_255_characters_ending_in_its_digest(shared):
    name = "feature_baseline_drift_" + "x" * 300
    short = shared.names.cloudwatch_metric_name(name)
    assert len(short) == 255
    assert short == name[:244] + "-" + hashlib.sha256(name.encode()).hexdigest()[:10]
    assert shared.names.cloudwatch_metric_name("feature_baseline_drift_age") == "feature_baseline_drift_age"


def test_two_long_names_sharing_their_first_244_characters_stay_apart(shared):
    stem = "feature_non_null_" + "y" * 250
    assert shared.names.cloudwatch_metric_name(stem + "a") != shared.names.cloudwatch_metric_name(stem + "b")


@pytest.mark.parametrize("feature", ["price\nin euros", "a\tb", "bell\x07", "del\x7f", "prix_€", "größe", "名前"])
def test_a_name_with_control_or_non_ascii_characters_becomes_printable_ascii_ending_in_its_digest(shared, feature):
    name = f"feature_baseline_drift_{feature}"
    safe = shared.names.cloudwatch_metric_name(name)
    readable = "".join(c if " " <= c <= "~" else "_" for c in name)
    assert safe == f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"
    assert all(32 <= ord(c) <= 126 for c in safe)


def test_names_differing_only_in_characters_made_safe_stay_apart(shared):
    names = {shared.names.cloudwatch_metric_name(f"feature_non_null_a{c}b") for c in ("\n", "\r", "\t", "é", "_")}
    assert len(names) == 5 and "feature_non_null_a_b" in names  # the one printable name stays as it is


def test_a_long_name_with_a_line_break_is_cut_to_255_printable_characters(shared):
    name = "feature_data_" + "x\n" * 200
    safe = shared.names.cloudwatch_metric_name(name)
    assert len(safe) == 255 and "\n" not in safe and safe.startswith("feature_data_x_x_")


def test_constructs_alarm_on_the_shortened_name(shared):
    from cdk_model_monitor.bundled import lambda_shared_module

    assert lambda_shared_module("names").cloudwatch_metric_name("m" * 400) == \
        analyzer_metrics.cloudwatch_metric_name("m" * 400)
    assert lambda_shared_module("names").cloudwatch_metric_name("feature_non_null_a\nb") == \
        analyzer_metrics.cloudwatch_metric_name("feature_non_null_a\nb")


@pytest.mark.parametrize(("text", "expected"), [
    ("2019-10-02T17:04:40.989+0000", datetime(2019, 10, 2, 17, 4, 40, 989000, tzinfo=UTC)),
    ("2026-11-25T13:00:00Z", datetime(2026, 11, 25, 13, tzinfo=UTC)),
    ("2026-11-25T14:00:00+01:00", datetime(2026, 11, 25, 13, tzinfo=UTC)),
    ("2026-11-25T13:00:00", datetime(2026, 11, 25, 13, tzinfo=UTC)),
    ("yesterday", None), ("", None), (None, None), (17, None),
])
def test_times_in_cloudwatch_iso_and_naive_forms_are_read_as_utc(shared, text, expected):
    assert shared.times.parse_time(text) == expected


def test_no_handler_keeps_its_own_copy_of_the_shared_helpers():
    copied = ("_THROTTLING_CODES", "def _log(", "def _client(", "def _aws_error(", "boto3.client(", "def _slug(")
    for index in sorted(LAMBDA_ROOT.glob("*/index.py")):
        text = index.read_text()
        assert [c for c in copied if c in text] == [], index


def test_dimension_value_rule_is_the_analyzers_rule_statement_for_statement(shared):
    assert _body_without_docstring(shared.names.cloudwatch_dimension_value) == \
        _body_without_docstring(analyzer_metrics.cloudwatch_dimension_value)
    assert _body_without_docstring(shared.names._printable_name) == \
        _body_without_docstring(analyzer_metrics._printable_name)
    assert shared.names.MAX_DIMENSION_VALUE_LENGTH == analyzer_metrics.MAX_DIMENSION_VALUE_LENGTH == 1024


@pytest.mark.parametrize("value", ["1", "senior", "(40, 90]", "a value, with spaces"])
def test_a_printable_facet_value_is_its_own_dimension_value(shared, value):
    assert shared.names.cloudwatch_dimension_value(value) == value


@pytest.mark.parametrize("value", ["São Paulo", "Mädchen", "line\nbreak", " ", "x" * 1100])
def test_a_facet_value_cloudwatch_refuses_becomes_printable_ascii_ending_in_its_digest(shared, value):
    safe = shared.names.cloudwatch_dimension_value(value)
    assert safe.endswith("-" + hashlib.sha256(value.encode()).hexdigest()[:10])
    assert all(32 <= ord(c) <= 126 for c in safe) and safe.strip() and len(safe) <= 1024
    assert safe == analyzer_metrics.cloudwatch_dimension_value(value)


# -- manifests: the planner's reader keeps the analyzer's rules ------------------------------------------------------

_manifest_entries = st.one_of(st.text(max_size=12), st.sampled_from(["/", " / ", "", "/a.csv", "b/", "x.jsonl.out"]),
                              st.integers(), st.none(), st.booleans(), st.floats(allow_nan=False),
                              st.dictionaries(st.sampled_from(["prefix", "p"]), st.text(max_size=8), max_size=2))
_manifest_heads = st.one_of(st.fixed_dictionaries({"prefix": st.one_of(
    st.sampled_from(["s3://b/p/", "s3://b/p", " ", "", "s3://bucket/transform-output/"]), st.text(max_size=10))}),
    _manifest_entries)


def _both_manifest_readings(text):
    from model_monitor_analyzer.errors import AnalyzerInputError
    from model_monitor_analyzer.io import manifest as analyzer_manifest

    load_handler("window_planner")
    import _shared.manifests

    readings = []
    for parse, error in ((analyzer_manifest.parse_manifest, AnalyzerInputError),
                         (_shared.manifests.parse_manifest, _shared.manifests.ManifestError)):
        try:
            found = parse(text, source="s3://b/m.json")
        except error:
            readings.append(None)
        else:
            readings.append((found.prefix, tuple(found.keys), found.locations(), found.relative_paths()))
    return readings


@settings(deadline=None)  # the first example imports the planner: slow on a loaded machine, not a failure
@given(st.lists(_manifest_entries, max_size=4), _manifest_heads, st.booleans())
def test_manifest_rule_accepts_and_reads_what_the_analyzers_does(entries, head, bom):
    text = json.dumps([head, *entries]).encode()
    analyzer, planner = _both_manifest_readings(b"\xef\xbb\xbf" + text if bom else text)
    assert analyzer == planner


@pytest.mark.parametrize("text", [b"not json", b"[]", b"{}", b'[{"prefix": "s3://b/p/"}, NaN]',
                                  b'[{"prefix": "s3://b/p/", "x": Infinity}]', b'["a.csv"]',
                                  b'[{"prefix":"s3://b/transform-output/"},"test-dataset.jsonl.out"]'])
def test_manifest_rule_agrees_with_the_analyzer_on_odd_texts(text):
    analyzer, planner = _both_manifest_readings(text)
    assert analyzer == planner
