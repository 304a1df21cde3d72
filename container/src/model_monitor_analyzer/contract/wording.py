"""A refused job names what its author set in the container: environment keys, not the command line's
flags.

Each monitor type's container adapter passes the environment's keys into its run, which names them
itself. What is left for ``in_environment_words``: the document placements of ``document_kinds`` (a
bias file given as a data-quality baseline is told to go to ``--type bias --baseline``), which any run
may print with the command line's options; they are rewritten here with the keys of the Model Monitor
container contract (``baseline_constraints``, ``analysis_type``) and the project's own keys.
"""

from __future__ import annotations

import re

#: the job environment's key of each command-line option the contract sets
ENVIRONMENT_KEYS = {
    "--statistics": "baseline_statistics",
    "--constraints": "baseline_constraints",
    "--baseline": "baseline_constraints",
    "--output": "output_path",
    "--dataset": "dataset_source",
    "--capture": "dataset_source",
    "--merged": "dataset_source",
    "--ground-truth": "ground_truth_source",
    "--analysis-config": "analysis_config",
    "--start": "start_time",
    "--end": "end_time",
    "--metric-time": "metric_time",
    "--metrics-dir": "CLOUDWATCH_METRICS_DIRECTORY",
    "--max-bad-record-ratio": "max_bad_record_ratio",
    "--ground-truth-lookback": "ground_truth_lookback",
    "--problem-type": "problem_type",
    "--inference-attribute": "inference_attribute",
    "--probability-attribute": "probability_attribute",
    "--probability-threshold": "probability_threshold_attribute",
    "--features-attribute": "features_attribute",
    "--drift-tolerance": "bias_drift_tolerance",
    "--ground-truth-attribute": "ground_truth_attribute",
    "--positive-label": "positive_label",
    "--feature-overrides": "feature_overrides",
    "--drift-method": "drift_method",
    "--record-preprocessor": "record_preprocessor_script",
    "--post-analytics-processor": "post_analytics_processor_script",
    "--dataset-format": "dataset_format",
}
ANALYSIS_TYPES = {"data-quality": "DATA_QUALITY", "model-quality": "MODEL_QUALITY", "bias": "MODEL_BIAS"}

_TYPED_OPTION = re.compile(r"--type (data-quality|model-quality|bias) (--[a-z][a-z-]*)")
_TYPE = re.compile(r"--type (data-quality|model-quality|bias)")
_OPTION = re.compile(r"(?<![\w/.-])--[a-z][a-z-]*")


def in_environment_words(message: str) -> str:
    """``message`` with the command line's options named as the job environment's keys."""

    def key(option: str) -> str:
        return ENVIRONMENT_KEYS.get(option, option)

    message = _TYPED_OPTION.sub(lambda m: f"{key(m.group(2))} of an analysis_type={ANALYSIS_TYPES[m.group(1)]} job",
                                message)
    message = _TYPE.sub(lambda m: f"analysis_type={ANALYSIS_TYPES[m.group(1)]}", message)
    return _OPTION.sub(lambda m: key(m.group(0)), message)
