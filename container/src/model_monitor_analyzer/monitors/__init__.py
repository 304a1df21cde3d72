"""The monitor types, one package each: ``data_quality``, ``model_quality`` and ``bias``.

A type's package is one unit, registered once in ``jobs.registry``:

* ``request``: its typed requests, frozen keyword-only dataclasses whose values are already
  typed (``Path``, ``TimeWindow``, enums for choices) and whose optional fields have documented
  defaults; how an input is read is the shared ``jobs.requests.InputOptions``;
* ``command_line``: its options and the CLI adapter, the requests from parsed arguments (no
  ``argparse.Namespace`` goes further);
* ``environment``: the container adapter, the requests from a SageMaker job environment with its
  /opt/ml paths rebased onto ``contract.paths.ContainerPaths``;
* ``run``: the runs, io -> profile -> checks -> report.

Its ``__init__`` exposes, for the CLI and the container entrypoint, nothing else:

    add_baseline_arguments(parser) -> None
    add_monitor_arguments(parser) -> None
    baseline_request(args) -> <Type>BaselineRequest
    monitor_request(args) -> <Type>MonitorRequest
    mode_of(env) -> contract.environment.RunMode
    input_documents(env) -> tuple[InputDocument, ...]
    baseline_request_from_environment(env, paths) -> <Type>BaselineRequest
    monitor_request_from_environment(env, paths) -> <Type>MonitorRequest
    run_baseline(request) -> RunOutcome
    run_monitor(request) -> RunOutcome

Values a user typed (times, JSON, numbers) are parsed while a request is built, so a mistake is a
one-line ``AnalyzerInputError`` before any input is read, naming the setting as the user gave it
(a command-line option or a job environment key: each adapter passes its own names). A decision a
run takes from the data (which capture payloads line up with the baseline) is a
``dataclasses.replace`` of its request.
"""
