"""statistics.json (data quality): written from a profile, read back for drift (contract section 3)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from model_monitor_analyzer.checks.data_quality import BaselineFeature
from model_monitor_analyzer.profile.dataset import ColumnProfile, DatasetProfile
from model_monitor_analyzer.profile.datatypes import InferredType
from model_monitor_analyzer.profile.kll import DEFAULT_SHRINKING_FACTOR, DEFAULT_SKETCH_SIZE, KllSketch

FORMAT_VERSION = 0.0
MAX_CATEGORICAL_BUCKETS = 1000


def _finite(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else value


def numerical_statistics(column: ColumnProfile) -> dict:
    """``numerical_statistics`` of one numeric feature (KLL buckets and sketch in Deequ's layout)."""
    moments = column.moments
    body: dict = {
        "common": {"num_present": column.present, "num_missing": column.nulls},
        "mean": _finite(moments.mean),
        "sum": moments.sum,
        "std_dev": _finite(moments.std_dev),
        "min": _finite(moments.minimum),
        "max": _finite(moments.maximum),
    }
    if moments.count:
        buckets = column.sketch.buckets(moments.minimum, moments.maximum)
        body["distribution"] = {
            "kll": {
                "buckets": [{"lower_bound": lo, "upper_bound": hi, "count": count} for lo, hi, count in buckets],
                "sketch": {
                    "parameters": {"c": column.sketch.c, "k": float(column.sketch.k)},
                    "data": column.sketch.to_data(),
                },
            }
        }
    return body


def string_statistics(column: ColumnProfile) -> dict:
    """``string_statistics`` of one String feature: distinct count, most frequent values first
    (exact up to ``profile.categories.EXACT_DISTINCT_CAP`` distinct values, estimated past it)."""
    categories = column.categories or {}
    ranked = sorted(categories.items(), key=lambda item: (-item[1], item[0]))[:MAX_CATEGORICAL_BUCKETS]
    return {
        "common": {"num_present": column.present, "num_missing": column.nulls},
        "distinct_count": column.distinct_count,
        "distribution": {"categorical": {"buckets": [{"value": v, "count": c} for v, c in ranked]}},
    }


def feature_statistics(column: ColumnProfile) -> dict:
    """One entry of ``features``."""
    kind = column.inferred_type
    entry: dict = {"name": column.name, "inferred_type": kind.value}
    if kind in (InferredType.INTEGRAL, InferredType.FRACTIONAL):
        entry["numerical_statistics"] = numerical_statistics(column)
    elif kind is InferredType.STRING:
        entry["string_statistics"] = string_statistics(column)
    else:
        entry["string_statistics"] = {"common": {"num_present": 0, "num_missing": column.nulls}}
    return entry


def statistics_document(profile: DatasetProfile, *, names: Sequence[str] | None = None) -> dict:
    """The whole statistics.json for ``profile`` (features in ``names`` order, default column order)."""
    order = list(names) if names is not None else list(profile.columns)
    return {
        "version": FORMAT_VERSION,
        "dataset": {"item_count": profile.item_count},
        "features": [feature_statistics(profile.columns[name]) for name in order if name in profile.columns],
    }


def _inferred_type(value: object) -> InferredType:
    for kind in InferredType:
        if kind.value == value:
            return kind
    raise ValueError(f"unknown inferred_type {value!r} (expected Integral, Fractional, String or Unknown)")


def baseline_features(document: Mapping) -> dict[str, BaselineFeature]:
    """Features of a statistics.json (ours or the built-in's) as drift inputs.

    Raises ``ValueError`` naming the feature when the structure is not the expected one.
    """
    features = document.get("features")
    if not isinstance(features, list):
        raise ValueError("statistics has no 'features' list")
    result: dict[str, BaselineFeature] = {}
    for index, feature in enumerate(features):
        if not isinstance(feature, Mapping) or "name" not in feature:
            raise ValueError(f"statistics feature #{index} has no 'name'")
        name = str(feature["name"])
        kind = _inferred_type(feature.get("inferred_type"))
        sketch = None
        categories = None
        numeric = feature.get("numerical_statistics")
        if isinstance(numeric, Mapping):
            kll = (numeric.get("distribution") or {}).get("kll") or {}
            raw = kll.get("sketch") or {}
            if isinstance(raw.get("data"), list):
                params = raw.get("parameters") or {}
                sketch = KllSketch.from_data(
                    raw["data"],
                    k=int(params.get("k", DEFAULT_SKETCH_SIZE)),
                    c=float(params.get("c", DEFAULT_SHRINKING_FACTOR)),
                )
        strings = feature.get("string_statistics")
        if isinstance(strings, Mapping):
            buckets = ((strings.get("distribution") or {}).get("categorical") or {}).get("buckets") or []
            categories = {str(b["value"]): float(b["count"]) for b in buckets if isinstance(b, Mapping) and "value" in b}
        stats = numeric if isinstance(numeric, Mapping) else strings if isinstance(strings, Mapping) else {}
        common = stats.get("common") or {}
        counted = (common.get("num_present") or 0) + (common.get("num_missing") or 0)
        result[name] = BaselineFeature(
            name=name, inferred_type=kind, sketch=sketch, categories=categories,
            mean=numeric.get("mean") if isinstance(numeric, Mapping) else None,
            std_dev=numeric.get("std_dev") if isinstance(numeric, Mapping) else None,
            completeness=(common.get("num_present") or 0) / counted if counted else None,
        )
    return result
