"""Drift methods: the built-in's distances, and the registry's sample-size-aware methods.

The registry (``constraint_rules.DRIFT_METHODS``) says what each method means; this module computes
it. Every method works from what a baseline stores (a KLL sketch for a numeric feature, category
counts for a String one), never from raw baseline rows, so baselines made by the built-in work too.

Registry methods (``measure``): each returns an effect (the distance) and, for a test, a p-value:

* numeric features are compared on **reference bins**: edges at the baseline sketch's quantiles
  ``i / B`` (``B`` = 10, fewer when the window has under 50 values so that every bin expects 5),
  read from the stored sketch, so the same baseline always gives the same bins;
* String features on their categories: the baseline's categories holding at least 1 % of its
  values and at least 5 expected values in the window (at most 50), the rest pooled as one "other"
  group, values new to the baseline included; a column of only rare values (an id, a postcode)
  leaves nothing to compare and gets no verdict;
* the **evidence** is a two-sample test on the 2 x B table (Pearson's chi-square for ``wasserstein``, ``psi``, ``jensen_shannon``, ``hellinger``
  and ``chi_squared``; the G-test for ``g_test``; a two-proportion z-test per group with
  Bonferroni; Kolmogorov-Smirnov for ``ks``). Where a bin expects fewer than 20 window values the
  chi-square p-values are simulated (20,000 seeded multinomial draws of both samples):
  the false-discovery control looks far into the tail, where the chi-square approximation of a
  sparse table is too light; both samples are drawn from their pooled shares, so a small baseline's
  own noise counts too. Sketches
  are approximate: each side's size is shrunk to the size whose sampling error equals the
  sampling error plus the sketch's rank error (``KllSketch.rank_error``), so a difference the
  sketch cannot resolve never counts as evidence;
* the **effects**: Wasserstein-1 distance over the sketches divided by the baseline's standard
  deviation; PSI ``sum (q - p) ln(q / p)``, Jensen-Shannon distance ``sqrt(JSD)`` in bits and
  Hellinger ``sqrt(1 - sum sqrt(p q))`` over the bins or groups (shares floored at 1e-4 where a
  logarithm needs it); the largest change of one bin's or group's share for the tests.

The built-in's distances (``sagemaker`` mode), after Deequ's ``Distance`` object:

* numeric, L-infinity over KLL sketches: ``linf_simple = max_x |F_base(x) - F_cur(x)|`` over
  the union of both sketches' items, ``F(x)`` = inclusive weighted rank of ``x`` / total weight;
* categorical L-infinity: ``max_v |count_base(v)/n - count_cur(v)/m|`` over the union of values;
* Robust variant (Deequ ``correctForLowNumberOfSamples = false``):
  ``max(0, linf_simple - c_alpha * sqrt((n + m) / (n * m)))`` with ``c_alpha = 1.8``
  (alpha ~ 0.003), or ``sqrt(-ln(alpha / 2) / 2)`` for an explicit alpha;
* categorical chi-square: baseline counts rescaled to the current sample, small categories
  regrouped (2 categories: every expected count >= 10; more: at most 20 % below 5), then
  Pearson's goodness-of-fit; Robust returns the p-value, Simple the statistic; NaN when fewer
  than 2 categories remain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from model_monitor_analyzer.constraint_rules import CATEGORICAL, DRIFT_METHODS, NUMERIC
from model_monitor_analyzer.profile.kll import KllSketch

DEFAULT_C_ALPHA = 1.8
_YATES_ABS = 5
_YATES_SHARE = 0.2
_COCHRAN_ABS = 10


def c_alpha(alpha: float | None = None) -> float:
    """``1.8`` by default, else ``sqrt(-ln(alpha/2) / 2)`` (two-sample KS critical value)."""
    return DEFAULT_C_ALPHA if alpha is None else math.sqrt(-math.log(alpha / 2) / 2)


def robust_distance(linf_simple: float, n: float, m: float, *, alpha: float | None = None) -> float:
    """``max(0, linf_simple - c_alpha * sqrt((n+m)/(n*m)))``."""
    return max(0.0, linf_simple - c_alpha(alpha) * math.sqrt((n + m) / (n * m)))


def _cdf_at(items: np.ndarray, cumulative: np.ndarray, points: np.ndarray) -> np.ndarray:
    index = np.searchsorted(items, points, side="right")
    return np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0) / cumulative[-1]


def numeric_linf(baseline: KllSketch, current: KllSketch) -> tuple[float, float, float]:
    """``(linf_simple, n, m)`` between two sketches (n, m = their total weights)."""
    items_a, cum_a = baseline._weighted_items()
    items_b, cum_b = current._weighted_items()
    if len(items_a) == 0 or len(items_b) == 0:
        return math.nan, float(baseline.total_weight), float(current.total_weight)
    keys = np.union1d(items_a, items_b)
    diff = np.abs(_cdf_at(items_a, cum_a, keys) - _cdf_at(items_b, cum_b, keys))
    return float(diff.max()), float(cum_a[-1]), float(cum_b[-1])


def numeric_distance(baseline: KllSketch, current: KllSketch, *, robust: bool, alpha: float | None = None) -> float:
    """Deequ ``numericalDistance``: L-infinity Simple, or Robust when ``robust``."""
    linf, n, m = numeric_linf(baseline, current)
    if math.isnan(linf):
        return linf
    return robust_distance(linf, n, m, alpha=alpha) if robust else linf


def categorical_linf(baseline: Mapping[str, float], current: Mapping[str, float]) -> tuple[float, float, float]:
    """``(linf_simple, n, m)`` over category frequencies."""
    n = float(sum(baseline.values()))
    m = float(sum(current.values()))
    if n == 0 or m == 0:
        return math.nan, n, m
    linf = max(abs(baseline.get(key, 0) / n - current.get(key, 0) / m) for key in set(baseline) | set(current))
    return linf, n, m


def categorical_distance(
    baseline: Mapping[str, float], current: Mapping[str, float], *, robust: bool, alpha: float | None = None
) -> float:
    """Deequ ``categoricalLInfinityDistance``: Simple, or Robust when ``robust``."""
    linf, n, m = categorical_linf(baseline, current)
    if math.isnan(linf):
        return linf
    return robust_distance(linf, n, m, alpha=alpha) if robust else linf


def _regroup(sample: dict[str, float], expected: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    while len(expected) >= 2:
        if len(expected) > 2:
            threshold, allowed = _YATES_ABS, int(_YATES_SHARE * len(expected))
        else:
            threshold, allowed = _COCHRAN_ABS, 0
        if sum(1 for v in expected.values() if v < threshold) <= allowed:
            break
        smallest = min(expected, key=expected.__getitem__)
        smallest_value = expected.pop(smallest)
        sample_smallest = sample.pop(smallest, 0.0)
        second = min(expected, key=expected.__getitem__)
        expected[second] = expected[second] + smallest_value
        sample[second] = sample_smallest + sample.get(second, 0.0)
    return sample, expected


def chi_square_survival(statistic: float, degrees_of_freedom: int) -> float:
    """``P(X >= statistic)`` for a chi-square variable: the regularized gamma ``Q(df/2, x/2)``."""
    if statistic <= 0:
        return 1.0
    if math.isinf(statistic):
        return 0.0
    a, x = degrees_of_freedom / 2.0, statistic / 2.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        denominator = a
        for _ in range(10_000):
            denominator += 1
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # Lentz's continued fraction for Q(a, x).
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(log_prefix) * h


def chi_square_distance(
    baseline: Mapping[str, float], current: Mapping[str, float], *, robust: bool
) -> float:
    """Deequ ``categoricalChiSquareTest``: p-value (Robust) or statistic (Simple); NaN if < 2 categories."""
    sample_sum = float(sum(v for k, v in current.items() if k in baseline))
    expected_sum = float(sum(baseline.values()))
    if expected_sum == 0:
        return math.nan
    expected = {k: v / expected_sum * sample_sum for k, v in baseline.items()}
    sample = {k: float(v) for k, v in current.items()}
    sample, expected = _regroup(sample, expected)
    if len(sample) < 2 or len(expected) < 2:
        return math.nan
    observed = np.array([sample.get(k, 0.0) for k in expected])
    wanted = np.array(list(expected.values()))
    # Spark's chiSqTest rescales the expected vector to the observed total.
    if wanted.sum() == 0 or observed.sum() == 0:
        return math.nan
    wanted = wanted * (observed.sum() / wanted.sum())
    if np.any(wanted == 0):
        return math.nan
    statistic = float(np.sum((observed - wanted) ** 2 / wanted))
    if not robust:
        return statistic
    return chi_square_survival(statistic, len(wanted) - 1)


# ---------------------------------------------------------------------------------------------
# The registry's methods
# ---------------------------------------------------------------------------------------------

REFERENCE_BINS = 10
MIN_EXPECTED_PER_BIN = 5
#: A baseline category is compared on its own when it holds at least this share of the baseline.
MIN_CATEGORY_SHARE = 0.01
MAX_CATEGORY_GROUPS = 50
#: Shares are floored here where a method takes their logarithm (PSI): an empty bin is not infinitely far.
SHARE_FLOOR = 1e-4


@dataclass(frozen=True)
class DriftMeasure:
    """A feature's drift by one registry method: the effect (``distance``) and the test's ``p_value``
    (None for a method without a test; NaN when nothing could be compared)."""

    method: str
    distance: float
    p_value: float | None


@dataclass(frozen=True)
class Groups:
    """Two samples over the same bins or category groups: shares and the sizes the evidence may use."""

    baseline: np.ndarray
    current: np.ndarray
    baseline_size: float
    current_size: float


def effective_size(count: float, rank_error: float, share: float) -> float:
    """The sample size whose sampling variance of a ``share`` equals that of ``count`` values plus twice
    the sketch's squared ``rank_error`` (a bin has two edges)."""
    if count <= 0:
        return 0.0
    if rank_error <= 0:
        return float(count)
    return 1.0 / (1.0 / count + 2.0 * rank_error**2 / (share * (1.0 - share)))


def reference_edges(baseline: KllSketch, bins: int = REFERENCE_BINS) -> np.ndarray:
    """The inner edges of ``bins`` bins at the baseline sketch's quantiles, ties merged."""
    items, cumulative = baseline._weighted_items()
    if len(items) == 0:
        return np.empty(0)
    targets = cumulative[-1] * np.arange(1, bins) / bins
    edges = items[np.minimum(np.searchsorted(cumulative, targets, side="left"), len(items) - 1)]
    return np.unique(edges)


def _bin_shares(sketch: KllSketch, edges: np.ndarray) -> np.ndarray:
    items, cumulative = sketch._weighted_items()
    cdf = _cdf_at(items, cumulative, edges)
    return np.diff(np.concatenate(([0.0], cdf, [1.0])))


def numeric_groups(baseline: KllSketch, current: KllSketch) -> Groups | None:
    """Both sketches over the baseline's reference bins (None when either is empty)."""
    n, m = float(baseline.total_weight), float(current.total_weight)
    if n == 0 or m == 0:
        return None
    bins = int(max(2, min(REFERENCE_BINS, m // MIN_EXPECTED_PER_BIN)))
    edges = reference_edges(baseline, bins)
    share = 1.0 / (len(edges) + 1)
    return Groups(baseline=_bin_shares(baseline, edges), current=_bin_shares(current, edges),
                  baseline_size=effective_size(n, baseline.rank_error(), share),
                  current_size=effective_size(m, current.rank_error(), share))


def categorical_groups(baseline: Mapping[str, float], current: Mapping[str, float], *,
                       baseline_total: float | None = None, current_total: float | None = None) -> Groups | None:
    """The baseline's frequent categories and one "other" group (rare and new values), as shares.

    ``*_total``: the number of values counted, when the mapping lists only the most frequent ones
    (statistics.json keeps at most 1,000 categories); default the mapping's sum.
    """
    n = float(baseline_total if baseline_total is not None else sum(baseline.values()))
    m = float(current_total if current_total is not None else sum(current.values()))
    if n <= 0 or m <= 0:
        return None
    smallest = max(MIN_CATEGORY_SHARE, MIN_EXPECTED_PER_BIN / m)
    frequent = sorted((value for value, count in baseline.items() if count / n >= smallest),
                      key=lambda value: (-baseline[value], value))[:MAX_CATEGORY_GROUPS]
    base = np.array([baseline[value] for value in frequent] + [0.0], dtype=np.float64)
    cur = np.array([current.get(value, 0) for value in frequent] + [0.0], dtype=np.float64)
    base[-1] = max(0.0, n - base[:-1].sum())
    cur[-1] = max(0.0, m - cur[:-1].sum())
    return Groups(baseline=base / n, current=cur / m, baseline_size=n, current_size=m)


def _table(groups: Groups) -> tuple[np.ndarray, np.ndarray]:
    """Observed and expected counts of the 2 x k table, empty columns dropped."""
    observed = np.vstack((groups.baseline * groups.baseline_size, groups.current * groups.current_size))
    observed = observed[:, observed.sum(axis=0) > 0]
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    return observed, expected


#: Below this many expected window values in a bin, a chi-square p-value is simulated instead: the
#: chi-square distribution's far tail, where the false-discovery control across features looks (a
#: p-value of 1e-4 and below), is too light for tables with few values per cell.
SIMULATE_BELOW_EXPECTED = 20
SIMULATIONS = 20_000
#: the least p-value the simulation gives: none of its draws reached the window's statistic
SIMULATED_P_VALUE_FLOOR = 1 / (1 + SIMULATIONS)
SIMULATION_SEED = 0
#: After the first 2,000 draws, this many at least as extreme put the p-value near 0.01 or above, far from
#: any discovery of the false-discovery control (which needs at most 0.005 / features).
SETTLED_EXCEEDANCES = 20


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x log y``, 0 where ``x`` is 0 (scipy.special.xlogy)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def _relative_entropy(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``p log(p / q)`` per element: 0 where ``p`` is 0, infinite where only ``q`` is (scipy.special.rel_entr)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p == 0, 0.0, np.where(q == 0, np.inf, p * np.log(np.where(p == 0, 1.0, p) / np.where(q == 0, 1.0, q))))


def _homogeneity_statistics(baseline: np.ndarray, current: np.ndarray, *, likelihood_ratio: bool) -> np.ndarray:
    """Pearson's (or the G) statistic of the 2 x k tables ``[baseline_row; current_row]`` for each row of
    ``current`` (and of ``baseline``, when it has rows too)."""
    column = baseline + current
    base_total = baseline.sum(axis=-1, keepdims=True)
    total = base_total + current.sum(axis=-1, keepdims=True)
    expected_base = base_total * column / total
    expected_current = current.sum(axis=-1, keepdims=True) * column / total
    with np.errstate(divide="ignore", invalid="ignore"):
        if likelihood_ratio:
            terms = _xlogy(baseline, baseline / expected_base) + _xlogy(current, current / expected_current)
            return 2.0 * np.nansum(np.where(column > 0, terms, 0.0), axis=-1)
        terms = (baseline - expected_base) ** 2 / expected_base + (current - expected_current) ** 2 / expected_current
        return np.nansum(np.where(column > 0, terms, 0.0), axis=-1)


def normal_sf(z: float) -> float:
    """``P(Z >= z)`` for a standard normal ``Z`` (scipy's ``norm.sf``, which is ``special.ndtr(-z)``), from the C
    library's ``erfc``: a p-value costs no import of scipy (a sixth of a second of CPU, taken from the workers
    that read a window's input)."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _chi_square_p_value(groups: Groups, *, likelihood_ratio: bool) -> float:
    baseline = groups.baseline * groups.baseline_size
    current = groups.current * groups.current_size
    present = (baseline + current) > 0
    if present.sum() < 2:
        return math.nan
    baseline, current = baseline[present], current[present]
    statistic = float(_homogeneity_statistics(baseline, current[np.newaxis, :], likelihood_ratio=likelihood_ratio)[0])
    size, baseline_size = round(groups.current_size), round(groups.baseline_size)
    pooled = (baseline + current) / (baseline.sum() + current.sum())
    if size * pooled.min() >= SIMULATE_BELOW_EXPECTED or size == 0 or baseline_size == 0:
        return chi_square_survival(max(statistic, 0.0), len(baseline) - 1)
    # few values per cell: the share of pairs of samples of both sizes, drawn from the pooled shares (no
    # change), whose statistic is at least as large; both sides are drawn, since a small baseline is as
    # noisy as the window (seeded: the same window always gets the same p-value). A first tenth of the
    # draws settles a p-value far above any decision; only small ones take them all.
    generator = np.random.default_rng(SIMULATION_SEED)
    exceeding = drawn = 0
    for batch in (SIMULATIONS // 10, SIMULATIONS - SIMULATIONS // 10):
        draws = generator.multinomial(size, pooled, size=batch).astype(np.float64)
        bases = generator.multinomial(baseline_size, pooled, size=batch).astype(np.float64)
        simulated = _homogeneity_statistics(bases, draws, likelihood_ratio=likelihood_ratio)
        exceeding += int(np.count_nonzero(simulated >= statistic * (1 - 1e-12)))
        drawn += batch
        if exceeding >= SETTLED_EXCEEDANCES:
            break
    return float((1 + exceeding) / (1 + drawn))


def g_test_p_value(groups: Groups) -> float:
    """Two-sample G-test (likelihood ratio) of homogeneity: ``G = 2 sum O ln(O / E)``, chi-square with
    ``k - 1`` degrees of freedom (simulated when a bin expects fewer than 20 window values); NaN with
    fewer than 2 non-empty groups."""
    return _chi_square_p_value(groups, likelihood_ratio=True)


def pearson_p_value(groups: Groups) -> float:
    """Two-sample Pearson chi-square of homogeneity, ``k - 1`` degrees of freedom (simulated when a bin
    expects fewer than 20 window values)."""
    return _chi_square_p_value(groups, likelihood_ratio=False)


def two_proportion_p_value(groups: Groups) -> float:
    """The smallest two-sided p-value of a pooled two-proportion z-test per group, times the number of
    groups (Bonferroni), at most 1."""
    n, m = groups.baseline_size, groups.current_size
    pooled = (groups.baseline * n + groups.current * m) / (n + m)
    keep = (pooled > 0) & (pooled < 1)
    if keep.sum() < 2 or n <= 0 or m <= 0:
        return math.nan
    z = np.abs(groups.baseline[keep] - groups.current[keep]) / np.sqrt(pooled[keep] * (1 - pooled[keep]) * (1 / n + 1 / m))
    return float(min(1.0, 2.0 * normal_sf(float(z.max())) * keep.sum()))


def rise_p_value(baseline_count: int, baseline_size: int, current_count: int, current_size: int) -> float:
    """One-sided Fisher's exact test that the window's share ``current_count / current_size`` is above the
    baseline's ``baseline_count / baseline_size``: ``P(X >= current_count)`` for ``X`` hypergeometric, the
    window's part of all ``baseline_count + current_count`` counted values given both sizes
    (``scipy.stats.fisher_exact(..., alternative="greater")``), summed in log space. Exact at any size: a
    window of 10 values is judged as soundly as one of a million, where a chi-square's simulation is not.

    The first term's logarithm comes from ``math.lgamma``; each next one from the one before, by the ratio of
    successive hypergeometric probabilities ``(K - k)(n - k) / ((k + 1)(N - K - n + k + 1))``. Terms farther than
    ``20 sqrt(n)`` from the mean are left out: together they weigh under ``2 exp(-800)`` (Hoeffding's bound), nothing
    in float64, and a window of millions of values then sums thousands of terms, not millions."""
    total, marked = baseline_size + current_size, baseline_count + current_count
    upper = min(marked, current_size)
    if current_count > upper:
        return 1.0
    mean = current_size * marked / total if total else 0.0
    reach = 20.0 * math.sqrt(current_size) + 10.0
    first_count = max(current_count, math.floor(mean - reach))
    last_count = min(upper, max(current_count, math.ceil(mean)) + math.ceil(reach))
    counts = np.arange(first_count, last_count + 1, dtype=np.float64)

    def log_choose(n: float, k: float) -> float:
        return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)

    first = log_choose(marked, first_count) + log_choose(total - marked, current_size - first_count) \
        - log_choose(total, current_size)
    before = counts[:-1]
    steps = (np.log(marked - before) + np.log(current_size - before)
             - np.log(before + 1) - np.log(total - marked - current_size + before + 1))
    terms = first + np.concatenate(([0.0], np.cumsum(steps)))
    top = float(terms.max())
    return float(min(1.0, math.exp(top + math.log(float(np.exp(terms - top).sum())))))


def largest_share_change(groups: Groups) -> float:
    """``max |q_i - p_i|`` over the bins or groups."""
    return float(np.max(np.abs(groups.current - groups.baseline)))


def psi(groups: Groups) -> float:
    """Population stability index ``sum (q - p) ln(q / p)``, shares floored at ``SHARE_FLOOR``."""
    p = np.maximum(groups.baseline, SHARE_FLOOR)
    q = np.maximum(groups.current, SHARE_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon(groups: Groups) -> float:
    """Jensen-Shannon distance in bits: ``sqrt((KL(p || a) + KL(q || a)) / 2)``, ``a = (p + q) / 2``."""
    p, q = groups.baseline, groups.current
    middle = (p + q) / 2
    divergence = (np.sum(_relative_entropy(p, middle)) + np.sum(_relative_entropy(q, middle))) / 2 / math.log(2)
    return float(math.sqrt(max(divergence, 0.0)))


def hellinger(groups: Groups) -> float:
    """Hellinger distance ``sqrt(1 - sum sqrt(p q))``."""
    return float(math.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(groups.baseline * groups.current))))))


def wasserstein(baseline: KllSketch, current: KllSketch, baseline_std: float | None) -> float:
    """Wasserstein-1 distance between the two sketches' distributions, ``integral |F_b - F_c| dx``,
    divided by the baseline's standard deviation (a constant baseline: 0 for the same constant, else
    infinite)."""
    items_a, cum_a = baseline._weighted_items()
    items_b, cum_b = current._weighted_items()
    if len(items_a) == 0 or len(items_b) == 0:
        return math.nan
    keys = np.union1d(items_a, items_b)
    gaps = np.abs(_cdf_at(items_a, cum_a, keys) - _cdf_at(items_b, cum_b, keys))
    distance = float(np.sum(gaps[:-1] * np.diff(keys)))
    if baseline_std is None or not math.isfinite(baseline_std) or baseline_std <= 0:
        return 0.0 if distance == 0 else math.inf
    return distance / baseline_std


#: what a drift method's p-value imports, when it imports anything (every other p-value is computed here): a
#: monitor run imports it on a thread of its own while its input is read (``jobs.parallel.import_quietly``), so
#: that the checks after the read do not wait for it
METHOD_IMPORTS: Mapping[str, tuple[str, ...]] = {"ks": ("scipy.stats",)}


def ks_p_value(statistic: float, n: float, m: float) -> float:
    """Two-sample Kolmogorov-Smirnov p-value, asymptotic: the one-sample distribution of ``D`` at the
    effective size ``round(n m / (n + m))`` (scipy's ``ks_2samp(method="asymp")``)."""
    if n <= 0 or m <= 0 or math.isnan(statistic):
        return math.nan
    effective = max(1, round(n * m / (n + m)))
    from scipy import stats  # scipy.stats takes a second to import: only the KS method pays it

    return float(min(1.0, max(0.0, stats.kstwo.sf(statistic, effective))))


_EVIDENCE: Mapping[str, Callable[[Groups], float]] = {
    "wasserstein": pearson_p_value, "psi": pearson_p_value, "jensen_shannon": pearson_p_value,
    "hellinger": pearson_p_value, "g_test": g_test_p_value, "chi_squared": pearson_p_value,
    "two_proportion_z": two_proportion_p_value,
}
_EFFECTS: Mapping[str, Callable[[Groups], float]] = {
    "psi": psi, "jensen_shannon": jensen_shannon, "hellinger": hellinger, "g_test": largest_share_change,
    "chi_squared": largest_share_change, "two_proportion_z": largest_share_change,
}


def measure_numeric(method: str, baseline: KllSketch, current: KllSketch,
                    baseline_std: float | None = None) -> DriftMeasure:
    """A numeric feature's drift by the registry ``method``."""
    if NUMERIC not in DRIFT_METHODS[method].kinds:
        raise ValueError(f"drift method {method!r} does not apply to numeric features")
    if method in ("linf_simple", "linf_robust"):
        return DriftMeasure(method, numeric_distance(baseline, current, robust=method == "linf_robust"), None)
    if method == "ks":
        statistic, n, m = numeric_linf(baseline, current)
        n_eff = effective_size(n, baseline.rank_error(), 0.5)
        m_eff = effective_size(m, current.rank_error(), 0.5)
        return DriftMeasure(method, statistic, ks_p_value(statistic, n_eff, m_eff))
    groups = numeric_groups(baseline, current)
    if groups is None:
        return DriftMeasure(method, math.nan, math.nan)
    effect = wasserstein(baseline, current, baseline_std) if method == "wasserstein" else _EFFECTS[method](groups)
    return DriftMeasure(method, effect, _EVIDENCE[method](groups))


def measure_categorical(method: str, baseline: Mapping[str, float], current: Mapping[str, float], *,
                        baseline_total: float | None = None, current_total: float | None = None) -> DriftMeasure:
    """A String feature's drift by the registry ``method`` (totals as in ``categorical_groups``)."""
    if CATEGORICAL not in DRIFT_METHODS[method].kinds:
        raise ValueError(f"drift method {method!r} does not apply to String features")
    if method in ("linf_simple", "linf_robust"):
        return DriftMeasure(method, categorical_distance(baseline, current, robust=method == "linf_robust"), None)
    groups = categorical_groups(baseline, current, baseline_total=baseline_total, current_total=current_total)
    if groups is None or len(groups.baseline) < 2:
        return DriftMeasure(method, math.nan, math.nan)
    return DriftMeasure(method, _EFFECTS[method](groups), _EVIDENCE[method](groups))


Key = TypeVar("Key", bound=Hashable)


def benjamini_hochberg(p_values: Mapping[Key, float], level: float) -> frozenset[Key]:
    """The keys whose p-values are discoveries at false-discovery rate ``level`` (Benjamini-Hochberg:
    the largest ``k`` with ``p_(k) <= k * level / count``, and every p-value up to it). NaN p-values
    take part in nothing. Tied p-values are found together, so the keys' order never matters."""
    ranked = sorted(((p, key) for key, p in p_values.items() if p is not None and not math.isnan(p)),
                    key=lambda pair: pair[0])
    count = len(ranked)
    cutoff = 0
    for rank, (p, _) in enumerate(ranked, start=1):
        if p <= rank * level / count:
            cutoff = rank
    return frozenset(key for _, key in ranked[:cutoff])
