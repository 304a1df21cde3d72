"""Persistent concept shift: a labelled window whose realised metric lies outside the interval its label-free
estimate gave on the same rows is one piece of evidence (``performance_estimation``); the same gap in several of
the latest labelled windows is the sign that the relation between inputs and labels changed, which no estimate can
see. A window on its own is judged with a false-discovery control (``monitors.model_quality.estimation``); this
rule reads across windows: ``k`` of the last ``n`` labelled windows outside (3 of 5 by default: one window in
twenty falls outside a 95 % interval by chance, three of five about once in 900 histories).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Windows outside their interval, of the latest labelled ones, that report a possible concept shift.
DEFAULT_OUTSIDE = 3
DEFAULT_LAST = 5


@dataclass(frozen=True, kw_only=True)
class RealisedAgainstEstimate:
    """A labelled window's realised metric and the 95 % interval its estimate gave on the same rows."""

    name: str  # the realised metric: accuracy, precision, recall, f1, auc
    realised: float
    lower: float
    upper: float

    @property
    def outside(self) -> bool:
        return not (self.lower <= self.realised <= self.upper)

    def to_document(self) -> dict[str, object]:
        return {"name": self.name, "realised": self.realised, "lower_95": self.lower, "upper_95": self.upper,
                "outside": self.outside}

    @classmethod
    def from_document(cls, document: Mapping[str, object]) -> RealisedAgainstEstimate | None:
        """What ``to_document`` wrote (None when a value is missing or not a finite number)."""
        values = [document.get(key) for key in ("realised", "lower_95", "upper_95")]
        if not isinstance(document.get("name"), str) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            return None
        return cls(name=str(document["name"]), realised=float(values[0]), lower=float(values[1]),  # type: ignore[arg-type]
                   upper=float(values[2]))  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class PersistentShift:
    """One metric across the latest labelled windows: in how many of them (``considered``, at most ``n``) the realised
    value was outside its estimate's interval, the positions of those windows in the list given, and the verdict."""

    name: str
    outside: int
    considered: int
    windows: tuple[int, ...]
    flagged: bool


def persistent_concept_shift(windows: Sequence[Sequence[RealisedAgainstEstimate] | None], *,
                             outside: int = DEFAULT_OUTSIDE, last: int = DEFAULT_LAST) -> list[PersistentShift]:
    """Per metric, the verdict over the ``last`` windows (oldest first in ``windows``) that compared it: flagged when
    the realised value was outside the interval in at least ``outside`` of them. A window without labels (None or
    no entry for the metric) neither counts nor breaks the run. ValueError when ``outside`` is not in 1..``last``."""
    if not 1 <= outside <= last:
        raise ValueError(f"the windows outside ({outside}) must be between 1 and the windows looked at ({last})")
    names = sorted({entry.name for found in windows if found for entry in found})
    verdicts = []
    for name in names:
        compared = [(i, entry) for i, found in enumerate(windows) if found
                    for entry in found if entry.name == name][-last:]
        hits = tuple(i for i, entry in compared if entry.outside)
        verdicts.append(PersistentShift(name=name, outside=len(hits), considered=len(compared), windows=hits,
                                        flagged=len(hits) >= outside))
    return verdicts
