"""Run a command and report its wall time, CPU time and peak memory (a script, run by path with ``python -I -S``).

Usage: ``python -I -S rusage_launcher.py REPORT_FILE COMMAND...``; writes ``{"seconds", "maxrss_kb",
"tree_peak_kb", "exit_code", "cpu_seconds"}`` as JSON to REPORT_FILE and exits with the command's exit code.
``cpu_seconds`` is user + system time of the command and of the processes it waited for (its workers).

Two memory figures:

* ``maxrss_kb``: the kernel's peak RSS of the command (``wait4``). For a process tree it is the
  largest single process's peak, not the sum, so it undercounts a command that fans out to workers.
* ``tree_peak_kb``: the largest sum, sampled every 50 ms (then a 50th of the command's age, at most 1 s:
  ``interval``), of the proportional set size (PSS: shared pages split between their sharers, so forked
  workers are not double counted) over the command's process and all its descendants.

Why the interval grows: a sample is not free. The kernel walks each process's mappings for its PSS: 14 ms of
CPU a sample for a Spark run's JVM and Python workers, so sampling every 50 ms took about a quarter of one core
for the whole run, and timed Spark 9 % slower on 2 CPUs (``farm-bench`` with and without this launcher). A
memory peak that lasts less than a 50th of the run's age when it happens can be missed.

Why a launcher: Linux carries a parent's peak RSS into a child it forks (the child's ``ru_maxrss``
starts from the parent's high-water mark, through fork or vfork + exec). The benchmark's own process
holds generated data and would inflate every contender's figure; this small interpreter, started
without site packages, is the parent instead, so the figure is the command's own.
"""

import json
import os
import subprocess
import sys
import threading
import time

SAMPLE_SECONDS = 0.05
MAX_SAMPLE_SECONDS = 1.0


def interval(age: float) -> float:
    """Seconds to the next sample of a command that has run for ``age`` seconds."""
    return min(MAX_SAMPLE_SECONDS, max(SAMPLE_SECONDS, age / 50))


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc/<pid>/task/*/children)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(child) for child in f.read().split())
        except OSError:
            continue
    return found


def _pss_kb(pid: int) -> int:
    """The process's PSS in kB (its RSS where smaps_rollup is unavailable); 0 once it is gone."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


def tree_kb(root: int) -> int:
    """Summed PSS of ``root`` and all its descendants, in kB."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += _pss_kb(pid)
        pending.extend(_children(pid))
    return total


def main() -> int:
    report, command = sys.argv[1], sys.argv[2:]
    peak = [0]
    done = threading.Event()
    started = time.perf_counter()
    process = subprocess.Popen(command)

    def sample() -> None:
        while not done.wait(interval(time.perf_counter() - started)):
            peak[0] = max(peak[0], tree_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    process.returncode = exit_code = os.waitstatus_to_exitcode(status)
    with open(report, "w") as f:
        json.dump(
            {
                "seconds": seconds,
                "maxrss_kb": usage.ru_maxrss,
                "tree_peak_kb": peak[0],
                "exit_code": exit_code,
                # the command's own CPU and that of the processes it waited for (its workers)
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            },
            f,
        )
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
