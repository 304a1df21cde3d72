"""The analyzer's label-free estimate equals NannyML's CBPE on the same data and calibration.

NannyML cannot share the project's environment; the comparison runs where ``NANNYML_PYTHON`` names the Python
of a virtualenv with ``nannyml==0.13.1`` and ``statsmodels`` (see ``bench/estimation_vs_nannyml.py``)."""

from __future__ import annotations

import os

import pytest


@pytest.mark.skipif(not os.environ.get("NANNYML_PYTHON"),
                    reason="NANNYML_PYTHON is not set: NannyML 0.13 needs an environment of its own")
def test_estimates_equal_nannyml_cbpe_on_the_same_data_and_calibration():
    from bench.estimation_vs_nannyml import compare

    found = compare(os.environ["NANNYML_PYTHON"], windows=4, size=3_000)
    # NannyML rounds its expected counts to 5 decimals before the ROC AUC; the rest is the same arithmetic
    assert found["differences"]["estimated_auc"] <= 1e-6
    for name in ("estimated_accuracy", "estimated_precision", "estimated_recall", "estimated_f1"):
        assert found["differences"][name] <= 1e-12, name
