"""Which ground-truth labels a monitoring window finds, said in the user's words.

A model-quality or bias window [start, end) reads the labels *uploaded* in that window (the
ground-truth folders ``yyyy/mm/dd/HH`` of its hours) and joins them with the inferences
*captured* in [start - ``--ground-truth-lookback``, end). Labels uploaded in hour 11 for
inferences of hour 10 are therefore found by window 11-12 with a look-back of at least PT1H,
and by no window without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from model_monitor_analyzer.io.window import format_timestamp, reach_back

LOOKBACK_OPTION = "--ground-truth-lookback"


def _moment(value: datetime | None, unbounded: str) -> str:
    return unbounded if value is None else format_timestamp(value)


def _duration(value: timedelta) -> str:
    hours, rest = divmod(int(value.total_seconds()), 3600)
    return f"PT{hours}H" if not rest else f"PT{hours}H{rest // 60}M"


def window_reach(*, start: datetime | None, end: datetime | None, lookback: timedelta,
                 lookback_name: str = LOOKBACK_OPTION) -> str:
    """What the window reads: ``labels uploaded in [start, end) joined with inferences captured in [...)``;
    the look-back named as the user set it (``lookback_name``)."""
    since = reach_back(start, lookback)
    return (
        f"labels uploaded in [{_moment(start, 'the beginning')}, {_moment(end, 'now')}) are joined with inferences "
        f"captured in [{_moment(since, 'the beginning')}, {_moment(end, 'now')}) ({lookback_name} {_duration(lookback)})"
    )


def few_labels(join: Mapping[str, int]) -> bool:
    """True when the window's join matched no label, or fewer labels than it left unmatched."""
    matched = join.get("matched", 0)
    unmatched = join.get("captures_without_label", 0) + join.get("labels_without_capture", 0)
    return matched == 0 or matched < unmatched


def label_window_hint(
    *, start: datetime | None, end: datetime | None, lookback: timedelta, join: Mapping[str, int],
    lookback_name: str = LOOKBACK_OPTION, ground_truth_name: str = "--ground-truth", capture_name: str = "--capture",
    id_samples: tuple[str | None, str | None] = (None, None),
) -> str:
    """Why a window matched few or no labels, and which setting finds them (named as the user set them:
    the command line's options unless told). ``id_samples``: a capture's id without a label and a label's id
    without a capture, shown when no capture matched any label (the ids then probably differ)."""
    labels_alone = join.get("labels_without_capture", 0)
    captures_alone = join.get("captures_without_label", 0)
    parts = [f"this window's {window_reach(start=start, end=end, lookback=lookback, lookback_name=lookback_name)}"]
    if labels_alone and captures_alone and not join.get("matched", 0):
        capture_id, label_id = id_samples
        shown = ", ".join(text for text in (
            f"a capture's id {capture_id!r}" if capture_id is not None else None,
            f"a label's eventId {label_id!r}" if label_id is not None else None) if text)
        parts.append(
            f"no capture matched any label, so their ids probably do not match{f' ({shown})' if shown else ''}: a "
            "label's eventMetadata.eventId must be the capture's inference id (its inferenceId, or its eventId when "
            "the request had none; a transform job's SageMakerInferenceId)"
            # a window that reads every capture from the beginning has none older to find
            + ("" if reach_back(start, lookback) is None else
               f"; or the labels are of inferences captured before the window reaches back to, which a longer "
               f"{lookback_name} finds (e.g. PT1H for labels uploaded the hour after)")
        )
        return "; ".join(parts) + "."
    if labels_alone:
        parts.append(
            f"{labels_alone} labels uploaded in the window belong to no inference captured then: labels of older "
            f"inferences are found with a longer {lookback_name} (e.g. PT1H for labels uploaded the hour after)"
            # nothing at all captured then: the capture folder may be the wrong one
            + ("" if captures_alone or join.get("matched", 0) else
               f"; no inference at all was captured then, so check too that {capture_name} holds the endpoint's "
               "data-capture files")
        )
    if captures_alone:
        parts.append(
            f"{captures_alone} captured inferences have no label uploaded in the window: a label uploaded later is "
            f"found by a later window whose {lookback_name} reaches back to its inference"
        )
    if not labels_alone and not captures_alone and not join.get("matched", 0):
        parts.append(f"the window holds neither labels nor captures: check {ground_truth_name} and {capture_name}")
    return "; ".join(parts) + "."


def no_labelled_data_message(*, merged: bool, join: Mapping[str, object], hint: str | None,
                             malformed: int = 0, first_problem: str | None = None) -> str:
    """The status line of a model-quality or bias window with nothing to analyze: no merged record
    in the window (``merged``), no capture record that could be read (``malformed`` ones only, within
    the tolerated ratio), or no captured inference with its label yet."""
    if merged:
        return "Completed: No data to analyze: no merged record in the window."
    waiting, orphans = join.get("captures_without_label", 0), join.get("labels_without_capture", 0)
    if malformed and not waiting and not orphans and not join.get("matched"):  # nothing but bad records
        return (f"Completed: No data to analyze: none of the window's records could be read ({malformed} malformed"
                + (f", the first: {first_problem}" if first_problem else "") + "), so no label could be joined.")
    return ("Completed: No data to analyze: no captured inference in the window has a ground-truth label yet"
            f" ({waiting} captures without a label, {orphans} labels without a capture)" + (f": {hint}" if hint else "."))
