"""Bad input records: counted with their location, tolerated up to a ratio, then fatal."""

from __future__ import annotations

from dataclasses import dataclass, field

from model_monitor_analyzer.errors import AnalyzerInputError

DEFAULT_MAX_BAD_RECORD_RATIO = 0.1
KEPT_EXAMPLES = 20


@dataclass(frozen=True, kw_only=True)
class InputProblem:
    """One malformed line or file: where it is and what is wrong."""

    path: str
    line: int | None
    problem: str

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

    def __post_init__(self) -> None:
        ratio = self.max_bad_record_ratio
        if not isinstance(ratio, (int, float)) or not 0.0 <= ratio <= 1.0:  # NaN fails both comparisons
            raise AnalyzerInputError(
                f"max bad record ratio {ratio!r}: give a number from 0 to 1, the share of malformed records to tolerate"
            )

    def record_bad(self, path: str, line: int | None, problem: str) -> None:
        """Count one bad record (or file) and keep the first few for the report."""
        self.bad += 1
        if len(self.examples) < KEPT_EXAMPLES:
            self.examples.append(InputProblem(path=path, line=line, problem=problem))

    def merge(self, other: InputProblems) -> InputProblems:
        """Add another shard's tally (read after ours: its examples come after ours)."""
        self.good += other.good
        self.bad += other.bad
        self.outside_window += other.outside_window
        self.examples.extend(other.examples[: max(KEPT_EXAMPLES - len(self.examples), 0)])
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


def _percent(ratio: float) -> str:
    """A ratio as a percentage that is never rounded onto the ratio it is compared with (0.1 %, not 0 %)."""
    text = f"{ratio:.0%}"
    return text if float(text[:-1]) / 100 == ratio else f"{ratio * 100:.3g} %".replace(" %", "%")
