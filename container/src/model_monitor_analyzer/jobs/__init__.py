"""Runs that glue io -> profile -> checks -> report, one module per monitor type.

Each module, registered once in ``jobs.registry``, exposes the same small interface, which the
CLI and the container entrypoint use:

    add_baseline_arguments(parser: argparse.ArgumentParser) -> None
    add_monitor_arguments(parser: argparse.ArgumentParser) -> None
    run_baseline(args: argparse.Namespace) -> RunOutcome
    run_monitor(args: argparse.Namespace) -> RunOutcome

``RunOutcome`` lives in ``jobs.outcome``.
"""
