"""statistics.json (data quality): written from a profile, read back for drift (contract section 3)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from model_monitor_analyzer.checks.data_quality import BaselineFeature
from model_monitor_analyzer.profile.dataset import ColumnProfile, DatasetProfile
from model_monitor_analyzer.profile.datatypes import InferredType, category_name
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


# The fields of a feature's statistics that the monitor and its report read, and what each must be.
_NUMBER = (int, float)
_STAT_FIELDS: dict[str, tuple[type, ...]] = {
    "mean": _NUMBER, "sum": _NUMBER, "std_dev": _NUMBER, "min": _NUMBER, "max": _NUMBER, "distinct_count": _NUMBER,
}
_COUNT_FIELDS = ("num_present", "num_missing")
_BUCKET_FIELDS: dict[str, tuple[str, ...]] = {"kll": ("lower_bound", "upper_bound", "count"), "categorical": ("count",)}


def _is(value: object, kinds: tuple[type, ...], *, optional: bool = True) -> bool:
    if value is None:
        return optional
    return isinstance(value, kinds) and not isinstance(value, bool)


def _stats_problem(stats: object, where: str) -> str | None:
    if not isinstance(stats, Mapping):
        return f"{where} is not an object"
    common = stats.get("common", {})
    if not isinstance(common, Mapping):
        return f"{where}.common is not an object"
    for key in _COUNT_FIELDS:
        if not _is(common.get(key), _NUMBER) or (common.get(key) or 0) < 0:
            return f"{where}.common.{key} is not a count"
    for key, kinds in _STAT_FIELDS.items():
        if not _is(stats.get(key), kinds):
            return f"{where}.{key} is not a number"
    distribution = stats.get("distribution", {})
    if not isinstance(distribution, Mapping):
        return f"{where}.distribution is not an object"
    for kind, fields in _BUCKET_FIELDS.items():
        part = distribution.get(kind) or {}
        buckets = part.get("buckets", []) if isinstance(part, Mapping) else None
        if not isinstance(buckets, list) or not all(
            isinstance(b, Mapping) and all(_is(b.get(f), _NUMBER, optional=False) for f in fields) for b in buckets
        ):
            return f"{where}.distribution.{kind}.buckets are not buckets with numeric {', '.join(fields)}"
        if kind == "categorical" and not all(isinstance(b.get("value"), (str, int, float)) for b in buckets):
            return f"{where}.distribution.categorical.buckets have a value that is not text or a number"
    sketch = (distribution.get("kll") or {}).get("sketch") if isinstance(distribution.get("kll"), Mapping) else None
    if sketch is not None and not _sketch_ok(sketch):
        return f"{where}.distribution.kll.sketch is not a KLL sketch (parameters c and k, data: lists of numbers)"
    return None


def _sketch_ok(sketch: object) -> bool:
    if not isinstance(sketch, Mapping):
        return False
    params = sketch.get("parameters") or {}
    data = sketch.get("data")
    return (
        isinstance(params, Mapping)
        and _is(params.get("k"), _NUMBER) and (params.get("k") is None or 1 <= params["k"] <= 1 << 16)
        and _is(params.get("c"), _NUMBER) and (params.get("c") is None or 0 < params["c"] < 1)
        and (data is None or (isinstance(data, list) and all(
            isinstance(level, list) and all(_is(v, _NUMBER, optional=False) and math.isfinite(v) for v in level)
            for level in data)))
    )


def statistics_problem(document: Mapping) -> str | None:
    """What makes ``document`` no statistics.json the monitor can read (a field of the wrong type),
    or None. Unknown fields are ignored, as the built-in's reader ignores them."""
    features = document.get("features")
    if not isinstance(features, list):
        return "statistics has no 'features' list"
    names: set[str] = set()
    for index, feature in enumerate(features):
        if not isinstance(feature, Mapping) or not isinstance(feature.get("name"), str):
            return f"statistics feature #{index} has no 'name' text"
        where = f"feature {feature['name']!r}"
        if feature["name"] in names:
            return f"{where} is listed twice"
        names.add(feature["name"])
        for key in ("numerical_statistics", "string_statistics"):
            if key in feature and (problem := _stats_problem(feature[key], f"{where} {key}")):
                return problem
    return None


def baseline_features(document: Mapping) -> dict[str, BaselineFeature]:
    """Features of a statistics.json (ours or the built-in's) as drift inputs.

    Raises ``ValueError`` naming the feature when the structure is not the expected one
    (``statistics_problem``).
    """
    problem = statistics_problem(document)
    if problem is not None:
        raise ValueError(problem)
    result: dict[str, BaselineFeature] = {}
    for feature in document["features"]:
        name = feature["name"]
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
            categories = {}
            for bucket in buckets:  # long values as the profile keeps them (a built-in's baseline holds them whole)
                if isinstance(bucket, Mapping) and "value" in bucket:
                    name_of = category_name(str(bucket["value"]))
                    categories[name_of] = categories.get(name_of, 0.0) + float(bucket["count"])
        stats = numeric if isinstance(numeric, Mapping) else strings if isinstance(strings, Mapping) else {}
        common = stats.get("common") or {}
        counted = (common.get("num_present") or 0) + (common.get("num_missing") or 0)
        result[name] = BaselineFeature(
            name=name, inferred_type=kind, sketch=sketch, categories=categories,
            mean=numeric.get("mean") if isinstance(numeric, Mapping) else None,
            std_dev=numeric.get("std_dev") if isinstance(numeric, Mapping) else None,
            completeness=(common.get("num_present") or 0) / counted if counted else None,
            present=float(common.get("num_present") or 0) if counted else None,
            missing=float(common.get("num_missing") or 0) if counted else None,
        )
    return result
