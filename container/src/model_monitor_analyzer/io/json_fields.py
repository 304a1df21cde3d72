"""Fields of JSON documents found by JMESPath (``instances[*].features``, ``predictions[*].label``).

The analysis config of a bias run and a monitor's ``FeaturesAttribute`` point into JSON
datasets and captured JSON payloads this way; an expression that is not JMESPath is the user's
one-line error, never a traceback from the library.
"""

from __future__ import annotations

from collections.abc import Iterable

import jmespath
import jmespath.exceptions

from model_monitor_analyzer.errors import AnalyzerInputError


def search(expression: str, document: object) -> object:
    """What ``expression`` selects in a parsed JSON ``document`` (None when nothing matches)."""
    try:
        return jmespath.search(expression, document)
    except jmespath.exceptions.JMESPathError as exc:
        raise AnalyzerInputError(f"{expression!r} is not a valid JMESPath expression ({exc})") from None


def feature_rows(documents: Iterable[object], expression: str, *, many_per_document: bool, path: str) -> list[list[object]]:
    """The rows of feature values ``expression`` selects: one list per document, or, with
    ``many_per_document``, a list of such lists per document (``instances[*].features``)."""
    rows: list[list[object]] = []
    for document in documents:
        found = search(expression, document)
        selected = found if many_per_document else [found]
        if not isinstance(selected, list) or not all(isinstance(row, list) for row in selected):
            raise AnalyzerInputError(f'"features" {expression!r} does not select a list of feature values', path=path)
        rows.extend(selected)
    return rows


def values_per_row(documents: Iterable[object], expression: str, *, many_per_document: bool,
                   counts: list[int], path: str) -> list[object]:
    """The value ``expression`` selects for each row: one per document, or, with
    ``many_per_document``, a list per document of as many values as it has rows (``counts``)."""
    values: list[object] = []
    for document, count in zip(documents, counts, strict=True):
        found = search(expression, document)
        selected = found if many_per_document else [found]
        if not isinstance(selected, list) or len(selected) != count:
            raise AnalyzerInputError(f"JMESPath {expression!r} does not give one value per row", path=path)
        values.extend(selected)
    return values
