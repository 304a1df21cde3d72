"""Arrow values built from buffers and read into numpy from their buffers (``io.arrow_texts``) are what pyarrow's own
conversions give, for slices and nulls."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from model_monitor_analyzer.io import arrow_texts


def _slices(array: pa.Array) -> list[pa.Array]:
    return [array, array.slice(3), array.slice(5, 17), array.slice(len(array)), array.slice(1, 1)]


@pytest.mark.parametrize("seed", range(3))
def test_a_boolean_mask_is_pyarrows_with_null_as_false(seed):
    rng = np.random.default_rng(seed)
    values = [None if rng.random() < 0.2 else bool(rng.random() < 0.5) for _ in range(40)]
    for array in (*_slices(pa.array(values, pa.bool_())), *_slices(pa.array([v is True for v in values]))):
        expected = np.array([value is True for value in array.to_pylist()], dtype=bool)
        assert arrow_texts.bool_mask(array).tolist() == expected.tolist()


@pytest.mark.parametrize("seed", range(3))
def test_float_values_are_pyarrows_with_null_as_nan(seed):
    rng = np.random.default_rng(seed)
    values = [None if rng.random() < 0.2 else float(rng.normal()) for _ in range(40)]
    values[7] = math.inf
    for array in (*_slices(pa.array(values, pa.float64())), *_slices(pa.array([v or 0.0 for v in values]))):
        expected = array.to_numpy(zero_copy_only=False)
        ours = arrow_texts.float64_nan_filled(array)
        assert ours.dtype == np.float64
        assert np.array_equal(ours, expected, equal_nan=True)


@pytest.mark.parametrize("value", [0.0, -0.0, 1.5, math.inf, None])
def test_a_float_scalar_is_pyarrows(value):
    ours, theirs = arrow_texts.float64_scalar(value), pa.scalar(value, pa.float64())
    assert ours.type == theirs.type and ours.is_valid == theirs.is_valid
    if value is not None:
        assert math.copysign(1.0, ours.as_py()) == math.copysign(1.0, value) and ours.as_py() == value
