"""Bad input records: counted with their location, tolerated up to a ratio, then fatal."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from model_monitor_analyzer.errors import AnalyzerInputError

DEFAULT_MAX_BAD_RECORD_RATIO = 0.1
KEPT_EXAMPLES = 20


@dataclass(frozen=True, kw_only=True)
class InputProblem:
    """One malformed line or file: where it is and what is wrong."""

    path: str
    line: int | None
    problem: str
    counted_from: int = 0
    """The byte of ``path`` where ``line`` was counted from (``InputProblems.count_lines_from``); 0: its start."""

    def describe(self) -> str:
        """``<file>:<line>: <problem>`` (or ``<file>: <problem>`` for a whole file)."""
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.problem}"


@dataclass(kw_only=True)
class InputProblems:
    """Running tally of good and bad records of one input of a run.

    The run fails (``check`` raises) once bad records exceed ``max_bad_record_ratio`` of all
    records of the input read; the error names the input, its counts and the first bad location.
    Mutable: io functions add to it.
    """

    max_bad_record_ratio: float = DEFAULT_MAX_BAD_RECORD_RATIO
    good: int = 0
    bad: int = 0
    examples: list[InputProblem] = field(default_factory=list)
    outside_window: int = 0
    """Well-formed records skipped because their time falls outside the run's window."""
    tolerance_setting: str = "--max-bad-record-ratio"
    """How the user set ``max_bad_record_ratio`` (an option, or a job environment key), for the message."""
    input_name: str = "records"
    """What the tallied records are, in the message (``capture records``): a run that reads several inputs
    keeps one tally per input, so that one input's good records never hide the other's bad ones."""

    _line_bases: dict[str, int] = field(default_factory=dict, repr=False)
    """Files read from a byte other than their start, whose lines are counted from there (``count_lines_from``)."""

    def __post_init__(self) -> None:
        ratio = self.max_bad_record_ratio
        if not isinstance(ratio, (int, float)) or not 0.0 <= ratio <= 1.0:  # NaN fails both comparisons
            raise AnalyzerInputError(
                f"max bad record ratio {ratio!r}: give a number from 0 to 1, the share of malformed records to tolerate"
            )

    def count_lines_from(self, path: str, start: int) -> None:
        """Say that this tally's lines of ``path`` are counted from its byte ``start`` (a line break precedes it): a
        part of a large file read by a process of its own, which need not count the lines before its part
        (``lines_of_part``). A tally that merges it without such a base turns them into lines of the whole file."""
        self._line_bases[path] = start

    def count_lines_from_start(self, path: str) -> None:
        """Lines of ``path`` are counted from its start again; the examples counted from elsewhere become lines of
        the whole file (the lines before their byte counted, once a byte: only when there are examples)."""
        base = self._line_bases.pop(path, 0)
        if base:
            self.examples = [_counted_from(example, 0) if example.path == path and example.counted_from == base
                             else example for example in self.examples]

    def record_bad(self, path: str, line: int | None, problem: str) -> None:
        """Count one bad record (or file) and keep the first few for the report."""
        self.bad += 1
        if len(self.examples) < KEPT_EXAMPLES:
            base = self._line_bases.get(path, 0) if line is not None else 0
            self.examples.append(InputProblem(path=path, line=line, problem=problem, counted_from=base))

    def merge(self, other: InputProblems) -> InputProblems:
        """Add another shard's tally (read after ours: its examples come after ours). Its lines counted from our
        base for their file (a reader's tally of a chunk) take it; those counted from another byte become lines of
        the whole file, counted here (only for the examples kept: a rare, short read)."""
        self.good += other.good
        self.bad += other.bad
        self.outside_window += other.outside_window
        for example in other.examples[: max(KEPT_EXAMPLES - len(self.examples), 0)]:
            base = self._line_bases.get(example.path, 0)
            if example.line is not None and example.counted_from != base:
                example = (replace(example, counted_from=base) if example.counted_from == 0
                           else _counted_from(example, base))
            self.examples.append(example)
        return self

    def record_outside(self, count: int = 1) -> None:
        """Count records left out because their time is outside the window."""
        self.outside_window += count

    def record_good(self, count: int = 1) -> None:
        """Count records that were read successfully."""
        self.good += count

    @property
    def ratio(self) -> float:
        """Share of bad records among all the lines read (0 when nothing was read). A bad line has no time to
        place it in a window, so the well-formed lines outside the window count too: a file holding mostly
        other hours' records (and their bad lines) does not fail the window it was read for."""
        total = self.good + self.bad + self.outside_window
        return self.bad / total if total else 0.0

    def check(self) -> None:
        """Raise ``AnalyzerInputError`` if the bad share is above the tolerance, or when the only records read
        were bad (a window whose records are all outside it is not refused: it has no data)."""
        nothing_readable = self.good == 0 and self.outside_window == 0
        if self.bad and (nothing_readable or self.ratio > self.max_bad_record_ratio):
            first = self.examples[0]
            if nothing_readable:  # nothing to analyse, whatever the tolerance
                why = f"none of the {self.bad} {self.input_name} could be read; fix the input"
            else:
                read = self.good + self.bad + self.outside_window
                outside = f", {self.outside_window:,} of them outside the window" if self.outside_window else ""
                why = (f"{self.bad} of {read} {self.input_name} are malformed{outside}, more than the tolerated "
                       f"{_percent(self.max_bad_record_ratio)}; fix the input or raise {self.tolerance_setting}")
            raise AnalyzerInputError(f"{first.problem} ({why})", path=first.path, line=first.line)


@contextlib.contextmanager
def lines_of_part(problems: InputProblems, path: str, start: int, lines_before: int | None) -> Iterator[int]:
    """The lines a reader of a file's part from byte ``start`` adds to its own line numbers: ``lines_before``, or,
    when those were not counted (None), 0 while ``problems`` counts from ``start``; on leaving, its examples are
    lines of the whole file again (``InputProblems.count_lines_from_start``)."""
    if lines_before is not None or start == 0:
        yield lines_before or 0
        return
    problems.count_lines_from(path, start)
    try:
        yield 0
    finally:
        problems.count_lines_from_start(path)


def _counted_from(example: InputProblem, base: int) -> InputProblem:
    """``example`` with its line counted from byte ``base`` of its file (its start, for the run's own tally): the
    lines between the two bytes are counted. A file that cannot be read again (gone since) names the part."""
    assert example.line is not None
    try:
        lines = _lines_between(example.path, base, example.counted_from)
    except OSError:
        return replace(example, path=f"{example.path} (the part from byte {example.counted_from})", counted_from=base)
    return replace(example, line=example.line + lines, counted_from=base)


def _lines_between(path: str, start: int, end: int) -> int:
    """The line breaks of the file at ``path`` from its byte ``start`` up to ``end``, negative when ``end`` comes
    first."""
    sign = 1 if start <= end else -1
    start, end = min(start, end), max(start, end)
    lines = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left and (block := handle.read(min(left, 8 << 20))):
            lines += block.count(b"\n")
            left -= len(block)
    return sign * lines


def _percent(ratio: float) -> str:
    """A ratio as a percentage that is never rounded onto the ratio it is compared with (0.1 %, not 0 %)."""
    text = f"{ratio:.0%}"
    return text if float(text[:-1]) / 100 == ratio else f"{ratio * 100:.3g} %".replace(" %", "%")
