"""Which SageMaker document a JSON object is, by its content, so that a file given in the wrong
place is refused with what it is and where it goes (rather than read as something else)."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from model_monitor_analyzer.errors import AnalyzerInputError


class DocumentKind(enum.Enum):
    """The documents the analyzer reads, with the option that takes each on the command line."""

    DATA_QUALITY_STATISTICS = ("data-quality statistics (statistics.json)", "--statistics")
    DATA_QUALITY_CONSTRAINTS = ("data-quality constraints (constraints.json)", "--constraints")
    MODEL_QUALITY_STATISTICS = ("model-quality statistics (statistics.json)", "--type model-quality")
    MODEL_QUALITY_CONSTRAINTS = ("model-quality constraints (constraints.json)", "--type model-quality --constraints")
    BIAS_ANALYSIS = ("bias analysis (analysis.json)", "--type bias --baseline")
    BIAS_ANALYSIS_CONFIG = ("bias analysis config (analysis_config.json)", "--type bias --analysis-config")

    @property
    def title(self) -> str:
        return self.value[0]

    @property
    def option(self) -> str:
        return self.value[1]


_MODEL_QUALITY_KEYS = ("binary_classification", "multiclass_classification", "regression")


def document_kind(document: Mapping) -> DocumentKind | None:
    """The kind of ``document``, or None when it is none of them."""
    if any(f"{key}_constraints" in document for key in _MODEL_QUALITY_KEYS):
        return DocumentKind.MODEL_QUALITY_CONSTRAINTS
    if any(f"{key}_metrics" in document for key in _MODEL_QUALITY_KEYS):
        return DocumentKind.MODEL_QUALITY_STATISTICS
    if "pre_training_bias_metrics" in document or "post_training_bias_metrics" in document:
        return DocumentKind.BIAS_ANALYSIS
    if "facet" in document and "label" in document:
        return DocumentKind.BIAS_ANALYSIS_CONFIG
    features = document.get("features")
    if isinstance(features, list):
        entries = [f for f in features if isinstance(f, Mapping)]
        if any("numerical_statistics" in f or "string_statistics" in f for f in entries) or "dataset" in document:
            return DocumentKind.DATA_QUALITY_STATISTICS
        if "monitoring_config" in document or any("completeness" in f or "num_constraints" in f
                                                  or "string_constraints" in f for f in entries):
            return DocumentKind.DATA_QUALITY_CONSTRAINTS
    return None


def expect_document(document: Mapping, expected: DocumentKind, *, path: str, option: str) -> None:
    """Refuse ``document`` when its content says it is another kind than ``expected``."""
    kind = document_kind(document)
    if kind is None or kind is expected:
        return
    raise AnalyzerInputError(
        f"{option} expects the {expected.title}, but this file is the {kind.title}: pass it with {kind.option}",
        path=path,
    )
