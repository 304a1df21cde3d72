"""Which captured payloads a monitoring job reads, chosen at synth from both sides when they are known.

SageMaker rebuilds one row per capture record from the payloads named in
``dataset_format.sagemakerCaptureJson.captureIndexNames``, output columns first, and its built-in
analyzer maps the row's columns to the baseline's features by position. A baseline of the features
alone checked against a capture of input and output therefore compares every feature with its
neighbour (sagemaker-python-sdk issue 3277). The project's analyzer matches the row to the baseline's
features at run time; the built-in cannot, so for it the payloads must fit the baseline before deploy.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from constructs import Construct

from ..endpoint import CaptureMode
from ..errors import ConfigurationError

ENDPOINT_INPUT = "endpointInput"
ENDPOINT_OUTPUT = "endpointOutput"
INPUT_ONLY = (ENDPOINT_INPUT,)
INPUT_AND_OUTPUT = (ENDPOINT_INPUT, ENDPOINT_OUTPUT)
"""What SageMaker passes a schedule's job when nothing else is set (contract §6.2)."""
_FULL_CAPTURE = "CaptureConfig(modes=(CaptureMode.INPUT, CaptureMode.OUTPUT))"


class BaselineColumns(enum.Enum):
    """What the columns of a data-quality baseline are, in the endpoint's terms."""

    FEATURES = "features"
    """The endpoint's input columns only, in the order it receives them (a training CSV of the
    features, the common case). Jobs read the captured input only."""
    OUTPUT_AND_FEATURES = "output-and-features"
    """The endpoint's output column(s) first, then its input columns: the row SageMaker rebuilds from
    a capture of both. Jobs read input and output."""


def describe_baseline(features: Sequence[str] | None) -> str:
    """The baseline side of a message: its feature count and first names, or that synth cannot see them."""
    if features is None:
        return "a baseline whose features are not known at synth (Baseline.from_s3 / from_dataset)"
    shown = ", ".join(features[:4]) + (", ..." if len(features) > 4 else "")
    return f"a baseline of {len(features)} feature{'s' if len(features) != 1 else ''} ({shown})"


def describe_capture(modes: frozenset[CaptureMode] | None) -> str:
    """The capture side of a message."""
    if modes is None:
        return "an endpoint whose capture modes are not known at synth"
    names = [m.value for m in CaptureMode if m in modes]
    return f"an endpoint that captures {' and '.join(names) if names else 'nothing'}"


def check_captured(scope: Construct, *, monitor_type: str, reads: Sequence[CaptureMode],
                   modes: frozenset[CaptureMode] | None, features: Sequence[str] | None = None) -> None:
    """ConfigurationError when the endpoint does not capture a payload the monitor type reads
    (data quality: the input; model quality: the output; bias: both)."""
    if modes is None:
        return
    missing = [m.value for m in reads if m not in modes]
    if missing:
        needs = " and ".join(m.value for m in reads)
        raise ConfigurationError(
            scope, "capture.modes", tuple(m.value for m in CaptureMode if m in modes),
            f"A {monitor_type} monitor reads the captured {needs}, but it runs on {describe_capture(modes)} "
            f"(checked against {describe_baseline(features)}): capture {' and '.join(missing)} too, e.g. "
            f"{_FULL_CAPTURE} (the default).")


def data_quality_capture_index_names(scope: Construct, *, modes: frozenset[CaptureMode] | None, builtin: bool,
                                     features: Sequence[str] | None,
                                     columns: BaselineColumns | None) -> tuple[str, ...]:
    """The ``captureIndexNames`` of a data-quality job whose capture rows fit the baseline.

    ``modes``: what the endpoint captures (None: unknown); ``builtin``: SageMaker's built-in analyzer
    runs (maps columns by position); ``features``: the baseline's feature names (None: unknown at
    synth); ``columns``: what the user says the baseline holds. Raises ConfigurationError, naming both
    sides and the fix, when no choice fits.
    """
    both_sides = f"{describe_capture(modes)} and {describe_baseline(features)}"
    if columns is BaselineColumns.FEATURES:
        return INPUT_ONLY
    if columns is BaselineColumns.OUTPUT_AND_FEATURES:
        if modes is not None and CaptureMode.OUTPUT not in modes:
            raise ConfigurationError(
                scope, "baseline_columns", columns,
                f"The baseline is said to start with the output columns, but the monitor has {both_sides}: "
                f"capture the output too ({_FULL_CAPTURE}), or use BaselineColumns.FEATURES for a baseline "
                "of the input columns only.")
        if features is not None and len(features) < 2:
            raise ConfigurationError(
                scope, "baseline_columns", columns,
                f"Output columns first, then input columns need at least two features; the monitor has "
                f"{both_sides}: use BaselineColumns.FEATURES, or rebuild the baseline from the output and "
                "input columns.")
        return INPUT_AND_OUTPUT
    if columns is not None:
        raise ConfigurationError(scope, "baseline_columns", columns,
                                 "Use BaselineColumns.FEATURES or BaselineColumns.OUTPUT_AND_FEATURES.")
    if modes is not None and CaptureMode.OUTPUT not in modes:
        return INPUT_ONLY
    if not builtin:
        # The project's analyzer tells a baseline of the input from one of output + input at run time.
        return INPUT_AND_OUTPUT
    if features is not None and len(features) < 2:
        # One column cannot hold an output and an input: the baseline describes the input.
        return INPUT_ONLY
    raise ConfigurationError(
        scope, "baseline_columns", None,
        f"SageMaker's built-in analyzer maps the captured columns (output first, then input) to the "
        f"baseline's features by position, and the monitor has {both_sides}, so it cannot tell whether the "
        "baseline holds the output: pass baseline_columns=BaselineColumns.FEATURES (a training CSV of the "
        "features; the job then reads the captured input only) or BaselineColumns.OUTPUT_AND_FEATURES (the "
        "output column(s) first, then the input), or use the project's analyzer image, which matches the "
        "columns at run time.")
