"""Where the Lambda code and the analyzer's Docker context live.

Both ship inside the wheel under ``cdk_model_monitor/_bundled/`` (see pyproject.toml), so a
user who installs the library synthesizes from any folder. In a source checkout (editable
install) they are read from the repository's ``lambda/`` and ``container/`` folders.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def _root(kind: str) -> Path:
    for candidate in (_PACKAGE_DIR / "_bundled" / kind, _PACKAGE_DIR.parent.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"cdk_model_monitor: the bundled '{kind}' folder is missing from the installation at {_PACKAGE_DIR}; "
        "reinstall the package (pip install --force-reinstall cdk-model-monitor)."
    )


SHARED_LAMBDA_PACKAGE = "_shared"


def lambda_code_dir(function: str) -> str:
    """Directory of one Lambda function's code (``lambda/<function>/``)."""
    path = _root("lambda") / function
    if not (path / "index.py").is_file():
        raise FileNotFoundError(f"cdk_model_monitor: no Lambda function '{function}' in {path.parent}")
    return str(path)


def lambda_asset(function: str) -> tuple[str, list[str]]:
    """(asset directory, gitignore-style exclude patterns) of one function's asset: the ``lambda/`` folder
    with only ``<function>/`` and the handlers' shared package ``_shared/`` in it.

    Both sit at the asset's root, as in the repository, so ``index.py`` imports ``_shared`` in Lambda (the
    root is on ``sys.path``) exactly as the tests do, and a change to ``_shared`` changes every asset's hash.
    """
    lambda_code_dir(function)
    root = _root("lambda")
    if not (root / SHARED_LAMBDA_PACKAGE / "__init__.py").is_file():
        raise FileNotFoundError(f"cdk_model_monitor: the Lambda functions' shared package is missing from {root}")
    return str(root), ["/*", f"!/{function}/", f"!/{SHARED_LAMBDA_PACKAGE}/", "__pycache__/", "*.pyc"]


@cache
def lambda_shared_module(name: str) -> ModuleType:
    """A module of the Lambda functions' shared package (``lambda/_shared/<name>.py``), loaded from the very
    file the functions run, for rules the constructs must apply alike (e.g. CloudWatch metric names).
    Only modules that need nothing beyond the standard library may be loaded this way."""
    path = _root("lambda") / SHARED_LAMBDA_PACKAGE / f"{name}.py"
    module_name = f"cdk_model_monitor._lambda_shared_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"cdk_model_monitor: no shared Lambda module '{name}' at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@cache
def analyzer_module(name: str) -> ModuleType:
    """A module of the analyzer package (``container/src/model_monitor_analyzer/<name>.py``), loaded from the
    very file the analyzer image runs, for rules the alarms must apply as the analyzer does (what
    constraints.json means). Only modules that need nothing beyond the standard library may be loaded this way:
    the constructs do not depend on the analyzer's columnar libraries."""
    path = _root("container") / "src" / "model_monitor_analyzer" / f"{name}.py"
    module_name = f"cdk_model_monitor._analyzer_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"cdk_model_monitor: no analyzer module '{name}' at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def analyzer_context_dir() -> str:
    """Docker build context of the analyzer image (``container/``)."""
    path = _root("container")
    if not (path / "Dockerfile").is_file():
        raise FileNotFoundError(f"cdk_model_monitor: no Dockerfile in the analyzer context {path}")
    return str(path)
