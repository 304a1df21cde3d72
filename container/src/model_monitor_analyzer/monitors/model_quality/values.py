"""Predictions and labels as model-quality values: the explicit decisions on label types,
probabilities and missing values, on whole Arrow columns.

Values arrive as text columns (as written in CSV, or as JSON writes them) and are decided on
whole columns, explicitly (each an AnalyzerInputError naming the attribute and the fix):

* numbers as users write them are numbers: ``1``, ``1.0``, ``+1``, ``1e0`` are the same label,
  and ``true``/``false`` (any case) are 1/0 where a binary label is expected;
* binary labels are 0/1 or true/false unless a positive label names the positive class; a
  value then is positive when it equals that label (as numbers when both are numbers, else as
  text ignoring case), and a label column that cannot hold it (several values, none of them
  the positive label) is an error instead of silently zero metrics;
* probabilities must lie in [0, 1], and regression values must be numbers; a value that is a number
  but not a finite one (``inf``, ``-inf``, ``nan``, ``1e400`` beyond float64) is read as such, and the
  rows holding one are left out of the metrics and counted by the caller (``metrics.part_state``).

Messages name the settings as ``names`` spells them (the command line's options by default).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.arrow_texts import bool_mask, float64_nan_filled, float64_scalar, text_scalar
from model_monitor_analyzer.monitors.model_quality.request import OPTION_NAMES, ModelQualityNames

#: Numbers as users write them: ``1``, ``+1``, ``1.0``, ``1.``, ``.5``, ``1e0``, ``-2.5E-3``.
NUMBER_PATTERN = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_NON_FINITE = r"^[+-]?(?:inf|infinity|nan)$"
_INTEGRAL_LIMIT = 2.0**53  # integral doubles beyond this are not exact integers any more


def _trimmed(values: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(values.cast(pa.string()))


# Operands of Arrow's compute functions are Arrow values built from buffers, and Arrow results become numpy arrays
# read from their buffers: a Python operand, or a conversion that is not zero-copy, makes pyarrow import pandas
# where it is installed (a quarter of a second in each process).
_EMPTY, _TRUE, _FALSE, _NO_TEXT = text_scalar(""), text_scalar("true"), text_scalar("false"), text_scalar(None)
_ONE, _ZERO = float64_scalar(1.0), float64_scalar(0.0)


def _as_bool(mask: pa.Array) -> np.ndarray:
    return bool_mask(mask)


def missing_values(values: pa.Array) -> np.ndarray:
    """True where a value is missing: null, empty or only blanks."""
    return ~_as_bool(pc.not_equal(_trimmed(values), _EMPTY))


def _numbers(trimmed: pa.Array) -> pa.Array:
    """``trimmed`` as float64 where it is written as a number, null elsewhere."""
    numeric = pc.match_substring_regex(trimmed, NUMBER_PATTERN)
    return pc.cast(pc.if_else(numeric, trimmed, _NO_TEXT), pa.float64())


def label_numbers(values: pa.Array) -> np.ndarray:
    """Labels as numbers where they are numbers (``true``/``false`` in any case count as 1/0), NaN elsewhere."""
    trimmed = _trimmed(values)
    lower = pc.utf8_lower(trimmed)
    numbers = pc.if_else(
        pc.equal(lower, _TRUE), _ONE, pc.if_else(pc.equal(lower, _FALSE), _ZERO, _numbers(trimmed))
    )
    return float64_nan_filled(numbers)


def label_text(values: pa.Array) -> pa.Array:
    """Labels as text that compares equal however a value was written.

    Numbers lose their spelling: integral ones become integers (``1.0``, ``+1``, ``1e0`` -> ``1``),
    others the shortest decimal (``0.50`` -> ``0.5``); ``True``/``TRUE`` become ``true`` (and
    ``false`` alike); other text is stripped of surrounding blanks and kept as written.
    """
    trimmed = _trimmed(values)
    lower = pc.utf8_lower(trimmed)
    numbers = _numbers(trimmed)
    # beyond 2**53 a double no longer tells neighbouring integers apart: such labels stay text
    exact = pc.fill_null(pc.less(pc.abs(numbers), _INTEGRAL_LIMIT), False)
    integral = pc.and_(exact, pc.fill_null(pc.equal(pc.floor(numbers), numbers), False))
    whole = pc.cast(pc.cast(pc.if_else(integral, numbers, 0.0), pa.int64()), pa.string())
    number_text = pc.if_else(integral, whole, pc.cast(numbers, pa.string()))
    boolean = pc.or_(pc.equal(lower, "true"), pc.equal(lower, "false"))
    return pc.if_else(exact, number_text, pc.if_else(boolean, lower, trimmed))


def _distinct(values: pa.Array, limit: int = 5) -> list[str]:
    """Up to ``limit`` distinct values, sorted, for messages."""
    return sorted(str(v) for v in pc.unique(values.drop_null()).to_pylist())[:limit]


def binary_values(
    values: pa.Array, *, positive_label: str | None, what: str, names: ModelQualityNames = OPTION_NAMES
) -> np.ndarray:
    """True for the positive class.

    Without a positive label every value must be 0/1 (as any number spelling) or true/false:
    anything else is an input error (a probability given as the inference attribute is the usual
    cause). With one, a value is positive when it equals the label: as numbers when both are
    numbers (``1.0`` is ``1``, ``true`` is ``1``), else as text ignoring case.
    """
    numbers = label_numbers(values)
    if positive_label is None:
        expected = (numbers == 0.0) | (numbers == 1.0)
        if not expected.all():
            unexpected = pc.filter(_trimmed(values), pa.array(~expected))
            shown = _distinct(unexpected, 3)
            numbers_found = _numbers(unexpected)
            in_unit_interval = pc.and_(pc.greater_equal(numbers_found, 0.0), pc.less_equal(numbers_found, 1.0))
            hint = (
                f" (these look like probabilities: pass {names.probability_attribute} and {names.probability_threshold})"
                if _as_bool(in_unit_interval).all()
                else ""
            )
            raise AnalyzerInputError(
                f"{what} of a BinaryClassification must be 0/1 or true/false, found {', '.join(shown)}"
                f"{hint}; or pass {names.positive_label} to name the positive class"
            )
        return numbers == 1.0
    positive = positive_label.strip()
    by_text = _as_bool(pc.equal(pc.utf8_lower(_trimmed(values)), positive.lower()))
    positive_number = label_numbers(pa.array([positive]))[0]
    if np.isnan(positive_number):
        return by_text
    return by_text | (numbers == positive_number)


def number_values(values: pa.Array, *, what: str) -> np.ndarray:
    """Numbers (written in any usual spelling) as float64, the non-finite ones (``inf``, ``nan``, a number
    beyond float64) as inf or NaN; text that is no number is an input error naming ``what``."""
    trimmed = _trimmed(values)
    numeric = _as_bool(
        pc.or_(
            pc.match_substring_regex(trimmed, NUMBER_PATTERN),
            pc.match_substring_regex(trimmed, _NON_FINITE, ignore_case=True),
        )
    )
    if not numeric.all():
        found = pc.filter(values, pa.array(~numeric))[0].as_py()
        raise AnalyzerInputError(f"{what} must be numbers, found {found!r}")
    return float64_nan_filled(pc.cast(trimmed, pa.float64()))


def squarable(values: np.ndarray, *, what: str) -> np.ndarray:
    """``values`` when the squared errors of ``len(values)`` rows, and their squares (the standard error
    of the MSE), add up without overflow (below about 1e75 for a million rows); else an input error:
    MSE, RMSE and R2 would be infinite, which no statistics.json can hold."""
    limit = (np.finfo(np.float64).max / (16.0 * max(len(values), 1))) ** 0.25 / 2
    if values.size and (largest := float(np.max(np.abs(values)))) >= limit:
        raise AnalyzerInputError(
            f"{what} reach {largest:.4g}: a regression's squared errors would overflow (values must stay below "
            f"{limit:.3g} in magnitude for {len(values)} rows); check the model's output or the attribute named"
        )
    return values


def probability_values(values: pa.Array, *, names: ModelQualityNames = OPTION_NAMES) -> np.ndarray:
    """Probabilities as float64, each finite one in [0, 1]; a finite value outside is an input error (a
    margin or logit given as probability would make the threshold and the curves meaningless). Non-finite
    ones are returned as they are, for the caller to leave out."""
    scores = number_values(values, what="probability attribute values")
    outside = scores[np.isfinite(scores) & ((scores < 0.0) | (scores > 1.0))]
    if outside.size:
        raise AnalyzerInputError(
            f"probability attribute values must lie in [0, 1]; {outside.size} do not (e.g. {float(outside[0])!r}):"
            f" point {names.probability_attribute} at a probability, not a score or logit"
        )
    return scores




def is_class_probability_list(values: pa.Array) -> bool:
    """True when the probability values are per-class lists (JSON list text, ``[0.1,0.7,0.2]``), as a multiclass
    model's probability attribute gives them; False for single values (SageMaker's reading: one probability)."""
    if not len(values):
        return False
    return bool(_as_bool(pc.starts_with(_trimmed(values), "[")).all())


def class_probability_values(values: pa.Array, *, names: ModelQualityNames = OPTION_NAMES) -> np.ndarray:
    """Per-class probabilities (rows x classes, float64) from lists written as JSON list text, on the whole
    column: every row must list the same number of classes (two or more), each value a number in [0, 1] or not a
    finite one (the row is then for the caller to leave out)."""
    trimmed = _trimmed(values)
    inner = pc.utf8_trim(pc.utf8_trim_whitespace(trimmed), characters="[]")
    parts = pc.split_pattern(inner, ",")
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    if not len(values):
        return np.empty((0, 0))
    if lengths.min() != lengths.max() or lengths[0] < 2:
        raise AnalyzerInputError(
            f"probability attribute values must list the same number of classes (two or more) in every row, found "
            f"lists of {int(lengths.min())} to {int(lengths.max())}: point {names.probability_attribute} at the model's "
            "per-class probabilities")
    flat = number_values(pc.list_flatten(parts), what="per-class probability values")
    scores = flat.reshape(len(values), int(lengths[0]))
    finite = np.isfinite(scores)
    outside = scores[finite & ((scores < 0.0) | (scores > 1.0))]
    if outside.size:
        raise AnalyzerInputError(
            f"per-class probability values must lie in [0, 1]; {outside.size} do not (e.g. {float(outside[0])!r}): "
            f"point {names.probability_attribute} at probabilities, not scores or logits")
    return scores
