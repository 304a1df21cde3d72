"""Where the Lambda code and the analyzer's Docker context live.

Both ship inside the wheel under ``cdk_model_monitor/_bundled/`` (see pyproject.toml), so a
user who installs the library synthesizes from any folder. In a source checkout (editable
install) they are read from the repository's ``lambda/`` and ``container/`` folders.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

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


def lambda_code_dir(function: str) -> str:
    """Directory of one Lambda function's code (``lambda/<function>/``)."""
    path = _root("lambda") / function
    if not (path / "index.py").is_file():
        raise FileNotFoundError(f"cdk_model_monitor: no Lambda function '{function}' in {path.parent}")
    return str(path)


def analyzer_context_dir() -> str:
    """Docker build context of the analyzer image (``container/``)."""
    path = _root("container")
    if not (path / "Dockerfile").is_file():
        raise FileNotFoundError(f"cdk_model_monitor: no Dockerfile in the analyzer context {path}")
    return str(path)
