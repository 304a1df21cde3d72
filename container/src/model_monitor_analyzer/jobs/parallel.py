"""Runs split across processes: how many, and running the parts (the first here, the others forked).

A run whose input is large reads it in parts (``io.capture.capture_slices``, ``io.datasets.csv_parts``),
each into a state that merges (``profile``), one process per part: reading and parsing is most of the work
and a processing instance has 2 to 96 vCPUs. The parts' results come back in part order, so a merge in
that order gives what one process reading everything gives.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import math
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TypeVar

from model_monitor_analyzer.errors import AnalyzerInputError

T = TypeVar("T")

PARALLEL_MIN_BYTES = 32 << 20  # inputs smaller than this are read by one process
BYTES_PER_WORKER = 16 << 20  # and larger ones by one process per this much input, up to --workers


def available_cpus() -> int:
    """CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota (containers)."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def worker_count(requested: int | None, input_bytes: int, *, min_bytes: int | None = None,
                 bytes_per_worker: int | None = None) -> int:
    """Processes for an input of ``input_bytes``: one below ``min_bytes`` (default ``PARALLEL_MIN_BYTES``), else
    one per ``bytes_per_worker`` (default ``BYTES_PER_WORKER``) up to ``requested`` (default: every available
    CPU)."""
    limit = requested if requested is not None else available_cpus()
    if input_bytes < (PARALLEL_MIN_BYTES if min_bytes is None else min_bytes):
        return 1
    return max(1, min(limit, input_bytes // max(1, BYTES_PER_WORKER if bytes_per_worker is None else bytes_per_worker)))


def cores_to_spare(busy: int) -> bool:
    """Whether ``busy`` processes or threads of a run, each on a core of its own, leave a CPU idle: only then do
    Arrow's own threads inside a part shorten it; on a machine they keep busy, handing blocks between threads
    costs CPU and saves no time."""
    return busy < available_cpus()


def import_quietly(names: Sequence[str]) -> None:
    """Import ``names`` with the garbage collector paused, then keep what they made out of its later passes.

    Each library makes some hundred thousand objects that live as long as the process: a full pass of the collector
    over them comes during scipy's import, and holds Python's lock while the input is parsed (tens of
    milliseconds), and another at exit. For an import on a thread beside the read (``running_beside``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        for name in names:
            importlib.import_module(name)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextlib.contextmanager
def running_beside(work: Callable[[], object] | None) -> Iterator[None]:
    """``work`` run on a thread of its own while the block runs (nothing when None), joined when it ends, its failure
    left for whoever later needs what it does (a warm-up import that fails is said by the import itself). Enter it
    only after the run's last fork: a fork while it imports would leave the child an import lock that no thread of
    the child holds."""
    if work is None:
        yield
        return

    def run() -> None:
        with contextlib.suppress(Exception):  # see the docstring
            work()

    thread = threading.Thread(target=run, name="warm-up", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _part_in_helper(send: Connection, part: Callable[[], T]) -> None:
    """Body of a helper process: run ``part`` and send back (result, failure)."""
    try:
        send.send((part(), None))
    except BaseException as exc:  # handed to the parent, which raises it
        if isinstance(exc, AnalyzerInputError):
            send.send((None, ("input", exc.message, exc.path, exc.line)))
        else:
            send.send((None, ("crash", f"{type(exc).__name__}: {exc}", None, None)))
    finally:
        send.close()


def run_parts(parts: Sequence[Callable[[], T]]) -> list[T]:
    """Each part's result, in part order: the first part run in this process while the others run in forked
    processes at the same time. A part's ``AnalyzerInputError`` is raised here as it was raised there (the
    first part's first); any other failure is a ``RuntimeError`` naming it."""
    if len(parts) == 1:
        return [parts[0]()]
    context = multiprocessing.get_context("fork")
    helpers = []
    try:
        for index, part in enumerate(parts[1:], start=1):
            receive, send = context.Pipe(duplex=False)
            helper = context.Process(target=_part_in_helper, args=(send, part), name=f"part-{index}", daemon=True)
            helper.start()
            send.close()
            helpers.append((helper, receive))
        results: list[T] = [parts[0]()]
        failures = []
        for helper, receive in helpers:
            try:
                result, failure = receive.recv()
            except EOFError:
                result, failure = None, ("crash", f"the process of {helper.name} died (exit code {helper.exitcode})",
                                         None, None)
            results.append(result)  # type: ignore[arg-type]
            failures.append(failure)
    finally:
        for helper, receive in helpers:
            receive.close()
            helper.join()
    for failure in failures:
        if failure is not None:
            kind, message, path, line = failure
            if kind == "input":
                raise AnalyzerInputError(message, path=path, line=line)
            raise RuntimeError(message)
    return results
