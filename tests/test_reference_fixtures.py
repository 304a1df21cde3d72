"""The real SageMaker and Clarify files the tests compare against are in the repository, each as its
SOURCES.md entry describes it: a fresh clone runs every comparison, and a file that goes missing or
changes fails here by name."""

from __future__ import annotations

import re

import pytest

from .conftest import REFERENCE_EXAMPLES

ENTRY = re.compile(r"^- \*\*`(?P<path>[^`]+)`\*\* \((?P<size>\d+) bytes\)")


def _entries() -> list[tuple[str, int]]:
    entries, folder = [], None
    for line in (REFERENCE_EXAMPLES / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            folder = line[3:].strip().rstrip("/")
        elif (match := ENTRY.match(line)) and folder:
            entries.append((f"{folder}/{match['path']}", int(match["size"])))
    return entries


ENTRIES = _entries()


def test_sources_name_every_file() -> None:
    listed = {path for path, _ in ENTRIES}
    present = {p.relative_to(REFERENCE_EXAMPLES).as_posix() for p in REFERENCE_EXAMPLES.rglob("*")
               if p.is_file() and p.name != "SOURCES.md"}
    assert len(ENTRIES) > 50
    assert present - listed == set(), "files without a SOURCES.md entry (say where they came from)"
    assert listed - present == set(), "SOURCES.md entries whose file is missing"


@pytest.mark.parametrize(("path", "size"), ENTRIES, ids=[path for path, _ in ENTRIES])
def test_file_is_as_its_source_says(path: str, size: int) -> None:
    assert (REFERENCE_EXAMPLES / path).stat().st_size == size
