"""Runs that glue io -> profile -> checks -> report, one module per monitor type.

Each module, registered once in ``jobs.registry``, runs from a typed request: a frozen,
keyword-only dataclass per run (``<Type>BaselineRequest``, ``<Type>MonitorRequest``) whose values
are already typed (``Path``, ``TimeWindow``, enums for choices) and whose optional fields have
documented defaults; how the input is read is the shared ``jobs.requests.InputOptions``. The job
module exposes, for the CLI and the container entrypoint:

    add_baseline_arguments(parser: argparse.ArgumentParser) -> None
    add_monitor_arguments(parser: argparse.ArgumentParser) -> None
    baseline_request(args: argparse.Namespace) -> <Type>BaselineRequest  # from those arguments
    monitor_request(args: argparse.Namespace) -> <Type>MonitorRequest
    run_baseline(request: <Type>BaselineRequest) -> RunOutcome
    run_monitor(request: <Type>MonitorRequest) -> RunOutcome

and its contract module builds the same requests from a job environment, with no Namespace in
between:

    contract.<module>.baseline_request(env, paths) -> <Type>BaselineRequest
    contract.<module>.monitor_request(env, paths) -> <Type>MonitorRequest

The CLI runs ``run_baseline(baseline_request(args))`` when the job module defines
``baseline_request`` (likewise for monitor). Values a user typed (times, JSON) are parsed while
the request is built, so a mistake is a one-line ``AnalyzerInputError`` before any input is
read. A decision a run takes from the data (which capture payloads line up with the baseline) is
a ``dataclasses.replace`` of its request.

Only ``data_quality`` follows this pattern here. ``model_quality`` does not yet: its
``run_baseline(args)`` and ``run_monitor(args)`` take the ``argparse.Namespace`` that the CLI
parsed or that ``contract.model_quality.args_from_environment(env)`` built. Bias is one unit
already (``monitors.bias``: request, command-line adapter, container adapter and run in one
package, registered in ``jobs.registry`` by its package), the layout every type moves to.

Every contract module also says which documents a run reads from the job's inputs (baseline,
analysis config), which the entrypoint finds by what they are before building the run:

    contract.<module>.input_documents(env) -> tuple[InputDocument, ...]

``RunOutcome`` lives in ``jobs.outcome``.
"""
