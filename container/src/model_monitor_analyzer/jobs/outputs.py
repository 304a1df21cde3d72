"""A run's output folder: checked before any input is read, cleared of the run's own files before
the first is written.

Three rules keep a user's files safe, for every monitor type:

- an output folder that is, or lies inside, an input folder is refused (the next run would read
  this run's files as data), and so is one where a file the run writes is an input (``--output``
  equal to the baseline's folder would replace the baseline it checks against);
- an output folder holding an earlier run's files is refused unless ``--overwrite`` is given (the
  container contract passes it: each execution gets a folder of its own);
- with ``--overwrite``, the run first removes the files it owns there, so a run that finds no data
  leaves no earlier run's violations behind, and merged records do not pile up across runs.

A run names the files it writes: names in the output folder, and other paths (the metric-lines
file, earlier merged-record files). Nothing else is touched, and a folder standing where the run
writes a file is refused, never removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE

OVERWRITE_FIX = "pass --overwrite to replace them, or give a new folder"
# Folders whose earlier files this process claimed with --overwrite and has not replaced yet: a run that fails
# before writing keeps them (nothing is lost), and its error says they are not its own.
_KEPT: dict[Path, int] = {}


def forget_claims() -> None:
    """Start a run with no claim (the CLI may be called several times in one process)."""
    _KEPT.clear()


def kept_earlier_files() -> str | None:
    """What a failed run says of the earlier files it left in place (None: there are none)."""
    if not _KEPT:
        return None
    return "; ".join(f"{folder} still holds {count} file(s) of an earlier run, not of this one"
                     for folder, count in _KEPT.items())


@dataclass(frozen=True, kw_only=True)
class OutputClaim:
    """The paths a run may write, found free (or freed by ``--overwrite``) before it read anything."""

    folder: Path
    writes: tuple[Path, ...]  # the files the run writes

    def clear(self) -> None:
        """Remove what an earlier run left at the paths this run writes; call it just before writing."""
        _KEPT.pop(self.folder, None)
        for path in self.writes:
            try:
                path.unlink(missing_ok=True)  # a link is removed itself, never what it points at
            except OSError as exc:
                raise AnalyzerInputError(
                    f"cannot replace an earlier run's file: {exc.strerror or exc}", path=str(path)
                ) from None


def claim_output(
    folder: Path,
    *,
    writes: Iterable[Path | str],
    inputs: Iterable[Path | None],
    overwrite: bool,
    option: str = "--output",
) -> OutputClaim:
    """Check ``folder`` before the run reads its ``inputs`` (files or folders; None is skipped).

    ``writes`` are file names inside ``folder`` (text) or other paths; a run that writes any also owns an
    ``outcome.json`` there (``jobs.outcome``), which it removes with ``overwrite`` and refuses without. Raises the user's one-line
    error for a folder that is a file, cannot be written, overlaps an input, has a folder where the
    run writes a file, or holds files an earlier run wrote (unless ``overwrite``).
    """
    folder = Path(folder)
    writes = tuple(writes)
    if writes and OUTCOME_FILE not in writes:  # an earlier run's verdict must not stand beside this run's files
        writes = (*writes, OUTCOME_FILE)
    written = tuple(folder / path if isinstance(path, str) else Path(path).absolute() for path in writes)
    if folder.exists() and not folder.is_dir():
        raise AnalyzerInputError(f"{option} {folder} is a file, not a folder: give a folder for the run's files")
    for path in written:
        if path.parent.exists() and not path.parent.is_dir():
            raise AnalyzerInputError(f"{path.parent} is a file, not a folder: give a folder for the run's {path.name}")
    _refuse_overlap(folder, written, [Path(p) for p in inputs if p is not None], option=option)
    _refuse_unwritable(folder, option=option)
    for path in written:
        if path.is_dir() and not path.is_symlink():
            raise AnalyzerInputError(f"{path} is a folder where the run writes its {path.name}: move it elsewhere")
    previous = [path for path in written if path.exists() or path.is_symlink()]
    if previous and not overwrite:
        inside = [path for path in previous if _within(path.absolute(), folder.absolute())]
        shown = inside or previous
        names = ", ".join(_shown(path, folder) for path in shown[:4]) + (", ..." if len(shown) > 4 else "")
        if inside:
            raise AnalyzerInputError(f"{option} {folder} holds an earlier run's {names}: {OVERWRITE_FIX}")
        raise AnalyzerInputError(f"an earlier run's {names} is where this run writes: {OVERWRITE_FIX}")
    if previous:
        _KEPT[folder] = len(previous)
    return OutputClaim(folder=folder, writes=written)


def refuse_output_inside(folder: Path, inputs: Iterable[Path | None], *, option: str = "--output") -> None:
    """Refuse ``folder`` when it is, or lies inside, one of the input folders ``inputs`` (None is skipped): for inputs
    a run reads through a copy (a transform job's files, staged as captures), checked before the copy is made."""
    _refuse_overlap(Path(folder), (), [Path(p) for p in inputs if p is not None], option=option)


def merged_record_files(folder: Path) -> tuple[Path, ...]:
    """The merged-record files a run wrote in ``folder`` (``part-*.c000.jsonl``), to be replaced."""
    return tuple(sorted(folder.glob("part-*.c000.jsonl"))) if folder.is_dir() else ()


def _shown(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _refuse_overlap(folder: Path, writes: tuple[Path, ...], inputs: list[Path], *, option: str) -> None:
    target = folder.resolve()
    resolved_writes = [path.resolve() for path in writes]
    for source in inputs:
        if not source.exists():
            continue  # the reader says what is missing
        resolved = source.resolve()
        if source.is_dir() and _within(target, resolved):
            raise AnalyzerInputError(
                f"{option} {folder} lies inside the input folder {source}: the next run would read this run's "
                "files as data; write the output elsewhere"
            )
        for path, written in zip(writes, resolved_writes, strict=True):
            if source.is_dir() and _within(written, resolved):
                raise AnalyzerInputError(
                    f"{path} lies inside the input folder {source}: the next run would read it as data; "
                    "write it elsewhere"
                )
            if _within(resolved, written):
                raise AnalyzerInputError(
                    f"{option} {folder} would overwrite the input {source} with this run's {_shown(path, folder)}; "
                    "write the output to another folder"
                )


def _refuse_unwritable(folder: Path, *, option: str) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise AnalyzerInputError(f"{option} {folder}: {existing} is a file, so the folder cannot be made")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise AnalyzerInputError(f"{option} {folder}: {existing} is not writable: give a folder you can write")
