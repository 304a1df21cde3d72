"""The benchmarks' launcher (``bench/rusage_launcher.py``): a command's time, exit code and the peak memory of its
process tree, sampled less often as the command ages so that a long run is not slowed by its own measurement."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import rusage_launcher

LAUNCHER = Path(rusage_launcher.__file__)


def test_samples_come_every_50_ms_then_a_50th_of_the_age_at_most_a_second():
    assert rusage_launcher.interval(0.0) == rusage_launcher.interval(2.0) == 0.05
    assert rusage_launcher.interval(10.0) == 0.2
    assert rusage_launcher.interval(49.0) == 0.98
    assert rusage_launcher.interval(600.0) == 1.0


def test_a_child_process_memory_counts_in_the_tree_peak(tmp_path):
    """A parent that starts a child holding 200 MB for a second and a half: the child's memory is in the tree's
    peak (the kernel's peak RSS, the largest single process, is the child's too), and the exit code comes back."""
    child = "import time; b = bytearray(200 << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}]); sys.exit(3)"
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-I", "-S", str(LAUNCHER), str(report), sys.executable, "-c", parent],
                          check=False)
    figures = json.loads(report.read_text())
    assert done.returncode == figures["exit_code"] == 3
    assert figures["tree_peak_kb"] >= 200 << 10
    assert 1.5 <= figures["seconds"] < 60


def test_the_cpu_of_a_worker_the_command_waited_for_counts(tmp_path):
    """A parent that starts a child spinning for half a second of CPU: the report's CPU seconds hold the child's."""
    child = "import time; end = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-I", "-S", str(LAUNCHER), str(report), sys.executable, "-c", parent], check=True)
    figures = json.loads(report.read_text())
    assert 0.5 <= figures["cpu_seconds"] <= figures["seconds"] * 2 + 1
