"""Exact, mergeable numeric moments: count, sum, min, max, mean and population variance."""

from __future__ import annotations

import math

import numpy as np


class NumericMoments:
    """Streaming numeric state (Deequ's Sum/Minimum/Maximum/StandardDeviation states in one).

    * ``sum`` is accumulated left to right, as Spark's ``Sum`` does, so it matches the
      built-in's value bit for bit; ``mean = sum / count`` as in Deequ's ``Mean``.
    * the variance uses Chan et al.'s parallel update: per batch an exact two-pass
      ``(n_b, mean_b, M2_b)``, merged as
      ``delta = mean_b - mean_a``, ``M2 = M2_a + M2_b + delta**2 * n_a * n_b / n``.
      ``std_dev = sqrt(M2 / n)`` (population). This equals Spark's sequential Welford update to
      within a few ulps (Spark's exact bits depend on row order).
    """

    __slots__ = ("_m2", "_mean", "count", "maximum", "minimum", "sum")

    def __init__(self) -> None:
        self.count = 0
        self.sum = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf
        self._mean = 0.0
        self._m2 = 0.0

    def update(self, values: np.ndarray) -> None:
        """Add a batch of float64 values (no NaN)."""
        n_b = len(values)
        if n_b == 0:
            return
        # values near float64's limit overflow a sum or a square to inf as Spark's do; numpy's warning about
        # it is no news to the user (the statistics say inf, or nothing)
        with np.errstate(over="ignore", invalid="ignore"):
            # np.cumsum is a left-to-right running sum: the same rounding as Spark's Sum.
            self.sum = float(np.cumsum(np.concatenate(([self.sum], values)))[-1])
            mean_b = float(values.mean())
            m2_b = float(np.square(values - mean_b).sum())
        self.minimum = min(self.minimum, float(values.min()))
        self.maximum = max(self.maximum, float(values.max()))
        self._combine(n_b, mean_b, m2_b)

    def _combine(self, n_b: int, mean_b: float, m2_b: float) -> None:
        n_a = self.count
        n = n_a + n_b
        delta = mean_b - self._mean
        self._mean += delta * n_b / n
        self._m2 += m2_b + delta * delta * n_a * n_b / n
        self.count = n

    def merge(self, other: NumericMoments) -> NumericMoments:
        """Merge ``other`` into this state in place (sum in order: this, then other)."""
        if other.count == 0:
            return self
        self.sum += other.sum
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        self._combine(other.count, other._mean, other._m2)
        return self

    @property
    def mean(self) -> float:
        """Arithmetic mean, ``sum / count`` (NaN when empty)."""
        return self.sum / self.count if self.count else math.nan

    @property
    def std_dev(self) -> float:
        """Population standard deviation ``sqrt(M2 / count)`` (NaN when empty)."""
        return math.sqrt(max(self._m2, 0.0) / self.count) if self.count else math.nan
