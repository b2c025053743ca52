"""A work queue of keys that deduplicates, as client-go's workqueue does.

Level-triggered: a key means "look at this again", not "this happened". Adding a key already
waiting is a no-op; adding a key while it is being processed makes it run once more after
``done``. So a burst of notifications costs one reconciliation, and none is lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class WorkQueue:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: list[Hashable] = []
        self._dirty: set[Hashable] = set()
        self._processing: set[Hashable] = set()
        self._closed = False

    def add(self, key: Hashable) -> None:
        with self._cond:
            if key in self._dirty or self._closed:
                return
            self._dirty.add(key)
            if key not in self._processing:
                self._queue.append(key)
                self._cond.notify()

    def get(self, timeout: float | None = None) -> Hashable | None:
        """The next key (now being processed), or None on timeout or close."""
        with self._cond:
            deadline = None if timeout is None else self._clock() + timeout
            while not self._queue and not self._closed:
                remaining = None if deadline is None else deadline - self._clock()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if self._closed:
                return None
            key = self._queue.pop(0)
            self._dirty.discard(key)
            self._processing.add(key)
            return key

    def done(self, key: Hashable) -> None:
        with self._cond:
            self._processing.discard(key)
            if key in self._dirty:
                self._queue.append(key)
                self._cond.notify()

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
