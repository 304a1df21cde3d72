"""The demo's embedded data: a churn model's validation set and simulated captured traffic.

Deterministic (seeded), so the baseline committed in ``demo/baseline/`` can be checked against a
fresh run of the analyzer. Columns follow the built-in's convention for endpoints that capture
input and output: the model's output (``churn_score``) first, then the request's features.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

FEATURES = ("account_length", "day_minutes", "eve_minutes", "night_minutes", "intl_calls",
            "customer_service_calls", "plan", "state")
COLUMNS = ("churn_score", *FEATURES)
PLANS = ("basic", "plus", "premium")
STATES = ("CA", "NY", "TX", "WA", "FL")
ENDPOINT = "churn-demo"
VARIANT = "AllTraffic"


@dataclass(frozen=True, kw_only=True)
class TrafficHour:
    """One hour of simulated traffic and what was done to it."""

    start: datetime
    records: int
    drift: bool = False
    note: str = "normal traffic"


def _score(rows: dict[str, np.ndarray]) -> np.ndarray:
    """A fixed logistic 'model' so that outputs depend on the inputs like a real model's."""
    z = (-4.0 + 0.012 * rows["day_minutes"] + 0.6 * rows["customer_service_calls"]
         - 0.5 * (rows["plan"] == "premium"))
    return np.round(1.0 / (1.0 + np.exp(-z)), 6)


def generate(n: int, rng: np.random.Generator, *, drift: bool = False) -> dict[str, np.ndarray]:
    """``n`` records; with ``drift`` the day minutes grow, premium plans vanish and calls go missing."""
    rows: dict[str, np.ndarray] = {
        "account_length": rng.integers(1, 240, n),
        "day_minutes": np.round(rng.normal(180.0 * (1.45 if drift else 1.0), 50.0, n).clip(0), 1),
        "eve_minutes": np.round(rng.normal(200.0, 50.0, n).clip(0), 1),
        "night_minutes": np.round(rng.normal(200.0, 50.0, n).clip(0), 1),
        "intl_calls": rng.poisson(4.5, n),
        "customer_service_calls": rng.poisson(1.6, n),
        "plan": rng.choice(PLANS, n, p=(0.75, 0.25, 0.0) if drift else (0.5, 0.3, 0.2)),
        "state": rng.choice(STATES, n, p=(0.3, 0.25, 0.2, 0.15, 0.1)),
    }
    rows["churn_score"] = _score(rows)
    return rows


def _csv_rows(rows: dict[str, np.ndarray], columns: tuple[str, ...]) -> Iterator[list[str]]:
    n = len(rows[columns[0]])
    for i in range(n):
        yield [str(rows[c][i]) for c in columns]


def write_training_set(path: Path, *, n: int = 2000, seed: int = 7) -> Path:
    """The validation set the baseline is computed from (CSV with header)."""
    rows = generate(n, np.random.default_rng(seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(_csv_rows(rows, COLUMNS))
    return path


def demo_hours(first: datetime) -> list[TrafficHour]:
    """Six hours: normal, normal, no traffic, two drifted hours, normal again."""
    notes = [(300, False, "normal traffic"), (280, False, "normal traffic"), (0, False, "endpoint idle: no traffic"),
             (320, True, "drift injected: day minutes +45%, no premium plans, 8% calls missing"),
             (310, True, "drift injected: day minutes +45%, no premium plans, 8% calls missing"),
             (290, False, "normal traffic")]
    return [TrafficHour(start=first + timedelta(hours=i), records=r, drift=d, note=t)
            for i, (r, d, t) in enumerate(notes)]


def write_capture(root: Path, hours: list[TrafficHour], *, seed: int = 11) -> Path:
    """Captured traffic in SageMaker's layout: ``<root>/<endpoint>/<variant>/yyyy/mm/dd/HH/*.jsonl``."""
    rng = np.random.default_rng(seed)
    for hour in hours:
        if hour.records == 0:
            continue
        rows = generate(hour.records, rng, drift=hour.drift)
        folder = root / ENDPOINT / VARIANT / hour.start.strftime("%Y/%m/%d/%H")
        folder.mkdir(parents=True, exist_ok=True)
        offsets = np.sort(rng.integers(0, 3600, hour.records))
        name = f"{hour.start.strftime('%M-%S')}-000-{uuid.UUID(int=int(rng.integers(0, 2**63)))}.jsonl"
        with (folder / name).open("w") as f:
            for i, features in enumerate(_csv_rows(rows, FEATURES)):
                if hour.drift and rng.random() < 0.08:
                    features[FEATURES.index("customer_service_calls")] = ""
                record = {
                    "captureData": {
                        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                          "data": ",".join(features), "encoding": "CSV"},
                        "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                           "data": str(rows["churn_score"][i]), "encoding": "CSV"},
                    },
                    "eventMetadata": {
                        "eventId": str(uuid.UUID(int=int(rng.integers(0, 2**63)))),
                        "inferenceTime": (hour.start + timedelta(seconds=int(offsets[i]))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    },
                    "eventVersion": "0",
                }
                f.write(json.dumps(record) + "\n")
    return root
