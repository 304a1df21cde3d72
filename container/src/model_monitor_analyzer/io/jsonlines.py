"""JSON Lines files: where they are under a folder, and their records with file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.problems import InputProblems

SUFFIXES = (".jsonl", ".json")


def json_lines_files(root: Path, *, what: str = "data") -> list[Path]:
    """``root`` itself, or every ``*.jsonl`` / ``*.json`` file under it, in path order."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise AnalyzerInputError(f"{what} location does not exist", path=str(root))
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SUFFIXES)


def iter_json_lines(path: Path, *, what: str = "record") -> Iterator[tuple[int, object]]:
    """(line number, parsed value) of every non-blank line; a line that is not JSON raises
    ``AnalyzerInputError`` naming the file and line."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                raise AnalyzerInputError(f"not a JSON {what} ({error.msg})", path=str(path), line=number) from None


def iter_json_objects(
    files: Sequence[Path], *, problems: InputProblems, what: str = "record"
) -> Iterator[tuple[Path, int, dict]]:
    """(file, line number, object) of every non-blank line of ``files`` that is a JSON object.

    The input-data policy: a line that is not JSON, or not an object, is counted in ``problems``
    with its file and line and skipped; the caller checks the tolerated ratio at the end.
    """
    loads = orjson.loads
    for path in files:
        text = str(path)
        with path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    value = loads(line)
                except orjson.JSONDecodeError as error:
                    if line.strip():
                        problems.record_bad(text, number, f"not a JSON {what} ({error.args[0] if error.args else error})")
                    continue
                if isinstance(value, dict):
                    yield path, number, value
                else:
                    problems.record_bad(text, number, f"a {what} must be a JSON object")
