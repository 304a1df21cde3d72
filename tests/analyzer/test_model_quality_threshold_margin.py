"""A threshold margin moves suggested thresholds in the harmless direction of each metric."""

from __future__ import annotations

import numpy as np
import pytest

from model_monitor_analyzer.checks import model_quality as mq


def _metrics(problem_type):
    assert problem_type is mq.ProblemType.REGRESSION
    rng = np.random.default_rng(3)
    actual = rng.normal(size=400)
    return mq.regression_metrics(actual, actual + rng.normal(scale=0.3, size=400))


def test_margin_zero_is_the_builtin_suggestion_and_a_margin_moves_each_threshold_its_own_way():
    metrics = _metrics(mq.ProblemType.REGRESSION)
    plain = {c.metric: c for c in mq.suggest_constraints(mq.ProblemType.REGRESSION, metrics)}
    loose = {c.metric: c for c in mq.suggest_constraints(mq.ProblemType.REGRESSION, metrics, margin=0.05)}
    assert plain["rmse"].threshold == metrics["rmse"].value
    assert loose["rmse"].threshold == pytest.approx(metrics["rmse"].value + 0.05)   # error: higher is worse
    assert loose["r2"].threshold == pytest.approx(metrics["r2"].value - 0.05)       # score: lower is worse


def test_negative_margin_is_refused():
    with pytest.raises(ValueError, match="margin must not be negative"):
        mq.suggest_constraints(mq.ProblemType.REGRESSION, _metrics(mq.ProblemType.REGRESSION), margin=-0.1)
