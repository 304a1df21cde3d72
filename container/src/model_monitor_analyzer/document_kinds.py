"""Which SageMaker document a JSON object is, by its content (statistics, constraints, analysis,
analysis config; data quality, model quality or bias).

Standard library only: the constructs load this very file (``cdk_model_monitor.bundled``) to check a
baseline folder at synth time by the rule the analyzer applies at run time.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class DocumentKind(enum.Enum):
    """The documents the analyzer reads: a title, and where each goes on the command line (None:
    a run writes it, none reads it)."""

    DATA_QUALITY_STATISTICS = ("data-quality statistics (statistics.json)", "--type data-quality --statistics")
    DATA_QUALITY_CONSTRAINTS = ("data-quality constraints (constraints.json)", "--type data-quality --constraints")
    MODEL_QUALITY_STATISTICS = ("model-quality statistics (statistics.json)", None)
    MODEL_QUALITY_CONSTRAINTS = ("model-quality constraints (constraints.json)", "--type model-quality --constraints")
    BIAS_ANALYSIS = ("bias analysis (analysis.json)", "--type bias --baseline")
    BIAS_ANALYSIS_CONFIG = ("bias analysis config (analysis_config.json)", "--type bias --analysis-config")

    @property
    def title(self) -> str:
        return self.value[0]

    @property
    def option(self) -> str | None:
        return self.value[1]

    @property
    def placement(self) -> str:
        """Where the document goes, as a fix to tell the user."""
        if self.option is None:
            return "a model-quality run writes it; give the constraints.json of the same run with --type model-quality --constraints"
        return f"pass it with {self.option}"


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
