"""Command line: ``model-monitor-analyzer baseline|monitor [--type ...] ...``, ``put-ground-truth`` and ``report``.

With no arguments (as the container's ENTRYPOINT runs it) the SageMaker container contract
is followed instead (``contract.entrypoint``). A user mistake prints one line
``error: <file>:<line>: <problem>`` and exits with code 2; never a traceback. A traceback means a
bug in the analyzer, and a last line says so (exit code 70).
"""

from __future__ import annotations

import argparse
import errno
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from model_monitor_analyzer.errors import AnalyzerInputError, NotAvailableError
from model_monitor_analyzer.jobs import registry
from model_monitor_analyzer.jobs.options import add_engine_arguments, engine_options
from model_monitor_analyzer.jobs.outcome import RunOutcome, RunStatus
from model_monitor_analyzer.jobs.outputs import forget_claims, kept_earlier_files
from model_monitor_analyzer.jobs.requests import Engine

EXIT_USAGE = 2
# What the machine, not the analyzer, got wrong: said in one line, exit 2, like a mistaken option.
ENVIRONMENT_ERRORS = frozenset({errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.ENAMETOOLONG,
                                errno.ELOOP, errno.EISDIR, errno.ENOTDIR, errno.EMFILE, errno.ENFILE})
EXIT_BUG = 70  # EX_SOFTWARE: an error in the analyzer itself, not in its input
BUG_LINE = ("error: this is a bug in model-monitor-analyzer, not a problem with your input: please report it "
            "with the traceback above")
PUT_GROUND_TRUTH = "put-ground-truth"
REPORT = "report"


class _Parser(argparse.ArgumentParser):
    """argparse's parser with its usage mistakes said in one line, as the analyzer's own are."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


def _type_of(argv: Sequence[str]) -> str:
    pre = _Parser(prog="model-monitor-analyzer", add_help=False)
    pre.add_argument("--type", choices=registry.NAMES, default=registry.DATA_QUALITY.name)
    known, _ = pre.parse_known_args(argv)
    return known.type


def build_parser(monitor_type: str | None) -> argparse.ArgumentParser:
    """Parser with both commands; the package of ``monitor_type`` adds its options."""
    parser = _Parser(
        prog="model-monitor-analyzer",
        description="Drop-in analyzer for SageMaker Model Monitor (data quality, model quality, bias).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    module = registry.monitor_package(registry.by_name(monitor_type)) if monitor_type else None
    from model_monitor_analyzer.ground_truth_sender import add_put_ground_truth_arguments

    add_put_ground_truth_arguments(commands.add_parser(
        PUT_GROUND_TRUTH, help="upload ground-truth labels (one S3 object per call) for model-quality and bias monitoring"))
    from model_monitor_analyzer.history_command import add_report_arguments

    add_report_arguments(commands.add_parser(
        REPORT, help="one history page across monitoring windows (status, drift and metrics over time)"))
    for command, help_text in (("baseline", "profile a dataset: statistics.json + constraints.json"),
                               ("monitor", "check captured traffic against a baseline")):
        sub = commands.add_parser(command, help=help_text)
        sub.add_argument("--type", choices=registry.NAMES, default=registry.DATA_QUALITY.name, help="monitor type")
        if module is not None:
            if command == "baseline":
                module.add_baseline_arguments(sub)
            else:
                module.add_monitor_arguments(sub)
        add_engine_arguments(sub)
    _refuse_empty_paths(parser)
    return parser


def path_argument(text: str) -> Path:
    """A path option's value: an empty one is refused (``Path("")`` would silently be the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give a path, not an empty string")
    return Path(text)


def _refuse_empty_paths(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if action.type is Path:
            action.type = path_argument
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _refuse_empty_paths(sub)


def _summary_details(summary: dict[str, object]) -> list[str]:
    """The summary's counts as ``key value``; a window estimated without labels says its two counts in words
    (``item_count 0`` alone would read as a window without data)."""
    estimated = summary.get("estimated_item_count")
    details = []
    for key, value in summary.items():
        if isinstance(value, (list, dict)) or (estimated is not None and key in (
                "estimated_item_count", "performance_estimation")):
            continue
        if estimated is not None and key == "item_count":
            details.append(f"labelled {value:,}, estimated {estimated:,} (no labels yet)")
        else:
            details.append(f"{key} {value}")
    return details


def print_summary(outcome: RunOutcome) -> None:
    """Short human summary on stdout."""
    if outcome.status is RunStatus.NO_DATA:
        print(f"no data: {outcome.message}")
    else:
        print(outcome.message)
    details = ", ".join(_summary_details(outcome.summary))
    if details:
        print(details)
    examples = outcome.summary.get("bad_record_examples", []) or []
    bad = outcome.summary.get("bad_records")
    if examples and isinstance(bad, int) and bad > len(examples):
        print(f"skipped bad records: {bad:,}, the first {len(examples)} below")
    for example in examples:
        print(f"skipped bad record: {example}")
    for path in outcome.files:
        print(f"wrote {path}")


_URI = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]+):/")


def local_paths(args: argparse.Namespace) -> None:
    """The local engine reads paths: a ``file:`` URI given for one becomes its path; another URI (``s3://``) is the
    user's mistake, said in one line (argparse has folded ``s3://b/k`` into ``s3:/b/k``)."""
    for name, value in vars(args).items():
        if not isinstance(value, Path):
            continue
        found = _URI.match(str(value))
        if found is None:
            continue
        if found.group(1).lower() == "file":
            # a twentieth of a second to import: only file: URIs pay it
            from urllib.request import url2pathname

            setattr(args, name, Path(url2pathname(urlsplit(str(value)).path)))
            continue
        option = "--" + name.replace("_", "-")
        uri = f"{found.group(1)}://{str(value)[found.end():]}"
        raise AnalyzerInputError(f"{option} {uri}: the local engine reads files on this machine; copy it here first, "
                                 "or add --engine spark, which reads URIs")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m model_monitor_analyzer``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    forget_claims()
    if not argv:
        from model_monitor_analyzer.contract.entrypoint import run_container

        return run_container()
    try:
        if argv[0] == PUT_GROUND_TRUTH:
            from model_monitor_analyzer.ground_truth_sender import run_put_ground_truth

            return run_put_ground_truth(build_parser(None).parse_args(argv))
        if argv[0] == REPORT:
            from model_monitor_analyzer.history_command import run_report

            return run_report(build_parser(None).parse_args(argv))
        monitor_type = registry.by_name(_type_of(argv))
        unit = registry.monitor_package(monitor_type)
        args = build_parser(monitor_type.name).parse_args(argv)
        engine = engine_options(args.engine, args.spark_master)
        if engine.engine is Engine.LOCAL:
            local_paths(args)
        runner = registry.spark_runner(monitor_type) if engine.engine is Engine.SPARK else unit
        if args.command == "baseline":
            outcome = runner.run_baseline(unit.baseline_request(args))
        else:
            outcome = runner.run_monitor(unit.monitor_request(args))
    except NotAvailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AnalyzerInputError as exc:
        kept = kept_earlier_files()
        print(f"error: {exc.describe()}" + (f" ({kept})" if kept else ""), file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRORS:
            traceback.print_exc()
            print(BUG_LINE, file=sys.stderr)
            return EXIT_BUG
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}: check the path and its permissions, or the disk", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(BUG_LINE, file=sys.stderr)
        return EXIT_BUG
    try:
        print_summary(outcome)
    except BrokenPipeError:  # e.g. piped into `head`: the run itself succeeded
        sys.stderr.close()
    return 0
