"""The demo's embedded data: a churn model's validation set, simulated captured traffic and labels.

Deterministic (seeded), so the baseline committed in ``demo/baseline/`` can be checked against a
fresh run of the analyzer. The data-quality dataset follows the built-in's convention for endpoints
that capture input and output: the model's output (``churn_score``) first, then the request's
features. The labelled dataset adds the true outcome (``churn``) and the predicted label, for the
model-quality and bias baselines; captured requests carry an inference id that labels refer to.
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
            "customer_service_calls", "senior", "plan", "state")
COLUMNS = ("churn_score", *FEATURES)
LABELLED_COLUMNS = (*FEATURES, "churn_score", "churn")
THRESHOLD = 0.5
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
    """Data drift (inputs change) and concept drift (outcomes stop following the model)."""
    bias_shift: bool = False
    """The model's scores for seniors are raised: its outcome changes for one group."""
    note: str = "normal traffic"


def _score(rows: dict[str, np.ndarray]) -> np.ndarray:
    """A fixed logistic 'model' so that outputs depend on the inputs like a real model's."""
    z = (-4.0 + 0.012 * rows["day_minutes"] + 0.6 * rows["customer_service_calls"]
         - 0.5 * (rows["plan"] == "premium"))
    return np.round(1.0 / (1.0 + np.exp(-z)), 6)


def generate(n: int, rng: np.random.Generator, *, drift: bool = False,
             bias_shift: bool = False) -> dict[str, np.ndarray]:
    """``n`` records with outcomes; with ``drift`` the day minutes grow, premium plans vanish and the
    outcomes stop following the model; with ``bias_shift`` seniors get much higher scores."""
    rows: dict[str, np.ndarray] = {
        "account_length": rng.integers(1, 240, n),
        "day_minutes": np.round(rng.normal(180.0 * (1.45 if drift else 1.0), 50.0, n).clip(0), 1),
        "eve_minutes": np.round(rng.normal(200.0, 50.0, n).clip(0), 1),
        "night_minutes": np.round(rng.normal(200.0, 50.0, n).clip(0), 1),
        "intl_calls": rng.poisson(4.5, n),
        "customer_service_calls": rng.poisson(1.6, n),
        "senior": (rng.random(n) < 0.25).astype(np.int64),
        "plan": rng.choice(PLANS, n, p=(0.75, 0.25, 0.0) if drift else (0.5, 0.3, 0.2)),
        "state": rng.choice(STATES, n, p=(0.3, 0.25, 0.2, 0.15, 0.1)),
    }
    rows["churn_score"] = _score(rows)
    # The true outcome follows the model's score, except under concept drift.
    truth = np.full(n, 0.5) if drift else rows["churn_score"]
    rows["churn"] = (rng.random(n) < truth).astype(np.int64)
    if bias_shift:
        rows["churn_score"] = np.where(rows["senior"] == 1, np.minimum(rows["churn_score"] + 0.45, 0.99),
                                       rows["churn_score"]).round(6)
    return rows


def _csv_rows(rows: dict[str, np.ndarray], columns: tuple[str, ...]) -> Iterator[list[str]]:
    n = len(rows[columns[0]])
    for i in range(n):
        yield [str(rows[c][i]) for c in columns]


def write_training_set(path: Path, *, n: int = 2000, seed: int = 7, columns: tuple[str, ...] = COLUMNS) -> Path:
    """The validation set the baselines are computed from (CSV with header): ``COLUMNS`` for data
    quality, ``LABELLED_COLUMNS`` (same rows) for model quality and bias."""
    rows = generate(n, np.random.default_rng(seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(_csv_rows(rows, columns))
    return path


def analysis_config() -> dict:
    """Clarify's analysis_config.json for the demo: is the model fair to seniors?"""
    return {
        "dataset_type": "text/csv",
        "headers": list(LABELLED_COLUMNS),
        "label": "churn",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "senior", "value_or_threshold": [1]}],
        "probability_threshold": THRESHOLD,
        "predicted_label": "churn_score",
        # Ratio metrics such as DI and DCA swing widely on an hour's few hundred seniors: the demo
        # watches differences, which are stable around an unbiased baseline.
        "methods": {"pre_training_bias": {"methods": ["CI", "DPL"]},
                    "post_training_bias": {"methods": ["DPPL", "AD", "RD", "DAR"]}},
    }


def demo_hours(first: datetime) -> list[TrafficHour]:
    """Seven hours: normal, normal, no traffic, two drifted hours, seniors' scores raised, normal."""
    drift = "drift: day minutes +45%, no premium plans, 8% calls missing, outcomes no longer follow the model"
    hours = [TrafficHour(start=first, records=600),
             TrafficHour(start=first, records=580),
             TrafficHour(start=first, records=0, note="endpoint idle: no traffic"),
             TrafficHour(start=first, records=620, drift=True, note=drift),
             TrafficHour(start=first, records=610, drift=True, note=drift),
             TrafficHour(start=first, records=640, bias_shift=True, note="bias: the model raises seniors' churn scores"),
             TrafficHour(start=first, records=590)]
    return [TrafficHour(start=first + timedelta(hours=i), records=h.records, drift=h.drift, bias_shift=h.bias_shift,
                        note=h.note) for i, h in enumerate(hours)]


def write_capture(root: Path, hours: list[TrafficHour], *, ground_truth: Path, seed: int = 11) -> Path:
    """Captured traffic in SageMaker's layout, ``<root>/<endpoint>/<variant>/yyyy/mm/dd/HH/*.jsonl``, and
    the labels of its requests in the ground-truth layout, ``<ground_truth>/yyyy/mm/dd/HH/*.jsonl``
    (uploaded in the same hour, one object per hour)."""
    rng = np.random.default_rng(seed)
    for number, hour in enumerate(hours):
        if hour.records == 0:
            continue
        rows = generate(hour.records, rng, drift=hour.drift, bias_shift=hour.bias_shift)
        labels = ground_truth / hour.start.strftime("%Y/%m/%d/%H")
        labels.mkdir(parents=True, exist_ok=True)
        with (labels / f"labels-{number}.jsonl").open("w") as f:
            for i in range(hour.records):
                f.write(json.dumps({"groundTruthData": {"data": str(rows["churn"][i]), "encoding": "CSV"},
                                    "eventMetadata": {"eventId": f"{number}-{i}"}, "eventVersion": "0"}) + "\n")
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
                        "inferenceId": f"{number}-{i}",
                        "inferenceTime": (hour.start + timedelta(seconds=int(offsets[i]))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    },
                    "eventVersion": "0",
                }
                f.write(json.dumps(record) + "\n")
    return root
