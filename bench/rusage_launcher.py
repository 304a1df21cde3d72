"""Run a command and report its own wall time and peak RSS (a script, run by path with ``python -I -S``).

Usage: ``python -I -S rusage_launcher.py REPORT_FILE COMMAND...``; writes ``{"seconds", "maxrss_kb",
"exit_code"}`` as JSON to REPORT_FILE and exits with the command's exit code.

Why a launcher: Linux carries a parent's peak RSS into a child it forks (the child's ``ru_maxrss``
starts from the parent's high-water mark, through fork or vfork + exec). The benchmark's own process
holds generated data and would inflate every contender's figure; this small interpreter, started
without site packages, is the parent instead, so the figure is the command's own.
"""

import json
import os
import subprocess
import sys
import time


def main() -> int:
    report, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = exit_code = os.waitstatus_to_exitcode(status)
    with open(report, "w") as f:
        json.dump({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "exit_code": exit_code}, f)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
