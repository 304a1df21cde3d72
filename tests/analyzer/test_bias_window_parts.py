"""A window's merged records typed in parts (``part_values`` on each part, ``table_from_parts`` on the driver) give
the table ``merged_columns`` gives of the whole window: the same column names, types and values, for any cut of the
records into parts; what typing in parts does not cover gives no table, so that the whole window's records decide."""

from __future__ import annotations

import json

import pytest

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.monitors.bias.config import BiasAnalysisConfig
from model_monitor_analyzer.monitors.bias.window_records import (
    lines_part_values,
    merged_columns,
    part_values,
    table_from_parts,
    unpacked_part_values,
)
from tests.analyzer.test_bias_typing_parts import PARTS, ROWS, TEXTS, VALUES, _cuts, _same

FEATURES = [name for name in TEXTS if name != "integers"]


def _record(number: int, request: str, response: str, label: str, *, kind: str = "CSV") -> dict:
    return {"captureData": {"endpointInput": {"data": request, "encoding": kind, "mode": "INPUT",
                                              "observedContentType": "text/csv" if kind == "CSV" else
                                              "application/json"},
                            "endpointOutput": {"data": response, "encoding": "CSV", "mode": "OUTPUT",
                                               "observedContentType": "text/csv"}},
            "groundTruthData": {"data": label, "encoding": "CSV"},
            "eventMetadata": {"eventId": f"e-{number}", "inferenceId": f"i-{number}"}, "eventVersion": "0"}


def _records(label: str, response: str) -> list[dict]:
    """One CSV request a row of the edge columns (the first always an integer: no row is blank)."""
    cells = [TEXTS["integers"], *(TEXTS[name] for name in FEATURES)]
    return [_record(row, ",".join(column[row] or "" for column in cells), TEXTS[response][row], TEXTS[label][row])
            for row in range(ROWS)]


CONFIG = BiasAnalysisConfig(label="target", label_values_or_threshold=(1,), facets=(),
                            headers=("a", *(f"f{i}" for i in range(len(FEATURES))), "target"))
SETTINGS_BY_NAME = {
    "scores cut": ("integers and one fraction",
                   {"features_attribute": None, "inference_attribute": None, "probability_attribute": "0",
                    "probability_threshold": 0.4}),
    "predicted labels": ("booleans and one integer",
                         {"features_attribute": None, "inference_attribute": "0", "probability_attribute": None,
                          "probability_threshold": None}),
}


@pytest.mark.parametrize("label", ["integers and one fraction", "booleans", "integers and one NA text", "booleans and one missing"])
@pytest.mark.parametrize("predictions", list(SETTINGS_BY_NAME))
@pytest.mark.parametrize(("parts", "seed"), PARTS)
def test_a_window_typed_in_parts_is_typed_as_the_whole_window(label, predictions, parts, seed):
    response, settings = SETTINGS_BY_NAME[predictions]
    records = _records(label, response)
    whole = merged_columns(records, CONFIG, **settings)
    typed = table_from_parts([part_values(records[a:b], CONFIG, **settings)
                              for a, b in _cuts(len(records), parts, seed)], CONFIG)
    assert typed is not None
    assert (typed.label, typed.predicted_label) == (whole.label, whole.predicted_label) == ("target",
                                                                                         "predicted_label")
    assert list(typed.columns) == list(whole.columns)
    for name, column in whole.columns.items():
        _same(typed.columns[name], column)
    kinds = {column.dtype.kind for column in whole.columns.values()}
    assert kinds == {"i", "f", "b", "O"}  # every type a column takes is met


def test_what_typing_in_parts_does_not_cover_gives_no_table():
    settings = SETTINGS_BY_NAME["scores cut"][1]
    csv = [_record(0, "1,2", "0.5", "1"), _record(1, "3,4", "0.2", "0")]
    # JSON requests of different widths in one part, or in two: the whole window refuses them
    json_rows = [_record(2, "[[5, 6]]", "0.1", "1", kind="JSON"), _record(5, "[[5, 6, 7]]", "0.1", "1", kind="JSON")]
    assert part_values(json_rows, CONFIG, **settings) is None
    assert table_from_parts([part_values(json_rows[:1], CONFIG, **settings),
                             part_values(json_rows[1:], CONFIG, **settings)], CONFIG) is None
    with pytest.raises(AnalyzerInputError, match="different numbers of features"):
        merged_columns(json_rows, CONFIG, **settings)
    # rows of another width in another part: the whole window refuses it
    wider = [_record(3, "1,2,3", "0.5", "1")]
    assert table_from_parts([part_values(csv, CONFIG, **settings), part_values(wider, CONFIG, **settings)],
                            CONFIG) is None
    with pytest.raises(AnalyzerInputError, match="different numbers of features"):
        merged_columns(csv + wider, CONFIG, **settings)
    # a record merged_columns refuses: no values, and the whole window raises it as one machine does
    bad = [_record(4, "1,2", "high", "1")]
    assert part_values(bad, CONFIG, **settings) is None
    with pytest.raises(AnalyzerInputError, match="not a score"):
        merged_columns(csv + bad, CONFIG, **settings)
    # no location of the predictions; parts of no rows at all
    assert part_values(csv, CONFIG, **{**settings, "probability_attribute": None}) is None
    assert table_from_parts([part_values([], CONFIG, **settings)], CONFIG) is None
    # an all-CSV window in parts, as a check that the refusals above are not the parts' only answer
    table = table_from_parts([part_values(csv[:1], CONFIG, **settings), part_values(csv[1:], CONFIG, **settings)],
                             CONFIG)
    assert table is not None and table.columns["_c0"].tolist() == [1, 3]


def test_a_part_of_merged_lines_packs_its_values_for_the_driver():
    """An executor's split hands back its values packed (``lines_part_values`` of the merge job's lines); unpacked,
    they type as the records themselves do."""
    settings = SETTINGS_BY_NAME["scores cut"][1]
    records = _records("booleans", "integers and one fraction")
    halves = [records[:ROWS // 3], records[ROWS // 3:]]
    packed = [lines_part_values([merge.merged_line(record, record) for record in half], config=CONFIG,
                                settings=settings) for half in halves]
    assert all(isinstance(part, bytes) for part in packed)
    typed = table_from_parts([unpacked_part_values(part) for part in packed], CONFIG)
    whole = merged_columns(records, CONFIG, **settings)
    assert typed is not None and list(typed.columns) == list(whole.columns)
    for name, column in whole.columns.items():
        _same(typed.columns[name], column)
    assert unpacked_part_values(lines_part_values([], config=CONFIG, settings={**settings,
                                                                                "probability_attribute": None})) is None


#: JSON request columns (each of ``ROWS`` values), paired with text columns for the CSV requests of a mixed window
JSON_FEATURES = [name for name, values in VALUES.items() if name.startswith("JSON") and len(values) == ROWS]
PAIRED_TEXTS = [FEATURES[index % len(FEATURES)] for index in range(len(JSON_FEATURES))]


def _json_records(label: str, response: str, *, csv_every: int | None) -> list[dict]:
    """One request a row: JSON rows of the edge value columns (numbers as JSON numbers, texts, nulls, lists), and
    with ``csv_every`` every such row a CSV request of edge text columns instead (a window mixing both)."""
    records = []
    for row in range(ROWS):
        if csv_every is not None and row % csv_every == 0:
            cells = [TEXTS["integers"][row], *(TEXTS[name][row] or "" for name in PAIRED_TEXTS)]
            request, kind = ",".join(cells), "CSV"  # type: ignore[arg-type]
        else:
            request, kind = json.dumps([[int(TEXTS["integers"][row]), *(VALUES[name][row] for name in JSON_FEATURES)]]), "JSON"
        records.append(_record(row, request, TEXTS[response][row], TEXTS[label][row], kind=kind))
    return records


@pytest.mark.parametrize("csv_every", [None, 3])
@pytest.mark.parametrize(("parts", "seed"), PARTS)
def test_a_window_of_json_requests_typed_in_parts_is_typed_as_the_whole_window(csv_every, parts, seed):
    """JSON requests (and a window mixing them with CSV ones) are typed value by value: each part's values and their
    evidence, merged, give ``merged_columns`` of the whole window, whatever the cut."""
    response, settings = SETTINGS_BY_NAME["scores cut"]
    records = _json_records("booleans and one missing", response, csv_every=csv_every)
    whole = merged_columns(records, CONFIG, **settings)
    typed = table_from_parts([part_values(records[a:b], CONFIG, **settings)
                              for a, b in _cuts(len(records), parts, seed)], CONFIG)
    assert typed is not None
    assert (typed.label, typed.predicted_label, list(typed.columns)) == \
        (whole.label, whole.predicted_label, list(whole.columns))
    for name, column in whole.columns.items():
        _same(typed.columns[name], column)
    kinds = {column.dtype.kind for column in whole.columns.values()}
    assert kinds == ({"i", "f", "b", "O"} if csv_every is None else {"i", "f", "O"})  # the types the parity covers
