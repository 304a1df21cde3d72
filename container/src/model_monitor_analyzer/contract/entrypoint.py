"""Container mode: behave like SageMaker's built-in analyzer inside a processing job (contract §6, §12).

Reads the job environment, runs the analysis named by ``analysis_type`` (data quality by
default, ``MODEL_QUALITY``, ``BIAS``/``MODEL_BIAS``), writes ``/opt/ml/output/message``
(``Completed: ...`` or ``CompletedWithViolations: ...``) and exits 0; on any error writes the
reason to the message file and exits 255, as the built-in does.

A monitoring run (not a baseline) also writes ``outcome.json`` into its output folder, beside its
reports, so the verdict (Completed, CompletedWithViolations or NoData, with the reason a window
analysed nothing) travels with them to S3 (see ``jobs.outcome``).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping

from model_monitor_analyzer.contract.environment import RunMode, job_environment
from model_monitor_analyzer.contract.input_documents import locate_documents
from model_monitor_analyzer.contract.paths import (
    ContainerPaths,
    container_paths,
    metrics_dir,
)
from model_monitor_analyzer.contract.privileges import drop_privileges, strictly_inside
from model_monitor_analyzer.errors import AnalyzerInputError, NotAvailableError
from model_monitor_analyzer.jobs import registry
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome
from model_monitor_analyzer.report.jsonfile import write_json

EXIT_FAILURE = 255
MESSAGE_LIMIT_BYTES = 1024


def write_message(paths: ContainerPaths, message: str) -> None:
    """Write the exit message (UTF-8, at most 1 KB as SageMaker keeps).

    It may run as root (a job refused before the privilege hand-over), so it never follows a
    symbolic link and writes only inside the /opt/ml root; otherwise the message stays on stderr.
    """
    data = message.encode("utf-8")[:MESSAGE_LIMIT_BYTES].decode("utf-8", errors="ignore").encode("utf-8")
    target = paths.message_file
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not strictly_inside(target.parent, paths.root):
            raise OSError(f"{target.parent} leads outside {paths.root}")
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        print(f"note: the exit message was not written to {target}: {exc.strerror or exc}", file=sys.stderr)


def recorded(outcome: RunOutcome) -> RunOutcome:
    """``outcome``, after writing its document to ``outcome.json`` in the run's output folder."""
    write_json(outcome.output_dir / OUTCOME_FILE, outcome.document())
    return outcome


def run_environment(env: Mapping[str, str], paths: ContainerPaths) -> RunOutcome:
    """Run the analysis an already merged job environment describes, once the documents it reads (baseline,
    analysis config) are found by what they are (``contract.input_documents``)."""
    monitor_type = registry.by_analysis_type(env.get("analysis_type"))
    package = registry.monitor_package(monitor_type)
    env = locate_documents(env, paths, package.input_documents(env))
    if package.mode_of(env) == RunMode.BASELINE:
        return package.run_baseline(package.baseline_request_from_environment(env, paths))
    return recorded(package.run_monitor(package.monitor_request_from_environment(env, paths)))


def run_container(process_env: Mapping[str, str] | None = None) -> int:
    """Container entrypoint: returns the process exit code (0 or 255)."""
    process_env = dict(os.environ if process_env is None else process_env)
    paths = container_paths(process_env)
    try:
        env = job_environment(process_env, paths)
        writable = [paths.message_file.parent, metrics_dir(env, paths)]
        if env.get("output_path"):
            writable.append(paths.rebase(env["output_path"]))
        drop_privileges(process_env, writable, root=paths.root)
        if env.get("output_path"):  # an earlier run's verdict must not stand for this run's, which may fail
            (paths.rebase(env["output_path"]) / OUTCOME_FILE).unlink(missing_ok=True)
        outcome = run_environment(env, paths)
    except (AnalyzerInputError, NotAvailableError) as exc:
        # each unit's environment adapter gives its run the environment's keys for every setting and document
        message = f"Error: {exc.describe() if isinstance(exc, AnalyzerInputError) else exc}"
        print(message, file=sys.stderr)
        write_message(paths, message)
        return EXIT_FAILURE
    except Exception as exc:
        traceback.print_exc()
        write_message(paths, f"Error: {type(exc).__name__}: {exc}")
        return EXIT_FAILURE
    write_message(paths, outcome.message)
    print(outcome.message)
    for key, value in outcome.summary.items():
        if not isinstance(value, (list, dict)):
            print(f"{key}: {value}")
    return 0
