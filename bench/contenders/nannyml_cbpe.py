"""NannyML's CBPE on data and a calibration given by ``bench.estimation_vs_nannyml``; run by NannyML's own Python.

Reads an ``.npz`` with the reference's scores, predictions and labels, the analysis scores and predictions, the
chunk size and the calibration breakpoints; fits CBPE (binary) with a calibrator that applies exactly those
breakpoints (linear between them, clamped at the ends), calibration forced on; writes each analysis chunk's
estimated ROC AUC, accuracy, precision, recall and F1 as JSON to the given path. Imports nothing of this project.
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

    class Breakpoints(Calibrator):
        """The calibration the analyzer's baseline keeps."""

        def fit(self, y_pred_proba, y_true, *args, **kwargs) -> None:  # already fitted
            return None

        def calibrate(self, y_pred_proba, *args, **kwargs):
            return np.interp(np.asarray(y_pred_proba, dtype=float), data["calibration_scores"],
                             data["calibration_probabilities"])

    # NannyML skips a calibrator its own check deems unnecessary; the comparison needs the same one on both sides
    cbpe.needs_calibration = lambda *args, **kwargs: True
    metrics = ["roc_auc", "accuracy", "precision", "recall", "f1"]
    estimator = nml.CBPE(y_pred_proba="score", y_pred="predicted", y_true="label", metrics=metrics,
                         problem_type="classification_binary", chunk_size=int(data["chunk_size"]),
                         calibrator=Breakpoints())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(pd.DataFrame({"score": data["reference_scores"], "predicted": data["reference_predicted"],
                                    "label": data["reference_labels"]}))
        results = estimator.estimate(pd.DataFrame({"score": data["analysis_scores"],
                                                   "predicted": data["analysis_predicted"]}))
    table = results.filter(period="analysis").to_df()
    chunks = [{metric: float(table[(metric, "value")].iloc[i]) for metric in metrics} for i in range(len(table))]
    with open(target, "w") as handle:
        json.dump({"nannyml": nml.__version__, "chunks": chunks}, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
