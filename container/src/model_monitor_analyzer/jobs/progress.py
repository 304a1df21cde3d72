"""Progress lines on stderr for long runs, the same for every monitor type.

``progress: 1,500,000 records read, 98,000 records/s[, about 12 s left]``. At most one line every
``TERMINAL_INTERVAL_SECONDS`` on a terminal, and one a minute when stderr is not a terminal:
container logs (a processing job's stderr goes to CloudWatch Logs, never to a terminal) and
redirected output are read later, where a line every few seconds is noise. ``--quiet`` (or
``enabled=False``) prints nothing. A run that printed a line ends with a last one saying the total.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO, TypeVar

TERMINAL_INTERVAL_SECONDS = 5.0
LOG_INTERVAL_SECONDS = 60.0
_CLOCK_EVERY_ITEMS = 1024  # items counted between two looks at the clock: a record costs far more than that look

T = TypeVar("T")


def interval_for(stream: TextIO) -> float:
    """Seconds between two lines: short on a terminal, a minute for logs."""
    try:
        return TERMINAL_INTERVAL_SECONDS if stream.isatty() else LOG_INTERVAL_SECONDS
    except (AttributeError, ValueError):  # a closed or file-like stream without isatty
        return LOG_INTERVAL_SECONDS


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def progress_line(records: int, elapsed: float, total: int | None = None) -> str:
    """``progress: N records read, R records/s`` plus the time left when ``total`` is known."""
    rate = records / elapsed if elapsed > 0 else 0.0
    line = f"progress: {records:,} records read, {rate:,.0f} records/s"
    if total is not None and rate > 0 and total >= records:
        line += f", about {_duration((total - records) / rate)} left"
    return line


class ProgressReporter:
    """Prints ``progress_line`` at most once per interval while a run reads its input.

    Args:
        enabled: False prints nothing (``--quiet``).
        stream: where lines go (default stderr).
        clock: seconds, monotonic (default ``time.monotonic``; tests pass a fake one).
        interval: seconds between lines (default ``interval_for(stream)``).
        total: the records the run will read, when known: lines then say the time left.

    When an input is split, the main process's reporter ``include``s a counter shared with the
    helper processes (``multiprocessing.Value``), whose ``helper`` reporters add their records to it.
    """

    def __init__(
        self,
        *,
        enabled: bool,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = None,
        total: int | None = None,
    ) -> None:
        self.enabled = enabled
        self._others: Any = None  # the helpers' records, read for each line (``include``)
        self._shared: Any = None  # where a helper adds its records (``helper``)
        self._counted = 0  # records already added to ``_shared``
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._interval = interval if interval is not None else interval_for(self._stream)
        self._total = total
        self._started = self._last = clock()
        self._printed = False

    def update(self, records: int) -> None:
        """Say how far the run is, unless a line was printed less than an interval ago."""
        if self._shared is not None:
            self._add_to_shared(records)
        if not self.enabled:
            return
        now = self._clock()
        if now - self._last < self._interval:
            return
        self._last = now
        if self._others is not None:
            records += self._others.value
        self._write(progress_line(records, now - self._started, self._total))

    def include(self, counter: Any) -> None:
        """Count the records of helper processes too, as they add them to ``counter`` (``helper``)."""
        self._others = counter

    @classmethod
    def helper(cls, counter: Any) -> ProgressReporter:
        """A helper process's reporter: prints nothing, adds its records to ``counter`` (the one the
        main process's reporter ``include``s)."""
        reporter = cls(enabled=False)
        reporter._shared = counter
        return reporter

    def _add_to_shared(self, records: int) -> None:
        if records > self._counted:
            with self._shared.get_lock():
                self._shared.value += records - self._counted
            self._counted = records

    def finish(self, records: int) -> None:
        """The total, when the run printed any progress line (a short run stays silent)."""
        if self.enabled and self._printed:
            elapsed = self._clock() - self._started
            self._write(f"progress: done, {records:,} records read in {_duration(elapsed)}")

    def counted(self, items: Iterable[T]) -> Iterator[T]:
        """``items`` unchanged, counted as records read; ``finish`` is called when they run out."""
        count = 0
        for count, item in enumerate(items, start=1):
            if count % _CLOCK_EVERY_ITEMS == 0:
                self.update(count)
            yield item
        self.finish(count)

    def _write(self, line: str) -> None:
        print(line, file=self._stream, flush=True)
        self._printed = True
