"""The peer tools' own virtualenv (``.bench-venv/`` at the repository root), made on first use.

Evidently 0.7 and whylogs 1.6 cannot share the project's environment (they need pandas < 3 and
numpy < 2), so they get a venv built from ``bench/requirements-peers.txt``. A stamp file holds the
hash of that file; when the requirements change, the venv is brought up to date.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-peers.txt"
PEER_VENV = REPO_ROOT / ".bench-venv"

# Telemetry off: the runs must not wait on (or report to) anything outside the machine.
PEER_ENV_VARS = {"WHYLOGS_NO_ANALYTICS": "True", "DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1"}


def peer_python(venv: Path = PEER_VENV) -> Path:
    """The interpreter of the peers' venv."""
    return venv / "bin" / "python"


def ensure_peer_env(
    *, venv: Path = PEER_VENV, base_python: str | None = None, log: Callable[[str], None] = print
) -> Path:
    """Create or update the peers' venv if needed and return its interpreter.

    ``base_python`` (default: ``$BENCH_PEER_PYTHON``, else the interpreter running the bench) makes
    the venv; it must be a Python the pinned wheels exist for (3.11 is what they are pinned on).
    """
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = venv / ".requirements-sha256"
    python = peer_python(venv)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    base = base_python or os.environ.get("BENCH_PEER_PYTHON") or sys.executable
    if not python.exists():
        log(f"creating the peer tools' virtualenv in {venv.name}/ (one time, a few minutes)")
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    log(f"installing {REQUIREMENTS.name} into {venv.name}/")
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
    )
    stamp.write_text(wanted + "\n")
    return python
