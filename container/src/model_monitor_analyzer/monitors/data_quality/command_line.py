"""The command line's data-quality runs: ``baseline|monitor --type data-quality`` options, and the
typed requests (``request``) built from the parsed arguments. No ``argparse.Namespace`` goes further.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model_monitor_analyzer.checks.config import CategoricalDriftMethod
from model_monitor_analyzer.constraint_rules import DRIFT_METHOD_CHOICES, drift_method_name
from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO
from model_monitor_analyzer.jobs.options import (
    BATCH_CAPTURE,
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
from model_monitor_analyzer.jobs.requests import (
    InputFormat,
    InputOptions,
    capture_index_names,
    checked_number,
    metric_time,
    time_window,
)
from model_monitor_analyzer.monitors.data_quality.request import (
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
    feature_overrides_from_json,
)

FORMATS = tuple(f.value for f in InputFormat)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, required=True, help="folder for the output files")
    parser.add_argument(
        "--max-bad-record-ratio",
        type=float,
        default=DEFAULT_MAX_BAD_RECORD_RATIO,
        help="fail when more than this share of records is malformed (default 0.1)",
    )
    parser.add_argument("--record-preprocessor", type=Path, help="script defining preprocess_handler (capture input)")
    parser.add_argument("--post-analytics-processor", type=Path, help="script defining postprocess_handler()")
    parser.add_argument(
        "--capture-index-names",
        nargs="+",
        default=["endpointInput", "endpointOutput"],
        help="capture payloads to read (default: endpointInput endpointOutput)",
    )
    parser.add_argument(
        "--output-columns-position",
        choices=("START", "END"),
        default="START",
        help="where the model output columns go in a captured row (default START, as the built-in)",
    )
    add_quiet_argument(parser)
    add_overwrite_argument(parser)
    add_workers_argument(parser)
    add_engine_arguments(parser)


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    """``baseline --type data-quality``: dataset, format, header, output folder."""
    parser.add_argument("--dataset", type=Path, required=True, help="dataset file or folder")
    add_dataset_format_argument(parser, aliases=("--format",), dest="format", choices=FORMATS,
                                help="dataset format (default: from the file extension); --format is an alias")
    parser.add_argument("--no-header", action="store_true", help="CSV without header row (columns _c0, _c1, ...)")
    parser.add_argument(
        "--categorical-drift-method",
        choices=("LInfinity", "ChiSquared"),
        help="written into the suggested monitoring_config; only the built-in's drift rule "
             "(--drift-method sagemaker, the default when this option is given) reads it",
    )
    _add_drift_method_argument(parser, help="drift method the suggested constraints ask for (default auto: "
                                            "sample-size-aware, see the README's 'How a violation is decided')")
    _add_common(parser)


def _add_drift_method_argument(parser: argparse.ArgumentParser, *, help: str) -> None:
    parser.add_argument("--drift-method", type=_drift_method, metavar="METHOD", help=help + ": "
                        + ", ".join(DRIFT_METHOD_CHOICES))


def _drift_method(text: str) -> str:
    try:
        return drift_method_name(text, "--drift-method")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_monitor_arguments(parser: argparse.ArgumentParser) -> None:
    """``monitor --type data-quality``: capture folder, baseline files, window, metric dimensions."""
    parser.add_argument("--capture", type=Path, required=True,
                        help="captured traffic: a folder of *.jsonl files (SageMaker's .../yyyy/mm/dd/HH layout; hour "
                             "folders far from --start/--end are not read), one file, or a manifest")
    parser.add_argument("--capture-format", choices=(*FORMATS, BATCH_CAPTURE), default="capture",
                        help="input format (default capture; batch: a batch transform job's input/ and output/ files)")
    add_batch_arguments(parser)
    parser.add_argument("--no-header", action="store_true", help="for --capture-format csv: no header row")
    parser.add_argument("--statistics", type=Path, required=True, help="baseline statistics.json")
    parser.add_argument("--constraints", type=Path, required=True, help="baseline constraints.json")
    parser.add_argument("--feature-overrides", metavar="JSON",
                        help='per-feature monitoring_config overrides on top of the constraints, e.g. '
                             '\'{"age": {"distribution_constraints": {"comparison_threshold": 0.2}}}\'')
    _add_drift_method_argument(parser, help="judge every feature's drift by this method whatever the constraints "
                                            "say (default: as they say; a file without drift_method asks for sagemaker)")
    parser.add_argument("--start", help="window start, ISO 8601 (inclusive)")
    parser.add_argument("--end", help="window end, ISO 8601 (exclusive)")
    parser.add_argument("--endpoint", help="Endpoint dimension of the metrics")
    parser.add_argument("--schedule", help="MonitoringSchedule dimension of the metrics")
    parser.add_argument("--metric-time", help="Timestamp of the metrics (default: --start, else now)")
    add_metric_lines_arguments(parser, dest="metrics_dir")
    _add_common(parser)


def _input_options(args: argparse.Namespace) -> InputOptions:
    return InputOptions(
        max_bad_record_ratio=checked_number(args.max_bad_record_ratio, name="--max-bad-record-ratio"),
        capture_index_names=capture_index_names(args.capture_index_names, setting="--capture-index-names"),
        output_first=args.output_columns_position == "START",
        header=not args.no_header,
        record_preprocessor=args.record_preprocessor,
        progress=args.progress,
        workers=args.workers,
    )


def baseline_request(args: argparse.Namespace) -> DataQualityBaselineRequest:
    """The request that ``add_baseline_arguments``' parsed arguments describe."""
    method = args.categorical_drift_method
    return DataQualityBaselineRequest(
        dataset=args.dataset,
        output=args.output,
        format=InputFormat(args.format) if args.format else None,
        reading=_input_options(args),
        categorical_drift_method=CategoricalDriftMethod(method) if method else None,
        drift_method=args.drift_method,
        post_analytics_processor=args.post_analytics_processor,
        overwrite=args.overwrite,
        engine=engine_options(args.engine, args.spark_master),
    )


def monitor_request(args: argparse.Namespace) -> DataQualityMonitorRequest:
    """The request that ``add_monitor_arguments``' parsed arguments describe.

    The command line writes metric lines to ``--metrics-dir``, else OUTPUT/metrics, unless ``--no-metrics``.
    """
    return DataQualityMonitorRequest(
        capture=args.capture,
        statistics=args.statistics,
        constraints=args.constraints,
        output=args.output,
        input_format=InputFormat.CAPTURE if args.capture_format == BATCH_CAPTURE else InputFormat(args.capture_format),
        batch=batch_source(args),
        reading=_input_options(args),
        window=time_window(args.start, args.end),
        feature_overrides=feature_overrides_from_json(args.feature_overrides) if args.feature_overrides else {},
        drift_method=args.drift_method,
        metrics_dir=metric_lines_dir(output=args.output, given=args.metrics_dir, disabled=args.no_metrics),
        metric_time=metric_time(args.metric_time),
        endpoint=args.endpoint,
        schedule=args.schedule,
        post_analytics_processor=args.post_analytics_processor,
        overwrite=args.overwrite,
        engine=engine_options(args.engine, args.spark_master),
    )


