"""Both wheels carry the PEP 561 marker, so type checkers read the packages' annotations."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO_ROOT


def _build(source: Path, out: Path, pattern: str) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(source)], check=True)
    (found,) = out.glob(pattern)
    return found


@pytest.mark.parametrize("source, pattern, marker", [
    (REPO_ROOT, "cdk_model_monitor-*.whl", "cdk_model_monitor/py.typed"),
    (REPO_ROOT / "container", "model_monitor_analyzer-*.whl", "model_monitor_analyzer/py.typed"),
])
def test_wheel_ships_the_py_typed_marker(tmp_path, source, pattern, marker):
    wheel = _build(source, tmp_path, pattern)
    assert marker in zipfile.ZipFile(wheel).namelist()
