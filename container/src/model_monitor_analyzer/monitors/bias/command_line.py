"""The command line of ``baseline --type bias`` and ``monitor --type bias``: options, and the requests they make.

Everything a user typed is parsed here (times, the look-back, numbers), with messages naming the
option, so a run starts from a typed request.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO
from model_monitor_analyzer.io.window import parse_duration
from model_monitor_analyzer.jobs.options import (
    add_batch_arguments,
    add_dataset_format_argument,
    add_engine_arguments,
    add_metric_lines_arguments,
    add_overwrite_argument,
    add_quiet_argument,
    batch_source,
    engine_options,
    metric_lines_dir,
)
from model_monitor_analyzer.jobs.requests import checked_number, metric_time, time_window
from model_monitor_analyzer.monitors.bias.request import BiasBaselineRequest, BiasMonitorRequest

# --dataset-format's short names (as the other monitor types spell them) and the config's dataset_type
DATASET_FORMATS = {"csv": "text/csv", "jsonl": "application/jsonlines", "json": "application/json",
                   "parquet": "application/x-parquet"}


def _add_common_arguments(parser: argparse.ArgumentParser, *, dataset_required: bool) -> None:
    parser.add_argument("--analysis-config", type=Path, required=True, help="Clarify analysis_config.json")
    parser.add_argument(
        "--dataset",
        type=Path,
        required=dataset_required,
        help="table (CSV / JSON Lines / JSON) file or folder",
    )
    parser.add_argument(
        "--output", type=Path, required=True, help="folder for analysis.json (and violations)"
    )
    add_dataset_format_argument(
        parser, aliases=("--dataset-type",), dest="dataset_type", choices=(*DATASET_FORMATS, *DATASET_FORMATS.values()),
        help="csv, jsonl, json (one document) or parquet, or the config's spelling text/csv, application/jsonlines, "
             "application/json, application/x-parquet (default: the config's dataset_type); --dataset-type is an alias",
    )
    parser.add_argument("--max-bad-record-ratio", type=float, default=DEFAULT_MAX_BAD_RECORD_RATIO,
                        help="fail when more than this share of the dataset's records is malformed (default 0.1)")
    add_quiet_argument(parser)
    add_overwrite_argument(parser)


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    """``baseline --type bias``: analysis config, dataset, output folder, engine."""
    _add_common_arguments(parser, dataset_required=True)
    add_engine_arguments(parser)


def add_monitor_arguments(parser: argparse.ArgumentParser) -> None:
    """``monitor --type bias``: the window's data (table, merged records, or captures + ground truth),
    the baseline analysis.json, where predictions are, and metric options."""
    _add_common_arguments(parser, dataset_required=False)
    parser.add_argument("--merged", type=Path, help="folder of merged records (instead of --dataset)")
    parser.add_argument("--capture", type=Path, help="folder of captured requests (with --ground-truth)")
    add_batch_arguments(parser)
    add_engine_arguments(parser)
    parser.add_argument("--ground-truth", type=Path, help="folder of ground-truth records (with --capture)")
    parser.add_argument("--start", help="window start, ISO 8601 (inferenceTime >= start)")
    parser.add_argument("--end", help="window end, ISO 8601 (inferenceTime < end)")
    parser.add_argument("--baseline", type=Path, help="the baseline's analysis.json (its constraints)")
    parser.add_argument("--ground-truth-lookback", metavar="DURATION",
                        help="ISO-8601 duration: how far before --start to look for the captures of late labels "
                             "(default PT0H)")
    parser.add_argument("--drift-tolerance", type=float, default=0.0,
                        help="a margin: a violation only when a metric moves more than this farther from neutral "
                             "than in the baseline (default 0; with a baseline of this analyzer the move must also "
                             "exceed chance at the window's size, with Clarify's analysis.json it is Clarify's rule)")
    parser.add_argument(
        "--features-attribute", help="JMESPath of the features in JSON requests (FeaturesAttribute)"
    )
    parser.add_argument(
        "--inference-attribute",
        help="predicted label: a column of --dataset, or its index/JMESPath in captured responses",
    )
    parser.add_argument(
        "--probability-attribute",
        help="score: a column of --dataset, or its index/JMESPath in captured responses",
    )
    parser.add_argument(
        "--probability-threshold", type=float, help="score > threshold is a positive prediction (default 0.5)"
    )
    # Spelled as for the other monitor types, with the long forms as aliases.
    parser.add_argument("--endpoint", "--endpoint-name", dest="endpoint_name", help="Endpoint dimension of the metrics")
    parser.add_argument("--schedule", "--schedule-name", dest="schedule_name",
                        help="MonitoringSchedule dimension of the metrics")
    parser.add_argument("--metric-time", help="Timestamp of the metrics (ISO 8601, default --start)")
    parser.add_argument("--publish-metrics", action="store_true",
                        help="kept for earlier scripts: metric lines are written unless --no-metrics")
    add_metric_lines_arguments(parser, dest="metrics_dir")


def dataset_type(args: argparse.Namespace) -> str | None:
    """The dataset type the command line names (short or MIME spelling), as the config spells it."""
    value = getattr(args, "dataset_type", None)
    return DATASET_FORMATS.get(value, value) if value is not None else None


def _max_bad_record_ratio(args: argparse.Namespace) -> float:
    return checked_number(args.max_bad_record_ratio, name="--max-bad-record-ratio")


def baseline_request(args: argparse.Namespace) -> BiasBaselineRequest:
    """The baseline run the parsed ``baseline --type bias`` options describe."""
    return BiasBaselineRequest(
        analysis_config=args.analysis_config,
        dataset=args.dataset,
        output=args.output,
        dataset_type=dataset_type(args),
        max_bad_record_ratio=_max_bad_record_ratio(args),
        overwrite=bool(getattr(args, "overwrite", False)),
        engine=engine_options(args.engine, args.spark_master),
    )


def monitor_request(args: argparse.Namespace) -> BiasMonitorRequest:
    """The monitoring run the parsed ``monitor --type bias`` options describe: metric lines go to
    ``--metrics-dir``, else OUTPUT/metrics, unless ``--no-metrics``."""
    window = time_window(args.start, args.end)
    threshold = args.probability_threshold
    given = [option for option, value in (("--dataset", args.dataset), ("--merged", args.merged),
                                          ("--capture", args.capture)) if value is not None]
    if len(given) > 1:
        raise AnalyzerInputError(f"{' and '.join(given)} both name the window's data: give one (--capture goes with "
                                 "--ground-truth)")
    return BiasMonitorRequest(
        analysis_config=args.analysis_config,
        output=args.output,
        dataset=args.dataset,
        merged=args.merged,
        capture=args.capture,
        ground_truth=args.ground_truth,
        dataset_type=dataset_type(args),
        max_bad_record_ratio=_max_bad_record_ratio(args),
        baseline=args.baseline,
        window=window,
        ground_truth_lookback=parse_duration(args.ground_truth_lookback or "PT0H", name="--ground-truth-lookback"),
        drift_tolerance=checked_number(args.drift_tolerance or 0.0, name="--drift-tolerance", high=None),
        features_attribute=args.features_attribute,
        inference_attribute=args.inference_attribute,
        probability_attribute=args.probability_attribute,
        probability_threshold=None if threshold is None else checked_number(threshold, name="--probability-threshold"),
        metrics_dir=metric_lines_dir(output=args.output, given=args.metrics_dir, disabled=args.no_metrics),
        metric_time=metric_time(args.metric_time),
        endpoint=args.endpoint_name,
        schedule=args.schedule_name,
        progress=bool(args.progress),
        overwrite=bool(args.overwrite),
        batch=batch_source(args),
        engine=engine_options(args.engine, args.spark_master),
    )
