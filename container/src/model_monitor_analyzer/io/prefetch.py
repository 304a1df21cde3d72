"""Reading ahead on a second thread, so that parsing the next batch overlaps profiling this one.

Arrow's JSON and CSV readers and numpy release the GIL while they work, so on a two-core
processing instance the reader thread and the profiling thread really run side by side.
Memory stays bounded: at most ``depth`` batches wait in the queue.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

DEFAULT_DEPTH = 2
_POLL_SECONDS = 0.1


class _End:
    """Marks the end of the items, or carries the reader's exception."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def read_ahead(items: Iterable[T], *, depth: int = DEFAULT_DEPTH) -> Iterator[T]:
    """Yield ``items`` in order while a background thread produces up to ``depth`` of them ahead.

    An exception raised by ``items`` is re-raised here, at the point the consumer reaches it.
    Closing this generator early stops the reader thread.
    """
    waiting: queue.Queue = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed over to the consumer, which re-raises it
            put(_End(error))
            return
        put(_End())

    reader = threading.Thread(target=produce, name="read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = waiting.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        reader.join()
