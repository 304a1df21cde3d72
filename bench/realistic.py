"""The "realistic" data set: features as users' own pipelines write them, through pandas.

The "rounded" set of ``bench.generate`` holds 2-decimal numbers, which the analyzer reads on its
fastest path. Users' files look different, and this set is drawn to look like them:

* the baseline CSV is written by ``DataFrame.to_csv(index=False)``: floats at full precision (and a
  few per float column small enough that pandas writes them in exponent notation, ``3.2e-05``),
  integers, booleans as ``True``/``False``, an integer column with gaps written as floats (``2.0``,
  pandas' upcast of an int column holding NaN), low-cardinality categories, one high-cardinality
  string column (postcodes, 40,000 of them) and empty fields in several columns;
* it holds the features alone: the endpoint receives exactly those columns as a CSV row
  (``endpointInput``) and answers with the model's score (``endpointOutput``), and the capture
  records both, as a real endpoint does when input and output capture are on.

``draw_features`` gives one chunk of features as a DataFrame, ``feature_lines`` their CSV rows as
pandas writes them, ``score_text`` the model's answer per row. ``bench.generate`` writes the files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

REGIONS = ["us-east", "us-west", "eu-central", "eu-west", "ap-south", "ap-northeast", "sa-east", "af-south"]
PLANS = ["free", "basic", "plus", "pro", "enterprise"]
DEVICES = ["desktop", "mobile", "tablet"]

POSTCODES = 40_000
# Postcodes that only the capture sees (new customers from new places).
NEW_POSTCODES = 2_000
NEW_POSTCODE_SHARE = 0.05

# Float columns get this many near-zero readings per chunk (a sensor floor, a rounding residue),
# which pandas writes in exponent notation; at least a few per column in any file of one chunk or more.
TINY_PER_CHUNK = 4

FLOAT_COLUMNS = (
    "income",
    "account_balance",
    "avg_session_minutes",
    "days_since_login",
    "discount_rate",
    "cart_value",
    "latency_ms",
    "risk_score",
)

# Columns in the order of the CSV. Drift in the capture: income shifts up, sessions stretch, logins
# get staler, devices flip towards mobile, "enterprise" appears in plan, credit_score goes missing
# twice as often and 5 % of traffic comes from postcodes the baseline never saw.
FEATURE_NAMES: tuple[str, ...] = (
    "age",
    "tenure_months",
    "num_purchases",
    "page_views",
    "credit_score",
    "support_calls",
    *FLOAT_COLUMNS,
    "is_premium",
    "email_opt_in",
    "region",
    "device",
    "plan",
    "postcode",
)

# What each kind of column is, for the results page.
COLUMN_KINDS = {
    "integers": ("age", "tenure_months", "num_purchases", "page_views", "credit_score"),
    "integers written as floats (with gaps)": ("support_calls",),
    "full-precision floats": FLOAT_COLUMNS,
    "booleans": ("is_premium", "email_opt_in"),
    "categories": ("region", "device", "plan"),
    "high-cardinality strings": ("postcode",),
}
MISSING_COLUMNS = ("credit_score", "support_calls", "income", "cart_value", "email_opt_in", "device")


def postcode_universe(seed: int) -> np.ndarray:
    """``POSTCODES + NEW_POSTCODES`` distinct UK-style postcodes (``"KT7 3QB"``), in a fixed order.

    Letters and a space make them strings to every reader (US ZIP codes would be read as integers).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(12,)))
    letters = np.array(list("ABCDEFGHJKLMNPRSTUWYZ"))
    wanted = POSTCODES + NEW_POSTCODES
    n = wanted * 2  # collisions are rare; draw extra and keep the first distinct ones
    codes = (
        pd.Series(letters[rng.integers(0, len(letters), n)])
        + pd.Series(letters[rng.integers(0, len(letters), n)])
        + pd.Series(rng.integers(1, 30, n)).astype(str)
        + " "
        + pd.Series(rng.integers(0, 10, n)).astype(str)
        + pd.Series(letters[rng.integers(0, len(letters), n)])
        + pd.Series(letters[rng.integers(0, len(letters), n)])
    )
    unique = codes.drop_duplicates().to_numpy(dtype=object)
    return unique[:wanted]


def _postcode_weights() -> np.ndarray:
    """Zipf-like popularity over the baseline's postcodes: a few busy towns, a long tail."""
    weights = 1.0 / np.arange(10, POSTCODES + 10) ** 0.8
    return weights / weights.sum()


def _draw_postcodes(rng: np.random.Generator, n: int, drifted: bool, universe: np.ndarray) -> np.ndarray:
    index = rng.choice(POSTCODES, size=n, p=_postcode_weights())
    if drifted:
        new = rng.random(n) < NEW_POSTCODE_SHARE
        index[new] = POSTCODES + rng.integers(0, NEW_POSTCODES, int(new.sum()))
    return universe[index]


def _choice(rng: np.random.Generator, values: list[str], weights: list[float], n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p / p.sum())]


def _with_tiny_values(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """``values`` with ``TINY_PER_CHUNK`` of them replaced by magnitudes from 1e-9 to 1e-5."""
    values = values.copy()
    at = rng.choice(len(values), size=min(TINY_PER_CHUNK, len(values)), replace=False)
    values[at] = rng.uniform(1.0, 9.99, len(at)) * 10.0 ** rng.integers(-9, -5, len(at))
    return values


def _with_missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """Float ``values`` with about ``share`` of them NaN (an empty field in the CSV)."""
    values = values.astype(float)
    values[rng.random(len(values)) < share] = np.nan
    return values


def draw_features(rng: np.random.Generator, n: int, *, drifted: bool, postcodes: np.ndarray) -> pd.DataFrame:
    """``n`` rows of the 20 features, with the dtypes a user's pandas pipeline would have."""
    floats = {
        "income": rng.lognormal(10.8 + (0.35 if drifted else 0.0), 0.5, n),
        "account_balance": rng.normal(2500, 1800, n),
        "avg_session_minutes": rng.gamma(2.0, 6.0 * (1.6 if drifted else 1.0), n),
        "days_since_login": rng.exponential(9.0 if drifted else 4.0, n),
        "discount_rate": rng.beta(2, 8, n),
        "cart_value": rng.lognormal(4.0, 0.9, n),
        "latency_ms": rng.weibull(1.5, n) * 120.0,
        "risk_score": rng.standard_normal(n),
    }
    floats = {name: _with_tiny_values(rng, values) for name, values in floats.items()}
    floats["income"] = _with_missing(rng, floats["income"], 0.01)
    floats["cart_value"] = _with_missing(rng, floats["cart_value"], 0.02)
    credit = pd.array(np.clip(np.rint(rng.normal(680, 60, n)), 300, 850).astype(np.int64), dtype="Int64")
    credit[rng.random(n) < (0.06 if drifted else 0.03)] = pd.NA
    opt_in = (rng.random(n) < 0.45).astype(object)
    opt_in[rng.random(n) < 0.04] = None
    device = _choice(rng, DEVICES, [25, 65, 10] if drifted else [55, 35, 10], n)
    device[rng.random(n) < 0.005] = None
    columns = {
        "age": np.clip(np.rint(rng.normal(41, 12, n)), 18, 90).astype(np.int64),
        "tenure_months": rng.geometric(1 / 30, n).astype(np.int64),
        "num_purchases": rng.poisson(7.5, n).astype(np.int64),
        "page_views": rng.negative_binomial(3, 0.1, n).astype(np.int64),
        "credit_score": credit,
        "support_calls": _with_missing(rng, rng.poisson(1.2, n), 0.01),
        **floats,
        "is_premium": rng.random(n) < 0.2,
        "email_opt_in": opt_in,
        "region": _choice(rng, REGIONS, [30, 22, 14, 11, 9, 7, 5, 2], n),
        "device": device,
        "plan": _choice(rng, PLANS, [36, 27, 18, 9, 10] if drifted else [40, 30, 20, 10, 0], n),
        "postcode": _draw_postcodes(rng, n, drifted, postcodes),
    }
    return pd.DataFrame({name: columns[name] for name in FEATURE_NAMES})


def score(frame: pd.DataFrame) -> np.ndarray:
    """The model's churn probability for each row (so the output moves with the inputs)."""
    logit = (
        -1.5
        + 0.4 * (frame["support_calls"].fillna(0).to_numpy() - 1.2)
        - 0.02 * (frame["tenure_months"].to_numpy() - 30)
        + 0.08 * (frame["days_since_login"].to_numpy() - 4)
        + (frame["device"].to_numpy() == "mobile") * 0.3
    )
    return 1.0 / (1.0 + np.exp(-logit.astype(float)))


def feature_csv(frame: pd.DataFrame, *, header: bool) -> str:
    """The rows as ``DataFrame.to_csv(index=False)`` writes them (a header line when asked)."""
    return frame.to_csv(index=False, header=header, lineterminator="\n")


def feature_lines(frame: pd.DataFrame) -> pa.Array:
    """Each row's CSV text without its line end: the body a client sends to the endpoint."""
    return pa.array(feature_csv(frame, header=False).split("\n")[:-1], type=pa.string())


def score_text(scores: np.ndarray) -> pa.Array:
    """The endpoint's answer per row: the probability at full precision, as ``str(float)`` gives it."""
    return pa.array(scores.astype(str).tolist(), type=pa.string())
