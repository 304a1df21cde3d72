"""What an install of the project puts in the virtual environment, as a user relies on it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

# The venv's console scripts sit beside its interpreter; activating the venv puts this folder first on PATH.
VENV_BIN = Path(sys.executable).parent
REPO_ROOT = Path(__file__).resolve().parent.parent


def _run(*command: str) -> str:
    """stdout of a command run with only the venv's bin on PATH: a Node of the machine cannot answer."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={"PATH": str(VENV_BIN), "HOME": os.environ.get("HOME", "/tmp")})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("script", ["node", "npm", "npx"])
def test_the_venv_bin_holds_the_node_console_scripts(script):
    path = VENV_BIN / script
    assert path.is_file() and os.access(path, os.X_OK), f"{script} is missing from {VENV_BIN}"


def test_the_venv_node_runs_a_supported_node_without_one_on_the_machine():
    major = int(re.fullmatch(r"v(\d+)\.\d+\.\d+", _run("node", "--version")).group(1))
    assert major >= 22  # Node 20 is end-of-life; jsii warns on every synth with it


def test_npx_runs_on_the_venv_node():
    # npx is a script for `node`: it runs only if the venv's node is found on PATH.
    assert re.fullmatch(r"\d+\.\d+\.\d+", _run("npx", "--version"))


def test_jsii_and_npx_use_the_same_node():
    from cdk_model_monitor._node import bundled_node

    assert _run("node", "--version") == _run(str(bundled_node()), "--version")


def _pyproject(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())


def test_the_analyzer_extra_pins_the_analyzer_version_of_the_same_repository():
    library = _pyproject(REPO_ROOT)["project"]
    analyzer = _pyproject(REPO_ROOT / "container")["project"]
    assert library["optional-dependencies"]["analyzer"] == [f"{analyzer['name']}=={analyzer['version']}"]


def test_the_demo_extra_is_a_part_of_the_dev_extra():
    # `make test` runs the demo's own checks too: the dev extra must not drop what the demo installs.
    extras = _pyproject(REPO_ROOT)["project"]["optional-dependencies"]
    assert "cdk-model-monitor[demo]" in extras["dev"]
    assert "cdk-model-monitor[analyzer]" in extras["demo"]
