"""What an install of the project puts in the virtual environment, as a user relies on it."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def _requires(name: str) -> list[str]:
    """Requirement lines of a distribution: this project's from its pyproject.toml (the installed
    metadata of an editable install dates from its install), the others' from their metadata."""
    if name != "cdk-model-monitor":
        return metadata.requires(name) or []
    project = _pyproject(REPO_ROOT)["project"]
    return project["dependencies"] + [f"{line}; extra == {extra!r}"
                                      for extra, lines in project["optional-dependencies"].items()
                                      for line in lines]


def _installed_closure(requirement: str) -> set[str]:
    """Canonical names of the distributions ``requirement`` pulls in, itself included."""
    seen: set[str] = set()
    pending = [Requirement(requirement)]
    while pending:
        wanted = pending.pop()
        name = canonicalize_name(wanted.name)
        if name in seen and not wanted.extras:
            continue
        seen.add(name)
        for line in _requires(name):
            needed = Requirement(line)
            active = not needed.marker or any(needed.marker.evaluate({"extra": e}) for e in wanted.extras | {""})
            if active and (canonicalize_name(needed.name) not in seen or needed.extras):
                pending.append(needed)
    return seen


def _third_party_imports(*sources: Path) -> set[str]:
    """Top-level modules imported by the sources, outside the standard library and the project."""
    modules = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"demo", "__future__"}


def test_the_demo_extra_installs_every_module_the_demo_and_the_example_app_import():
    providers = metadata.packages_distributions()
    closure = _installed_closure("cdk-model-monitor[demo]")
    sources = [REPO_ROOT / "app.py", *sorted((REPO_ROOT / "demo").glob("*.py")),
               *sorted((REPO_ROOT / "constructs" / "cdk_model_monitor").rglob("*.py"))]
    missing = {module for module in _third_party_imports(*sources)
               if not {canonicalize_name(d) for d in providers.get(module, [])} & closure}
    assert missing == set(), f"the demo imports {sorted(missing)}, which the demo extra does not install"
