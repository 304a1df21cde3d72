"""The command-line options every monitor type spells alike, and the rules they share.

One name per idea across ``--type data-quality|model-quality|bias``: ``--dataset-format`` for
the dataset's format, ``--metrics-dir`` / ``--no-metrics`` for the CloudWatch metric lines
(written under OUTPUT/metrics unless told otherwise), ``--quiet`` for progress. Earlier
spellings stay as aliases so existing scripts keep working. ``--overwrite`` lets a run replace
an earlier run's files (``jobs.outputs``). The container contract builds its
runs from the job environment instead and does not pass through these options.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs.requests import Engine, EngineOptions

if TYPE_CHECKING:
    from model_monitor_analyzer.io.batch import BatchSource

DATASET_FORMAT = "--dataset-format"
METRICS_SUBFOLDER = "metrics"


def add_dataset_format_argument(
    parser: argparse.ArgumentParser, *, aliases: tuple[str, ...], dest: str, choices: tuple[str, ...], help: str
) -> None:
    """``--dataset-format`` with the type's earlier spellings (``aliases``) accepted as well."""
    _add_once(parser, DATASET_FORMAT, *aliases, dest=dest, choices=choices, help=help)


def add_metric_lines_arguments(
    parser: argparse.ArgumentParser, *, dest: str, aliases: tuple[str, ...] = ()
) -> None:
    """``--metrics-dir DIR`` (default OUTPUT/metrics) and ``--no-metrics``."""
    _add_once(
        parser, "--metrics-dir", *aliases, dest=dest, type=Path,
        help="folder for the CloudWatch metric lines (default OUTPUT/metrics)",
    )
    _add_once(parser, "--no-metrics", action="store_true", help="write no CloudWatch metric lines")


def metric_lines_dir(*, output: Path, given: Path | None, disabled: bool) -> Path | None:
    """Where a command-line run writes its metric lines: ``given``, else OUTPUT/metrics; None when disabled."""
    if disabled:
        if given is not None:
            raise AnalyzerInputError("--metrics-dir and --no-metrics contradict each other: give one of them")
        return None
    return given if given is not None else Path(output) / METRICS_SUBFOLDER


def add_overwrite_argument(parser: argparse.ArgumentParser) -> None:
    """``--overwrite``: replace an earlier run's files in the output folder (``jobs.outputs``)."""
    _add_once(parser, "--overwrite", action="store_true",
              help="replace an earlier run's files in the output folder (default: refuse to)")


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress lines on stderr (``args.progress`` False)."""
    _add_once(parser, "--quiet", dest="progress", action="store_false", help="no progress lines on stderr")


def _add_once(parser: argparse.ArgumentParser, *flags: str, **options: object) -> None:
    # a parser may get both a baseline's and a monitor's options (model quality adds them so)
    if not any(flag in parser._option_string_actions for flag in flags):
        parser.add_argument(*flags, **options)  # type: ignore[arg-type]


def positive_int(text: str) -> int:
    """A whole number of at least 1 (an option's value)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 or more")
    return value


BATCH_CAPTURE = "batch"


def add_batch_arguments(parser: argparse.ArgumentParser, *, capture_formats: tuple[str, ...] = ("capture",)) -> None:
    """``--capture-format batch`` (``--capture`` holds a batch transform job's ``input/`` and ``output/`` data
    files) and ``--batch-data DIR`` (``--capture`` holds the job's manifests, and DIR its data files by key)."""
    _add_once(parser, "--capture-format", choices=(*capture_formats, BATCH_CAPTURE), default=capture_formats[0],
              help="how --capture is laid out: SageMaker capture files (default), or batch: a batch transform "
                   "job's files, input/ and output/ (see --batch-data)")
    _add_once(parser, "--batch-data", type=Path, metavar="DIR",
              help="with --capture-format batch: --capture holds the transform job's manifests (input/, output/) "
                   "and DIR a copy of its data files, each at its key relative to its manifest's prefix")


def batch_source(args: argparse.Namespace) -> BatchSource | None:
    """The transform job ``--capture-format batch`` describes, or None for other capture formats."""
    data = getattr(args, "batch_data", None)
    if getattr(args, "capture_format", None) != BATCH_CAPTURE:
        if data is not None:
            raise AnalyzerInputError("--batch-data goes with --capture-format batch: add it, or leave --batch-data out")
        return None
    # imported here: the transform jobs' reader is not needed to parse any other run's options
    from model_monitor_analyzer.io.batch import BatchSource

    return BatchSource(data=data)


def add_workers_argument(parser: argparse.ArgumentParser) -> None:
    """``--workers N``: the processes a large input is read by (``jobs.parallel``)."""
    _add_once(parser, "--workers", type=positive_int,
              help="processes for inputs of 32 MB or more (default: every CPU available, one per 16 MB of input)")


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """``--engine local|spark`` and ``--spark-master URL`` (``jobs.requests.EngineOptions``)."""
    _add_once(parser, "--engine", choices=tuple(engine.value for engine in Engine), default=Engine.LOCAL.value,
              help="local: this machine's processes (default); spark: a Spark runner of the same computation "
                   "(needs pyspark; inputs and outputs may be s3:// URIs)")
    _add_once(parser, "--spark-master", metavar="URL",
              help="with --engine spark: the Spark master (default: the one spark-submit set, else local[*])")


#: the master URLs Spark takes (its documentation's "Master URLs"): local modes, a standalone cluster, YARN,
#: Kubernetes and Mesos
SPARK_MASTER = re.compile(r"local(\[(\*|[1-9]\d*)(,\d+)?\])?|local-cluster\[\d+,\d+,\d+\]|spark://\S+|yarn"
                          r"|k8s://\S+|mesos://\S+")


def engine_options(engine: str, spark_master: str | None) -> EngineOptions:
    """The engine the parsed ``--engine`` and ``--spark-master`` ask for."""
    chosen = Engine(engine)
    if spark_master is not None and chosen is not Engine.SPARK:
        raise AnalyzerInputError("--spark-master applies to --engine spark only: add --engine spark, or drop it")
    if spark_master is not None and not SPARK_MASTER.fullmatch(spark_master.strip()):
        # Spark itself answers a malformed URL with a JVM stack trace after its start-up
        raise AnalyzerInputError(f"--spark-master {spark_master!r} is not a Spark master URL: use local[N], local[*], "
                                 "spark://host:port, yarn or k8s://https://host:port")
    return EngineOptions(engine=chosen, spark_master=spark_master.strip() if spark_master is not None else None)
