"""Run one command in a fresh process and measure it: wall time, peak resident memory, its output.

Peak memory comes from ``os.wait4``: the kernel's ``ru_maxrss`` for that child alone (and whatever
it waited for), so each contender's figure is its own and not the maximum over the whole bench, as
``getrusage(RUSAGE_CHILDREN)`` would give. The command is started by ``rusage_launcher.py``, a small
interpreter, so the bench process's own memory does not leak into the figure (see that script).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "rusage_launcher.py"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Run:
    """What one command did: seconds of wall time, peak memory in MB, exit code and output.

    ``peak_rss_mb`` is the larger of the kernel's peak RSS of the process and the sampled peak of
    the summed PSS over the process and its descendants (see ``rusage_launcher.py``), so a command
    that fans out to worker processes is charged for all of them.
    """

    command: tuple[str, ...]
    seconds: float
    peak_rss_mb: float
    exit_code: int
    cpu_seconds: float  # user + system, of the command and of the worker processes it waited for
    stdout: str
    stderr: str

    def phases(self) -> dict[str, float]:
        """The last stdout line, read as the JSON object of phase timings that contender scripts print."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else {}


class CommandFailed(RuntimeError):
    """A measured command exited non-zero; the message carries the tail of its stderr."""


def measure(command: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run ``command`` to completion and measure it. Raises ``CommandFailed`` on a non-zero exit."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        report = Path(scratch) / "rusage.json"
        launcher = [sys.executable, "-I", "-S", str(LAUNCHER), str(report)]
        subprocess.run([*launcher, *command], stdout=out, stderr=err, env=env, cwd=cwd, check=False)
        usage = json.loads(report.read_text())
        out.seek(0)
        err.seek(0)
        run = Run(
            command=tuple(command),
            seconds=usage["seconds"],
            peak_rss_mb=max(usage["maxrss_kb"], usage["tree_peak_kb"]) / 1024,  # kilobytes on Linux
            exit_code=usage["exit_code"],
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            cpu_seconds=usage["cpu_seconds"],
        )
    if run.exit_code != 0:
        tail = "\n".join(run.stderr.splitlines()[-25:])
        raise CommandFailed(f"{' '.join(command)} exited {run.exit_code}:\n{tail}")
    return run


def fastest_run(runs: Sequence[Run]) -> Run:
    """The fastest of several runs of one command, with the largest peak memory seen in any of them (the
    minimum time is the run least disturbed by whatever else the machine did meanwhile)."""
    best = min(runs, key=lambda run: run.seconds)
    return dataclasses.replace(best, peak_rss_mb=max(run.peak_rss_mb for run in runs))
