"""Walking a SageMaker capture tree (standard library only, shared by every contender's environment)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def capture_files(root: Path) -> list[Path]:
    """Every ``.jsonl`` file below ``root``, in path order (which is time order in SageMaker's layout)."""
    return sorted(root.rglob("*.jsonl"))


def header_names(csv_path: Path) -> list[str]:
    """Column names from the first line of a CSV file with a header."""
    with csv_path.open("rb") as f:
        return f.readline().decode().rstrip("\r\n").split(",")


def file_lines(path: Path) -> Iterator[bytes]:
    """The non-blank lines of one capture file, without their line ends."""
    with path.open("rb") as f:
        for line in f.read().splitlines():
            if line.strip():
                yield line
