"""The command line's model-quality runs: ``baseline|monitor --type model-quality`` options, and the
typed requests (``request``) built from the parsed arguments. No ``argparse.Namespace`` goes further;
messages name the options.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.datasets import DatasetFormat
from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO
from model_monitor_analyzer.io.window import parse_duration
from model_monitor_analyzer.jobs.options import (
    add_batch_arguments,
    add_dataset_format_argument,
    add_engine_arguments,
    add_metric_lines_arguments,
    add_overwrite_argument,
    add_quiet_argument,
    add_workers_argument,
    batch_source,
    engine_options,
    metric_lines_dir,
)
from model_monitor_analyzer.jobs.requests import InputOptions, checked_number, metric_time, time_window
from model_monitor_analyzer.monitors.model_quality.request import (
    COMPARISONS,
    OPTION_NAMES,
    PROBLEM_TYPES,
    ModelQualityBaselineRequest,
    ModelQualityMonitorRequest,
    ModelSettings,
    model_settings,
    threshold_margin,
)

DATASET_FORMATS = {"csv": DatasetFormat.CSV, "jsonl": DatasetFormat.JSON, "json": DatasetFormat.JSON,
                   "parquet": DatasetFormat.PARQUET}  # fmt: skip


def _add(parser: argparse.ArgumentParser, *flags: str, **options: object) -> None:
    """Add an option unless the CLI (or another monitor type) already defined it."""
    if any(flag in parser._option_string_actions for flag in flags):
        return
    parser.add_argument(*flags, **options)  # type: ignore[arg-type]


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    add_quiet_argument(parser)
    add_overwrite_argument(parser)
    _add(parser, "--problem-type", choices=PROBLEM_TYPES, help="model-quality problem type")
    _add(
        parser,
        "--inference-attribute",
        help="column name (dataset), 0-based CSV index or JMESPath (captured output) of the predicted label/value",
    )
    _add(parser, "--probability-attribute", help="column, index or JMESPath of the probability (binary)")
    _add(
        parser,
        "--probability-threshold",
        type=float,
        help="binary: predict the positive class when probability > threshold (instead of the inference attribute)",
    )
    _add(
        parser, "--ground-truth-attribute", help="column of the label (dataset) or JMESPath into JSON labels"
    )
    _add(parser, "--positive-label", help="binary: the label value of the positive class (default 1)")
    _add(
        parser,
        "--max-bad-record-ratio",
        type=float,
        default=DEFAULT_MAX_BAD_RECORD_RATIO,
        help="fail when more than this share of records is malformed (default 0.1)",
    )


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``baseline --type model-quality``."""
    _add(parser, "--dataset", type=Path, help="CSV (with header), JSON Lines or Parquet file, or a folder of them")
    add_dataset_format_argument(parser, aliases=(), dest="dataset_format", choices=tuple(DATASET_FORMATS),
                                help="dataset format (default: from the file extension)")
    _add(
        parser,
        "--no-header",
        action="store_true",
        help="the CSV dataset has no header; attributes are indices",
    )
    _add(parser, "--output", type=Path, help="folder for statistics.json and constraints.json")
    _add(
        parser,
        "--threshold-margin",
        type=float,
        default=0.0,
        help="suggest thresholds this much worse than the baseline values (default 0: the built-in's "
        "thresholds, equal to the baseline values)",
    )
    _add(
        parser,
        "--comparison",
        choices=COMPARISONS,
        default=COMPARISONS[0],
        help="how monitors judge the thresholds: significance (default: worse than the threshold by more "
        "than chance allows at the window's size) or threshold (the built-in's rule: any value past it)",
    )
    add_engine_arguments(parser)
    _add_model_arguments(parser)


def add_monitor_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``monitor --type model-quality``."""
    _add(parser, "--capture", type=Path, help="folder of data-capture files (endpoint/variant/yyyy/mm/dd/HH)")
    add_batch_arguments(parser)
    add_workers_argument(parser)
    add_engine_arguments(parser)
    _add(
        parser,
        "--merged",
        type=Path,
        help="folder of already merged records (instead of --capture/--ground-truth)",
    )
    _add(
        parser, "--ground-truth", type=Path, help="folder of ground-truth files (yyyy/mm/dd/HH = upload hour); may be left "
        "out when the --constraints keep the label-free estimation (the window is then estimated only)"
    )
    _add(parser, "--constraints", type=Path, help="baseline constraints.json to check against")
    _add(parser, "--statistics", type=Path, help=argparse.SUPPRESS)  # data quality's: refused with a hint
    _add(parser, "--output", type=Path, help="folder for the reports")
    _add(parser, "--start", help="window start, ISO-8601 UTC (inclusive)")
    _add(parser, "--end", help="window end, ISO-8601 UTC (exclusive)")
    _add(
        parser,
        "--ground-truth-lookback",
        default="PT0H",
        help="ISO-8601 duration: how far before --start to look for the captures of late labels (default PT0H)",
    )
    _add(parser, "--merged-output", type=Path, help="folder for the merged records (default OUTPUT/merge)")
    # Spelled as for the other monitor types, with the long forms as aliases.
    add_metric_lines_arguments(parser, dest="metrics_dir", aliases=("--cloudwatch-metrics-dir",))
    _add(parser, "--endpoint", "--endpoint-name", dest="endpoint", help="Endpoint dimension of the metrics")
    _add(parser, "--schedule", "--schedule-name", dest="schedule",
         help="MonitoringSchedule dimension of the metrics")
    _add(parser, "--metric-time", help="timestamp of the metrics (default: --start, else now)")
    _add_model_arguments(parser)


def _settings(args: argparse.Namespace, *, require_ground_truth_attribute: bool) -> ModelSettings:
    return model_settings(
        problem_type=args.problem_type,
        inference_attribute=args.inference_attribute,
        probability_attribute=args.probability_attribute,
        probability_threshold=args.probability_threshold,
        ground_truth_attribute=args.ground_truth_attribute,
        positive_label=args.positive_label,
        require_ground_truth_attribute=require_ground_truth_attribute,
        names=OPTION_NAMES,
    )


def _output(args: argparse.Namespace) -> Path:
    if args.output is None:
        raise AnalyzerInputError("--output is required: the folder for the report files")
    return args.output


def _reading(args: argparse.Namespace, *, header: bool = True) -> InputOptions:
    return InputOptions(
        max_bad_record_ratio=checked_number(args.max_bad_record_ratio, name="--max-bad-record-ratio"),
        header=header,
        progress=args.progress,
        workers=getattr(args, "workers", None),
    )


def baseline_request(args: argparse.Namespace) -> ModelQualityBaselineRequest:
    """The request that ``add_baseline_arguments``' parsed arguments describe."""
    settings = _settings(args, require_ground_truth_attribute=True)
    if args.dataset is None:
        raise AnalyzerInputError("--dataset is required: a CSV or JSON Lines file with predictions and labels")
    return ModelQualityBaselineRequest(
        dataset=args.dataset,
        output=_output(args),
        settings=settings,
        dataset_format=DATASET_FORMATS[args.dataset_format] if args.dataset_format else None,
        reading=_reading(args, header=not args.no_header),
        threshold_margin=threshold_margin(args.threshold_margin, name="--threshold-margin"),
        comparison=args.comparison,
        overwrite=args.overwrite,
        engine=engine_options(args.engine, args.spark_master),
    )


def monitor_request(args: argparse.Namespace) -> ModelQualityMonitorRequest:
    """The request that ``add_monitor_arguments``' parsed arguments describe: metric lines go to
    ``--metrics-dir``, else OUTPUT/metrics, unless ``--no-metrics``."""
    if args.statistics is not None:
        raise AnalyzerInputError("--type model-quality takes only --constraints (its statistics are computed per "
                                 "window): leave --statistics out")
    settings = _settings(args, require_ground_truth_attribute=False)
    output = _output(args)
    if args.merged is not None and (args.capture is not None or args.ground_truth is not None):
        raise AnalyzerInputError("--merged and --capture/--ground-truth both name the window's data: give --merged, "
                                 "or --capture with --ground-truth")
    return ModelQualityMonitorRequest(
        output=output,
        settings=settings,
        capture=args.capture,
        ground_truth=args.ground_truth,
        merged=args.merged,
        constraints=args.constraints,
        window=time_window(args.start, args.end),
        ground_truth_lookback=parse_duration(args.ground_truth_lookback or "PT0H"),
        merged_output=args.merged_output,
        metrics_dir=metric_lines_dir(output=output, given=args.metrics_dir, disabled=args.no_metrics),
        metric_time=metric_time(args.metric_time),
        endpoint=args.endpoint,
        schedule=args.schedule,
        reading=_reading(args),
        overwrite=args.overwrite,
        batch=batch_source(args),
        engine=engine_options(args.engine, args.spark_master),
    )
