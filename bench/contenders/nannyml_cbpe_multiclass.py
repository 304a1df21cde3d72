"""NannyML's multiclass CBPE on data and per-class calibrations given by ``bench.estimation_vs_nannyml``; run by
NannyML's own Python.

Reads an ``.npz`` with the class names, the reference's per-class scores, predicted and true class positions, the
analysis scores and predictions, the chunk size and each class's calibration breakpoints (an empty list: the raw
score, clipped to [0, 1]); fits CBPE (multiclass) with a calibrator that applies exactly those breakpoints to the
class whose column it is given, calibration forced on for every class (NannyML then divides every row by its sum);
writes each analysis chunk's estimated ROC AUC, accuracy, precision, recall and F1 (macro) as JSON to the given
path. Imports nothing of this project.
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np


def main(source: str, target: str) -> None:
    import nannyml as nml
    import nannyml.performance_estimation.confidence_based.cbpe as cbpe
    import pandas as pd
    from nannyml.calibration import Calibrator

    data = np.load(source)
    classes = [str(c) for c in data["classes"]]
    columns = {c: f"p_{c}" for c in classes}
    breakpoints = {f"p_{c}": (data[f"scores_{i}"], data[f"probabilities_{i}"]) for i, c in enumerate(classes)}

    class Breakpoints(Calibrator):
        """The per-class calibrations the analyzer's baseline keeps, chosen by the column's name."""

        def fit(self, y_pred_proba, y_true, *args, **kwargs) -> None:  # already fitted
            return None

        def calibrate(self, y_pred_proba, *args, **kwargs):
            scores, probabilities = breakpoints[y_pred_proba.name]
            values = np.asarray(y_pred_proba, dtype=float)
            return np.clip(values, 0.0, 1.0) if scores.size == 0 else np.interp(values, scores, probabilities)

    cbpe.needs_calibration = lambda *args, **kwargs: True
    metrics = ["roc_auc", "accuracy", "precision", "recall", "f1"]
    estimator = nml.CBPE(y_pred_proba=columns, y_pred="predicted", y_true="label", metrics=metrics,
                         problem_type="classification_multiclass", chunk_size=int(data["chunk_size"]),
                         calibrator=Breakpoints())

    def frame(scores: np.ndarray, predicted: np.ndarray, labels: np.ndarray | None) -> pd.DataFrame:
        table = {f"p_{c}": scores[:, i] for i, c in enumerate(classes)}
        table["predicted"] = np.asarray(classes, dtype=object)[predicted]
        if labels is not None:
            table["label"] = np.asarray(classes, dtype=object)[labels]
        return pd.DataFrame(table)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(frame(data["reference_scores"], data["reference_predicted"], data["reference_labels"]))
        results = estimator.estimate(frame(data["analysis_scores"], data["analysis_predicted"], None))
    table = results.filter(period="analysis").to_df()
    chunks = [{metric: float(table[(metric, "value")].iloc[i]) for metric in metrics} for i in range(len(table))]
    with open(target, "w") as handle:
        json.dump({"nannyml": nml.__version__, "chunks": chunks}, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
