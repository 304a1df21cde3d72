"""A column typed in parts is typed as the whole column: each part's evidence (``text_evidence``,
``value_evidence``) merges into the whole column's type, and each part typed by it (``text_part``,
``value_part``) gives the part's rows of ``text_column`` / ``typed_column`` of the whole column."""

from __future__ import annotations

import functools
import itertools
import random

import numpy as np
import pyarrow as pa
import pytest

from model_monitor_analyzer.monitors.bias.values import (
    TextEvidence,
    ValueEvidence,
    text_column,
    text_evidence,
    text_part,
    typed_column,
    value_evidence,
    value_part,
)

ROWS = 60


def _spread(rng: random.Random, common: list[str], rare: list[str]) -> list[str]:
    """Mostly ``common`` texts, each ``rare`` one once at a random row (so that splits put it in any part)."""
    cells = [rng.choice(common) for _ in range(ROWS)]
    for text in rare:
        cells[rng.randrange(ROWS)] = text
    return cells


def _text_columns() -> dict[str, list[str | None]]:
    rng = random.Random(5)
    return {
        "integers": _spread(rng, ["1", "22", "-3", "+4"], []),
        "integers and one empty": _spread(rng, ["1", "22", "-3"], [""]),
        "integers and one fraction": _spread(rng, ["1", "22", "-3"], ["2.5"]),
        "integers, floats and one word": _spread(rng, ["1", "2.5", " 7 "], ["x"]),
        "integers and one NA text": _spread(rng, ["1", "2"], ["NA"]),
        "integers and a null": [*_spread(rng, ["1", "2"], [])[:-1], None],
        "integers beyond int64": _spread(rng, ["1", "2"], ["99999999999999999999"]),
        "booleans": _spread(rng, ["True", "false", "TRUE"], []),
        "booleans and one missing": _spread(rng, ["True", "false"], ["nan"]),
        "booleans and one integer": _spread(rng, ["True", "false"], ["1"]),
        "all missing": _spread(rng, ["", "NA", "null", " "], []),
        "words": _spread(rng, ["F", "M", " X "], ["", "N/A"]),
        "floats with inf and nan texts": _spread(rng, ["1.5", "2e3"], ["inf", "nan", "-1.#IND"]),
    }


def _value_columns() -> dict[str, list[object]]:
    rng = random.Random(6)
    return {
        **{f"texts: {name}": values for name, values in _text_columns().items()},
        "JSON integers and one text integer": [*(rng.randrange(9) for _ in range(ROWS - 1)), "4"],
        "JSON integers and one null": [*(rng.randrange(9) for _ in range(ROWS - 1)), None],
        "JSON integers and one float": [*(rng.randrange(9) for _ in range(ROWS - 1)), 2.5],
        "JSON booleans and one text boolean": [*(rng.random() < 0.5 for _ in range(ROWS - 1)), "true"],
        "JSON booleans and one null": [None, *(rng.random() < 0.5 for _ in range(ROWS - 1))],
        "JSON numbers and one word": [*(rng.random() for _ in range(ROWS - 1)), "x"],
        "JSON mixed": [1, 2.5, "a", None, True, [1, 2], "NA"] * 8,
        "JSON nulls and texts of nulls": [None, "NA", "null"] * 20,
    }


TEXTS = _text_columns()
VALUES = _value_columns()


def _cuts(size: int, parts: int, seed: int) -> list[tuple[int, int]]:
    if parts == 1:
        return [(0, size)]
    inner = sorted(random.Random(seed).choices(range(size + 1), k=parts - 1))  # empty parts too
    return list(itertools.pairwise([0, *inner, size]))


def _same(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.dtype == expected.dtype
    if expected.dtype.kind == "f":
        np.testing.assert_array_equal(got, expected)  # NaN where NaN
    else:
        assert got.tolist() == expected.tolist()
        assert [type(v) for v in got.tolist()] == [type(v) for v in expected.tolist()]


PARTS = [(1, 0), (2, 1), (3, 2), (7, 3), (ROWS, 4)]


@pytest.mark.parametrize("name", list(TEXTS))
@pytest.mark.parametrize(("parts", "seed"), PARTS)
def test_text_parts_are_typed_as_the_whole_column(name: str, parts: int, seed: int) -> None:
    cells = TEXTS[name]
    pieces = [pa.array(cells[a:b], pa.string()) for a, b in _cuts(len(cells), parts, seed)]
    evidence = [text_evidence(piece) for piece in pieces]
    random.Random(seed).shuffle(evidence)
    merged = functools.reduce(TextEvidence.merge, evidence)
    whole = text_column(pa.array(cells, pa.string()))
    typed = [text_part(piece, merged) for piece in pieces]
    _same(np.concatenate(typed) if typed else np.array([]), whole)
    for piece, part in zip(pieces, typed, strict=True):
        assert part.dtype == whole.dtype and len(part) == len(piece)


@pytest.mark.parametrize("name", list(VALUES))
@pytest.mark.parametrize(("parts", "seed"), PARTS)
def test_value_parts_are_typed_as_the_whole_column(name: str, parts: int, seed: int) -> None:
    values = VALUES[name]
    pieces = [values[a:b] for a, b in _cuts(len(values), parts, seed)]
    evidence = [value_evidence(piece) for piece in pieces]
    random.Random(seed).shuffle(evidence)
    merged = functools.reduce(ValueEvidence.merge, evidence)
    _same(np.concatenate([value_part(piece, merged) for piece in pieces]), typed_column(values))


def test_the_edge_columns_take_every_type() -> None:
    """The columns above cover each type the whole-column typing gives, so the parity above is not vacuous."""
    kinds = {text_column(pa.array(cells, pa.string())).dtype.kind for cells in TEXTS.values()}
    kinds |= {typed_column(values).dtype.kind for values in VALUES.values()}
    assert kinds == {"i", "f", "b", "O"}
