"""Writing and reading the JSON documents of the SageMaker contract."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from model_monitor_analyzer.errors import AnalyzerInputError


def write_json(path: Path, document: object) -> Path:
    """Write ``document`` as indented UTF-8 JSON (NaN/inf become null, never invalid JSON)."""
    write_bytes(path, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``, making its folder; a folder that cannot be made or written is
    the user's error, named in one line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise AnalyzerInputError("a file stands where the output folder goes: give a folder", path=str(path.parent)) from None
    except OSError as exc:
        raise AnalyzerInputError(f"cannot make the output folder: {exc.strerror or exc}", path=str(path.parent)) from None
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise AnalyzerInputError(f"cannot write the output file: {exc.strerror or exc}", path=str(path)) from None
    return path


def load_json(path: Path, *, what: str, allow_nan: bool = False) -> object:
    """The JSON value in ``path``; a missing, unreadable or malformed file is the user's error,
    in one line naming ``what`` the file should be.

    ``allow_nan`` reads the bare ``NaN`` / ``Infinity`` that Python's json module writes (Clarify's
    analysis.json holds them for metrics without a finite value).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AnalyzerInputError(f"{what} not found; pass the path of an existing {what}", path=str(path)) from None
    except OSError as exc:
        raise AnalyzerInputError(f"cannot read {what}: {exc.strerror or exc}", path=str(path)) from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if allow_nan:
            try:
                return json.loads(data)
            except (json.JSONDecodeError, UnicodeDecodeError):
                pass  # said below, with orjson's position
        line = data[: exc.pos].count(b"\n") + 1 if exc.pos is not None else None
        raise AnalyzerInputError(f"{what} is not valid JSON ({exc.msg})", path=str(path), line=line) from None


def read_json(path: Path, *, what: str) -> dict:
    """Read a JSON object from ``path``; a missing or malformed file is the user's error."""
    document = load_json(path, what=what)
    if not isinstance(document, dict):
        raise AnalyzerInputError(f"{what} must hold a JSON object", path=str(path), line=1)
    return document
