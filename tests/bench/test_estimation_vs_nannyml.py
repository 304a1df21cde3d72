"""The analyzer's label-free estimate equals NannyML's CBPE on the same data and calibration.

NannyML cannot share the project's environment: the comparison runs in the virtualenv ``make test`` builds
from ``tests/requirements-nannyml.txt`` (``.venv-nannyml``), or in the Python ``NANNYML_PYTHON`` names (see
``bench/estimation_vs_nannyml.py``). Without either the test fails, saying how to get one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NANNYML_VENV_PYTHON = REPO_ROOT / ".venv-nannyml" / "bin" / "python"


def _nannyml_python() -> str:
    named = os.environ.get("NANNYML_PYTHON")
    if named:
        return named
    if not NANNYML_VENV_PYTHON.exists():
        pytest.fail("NannyML's virtualenv is missing: `make test` builds .venv-nannyml from "
                    "tests/requirements-nannyml.txt (or set NANNYML_PYTHON to a Python with those packages)")
    return str(NANNYML_VENV_PYTHON)


def test_estimates_equal_nannyml_cbpe_on_the_same_data_and_calibration():
    from bench.estimation_vs_nannyml import compare

    found = compare(_nannyml_python(), windows=4, size=3_000)
    # NannyML rounds its expected counts to 5 decimals before the ROC AUC; the rest is the same arithmetic
    assert found["differences"]["estimated_auc"] <= 1e-6
    for name in ("estimated_accuracy", "estimated_precision", "estimated_recall", "estimated_f1"):
        assert found["differences"][name] <= 1e-12, name
