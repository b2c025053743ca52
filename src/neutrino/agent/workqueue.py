"""A work queue of keys that deduplicates, as client-go's workqueue does, with delayed and
rate-limited adds.

Level-triggered: a key means "look at this again", not "this happened". Adding a key already
waiting is a no-op; adding a key while it is being processed makes it run once more after
``done``. So a burst of notifications costs one reconciliation, and none is lost. ``get_all``
takes every queued key at once, for a worker whose keys share work.

Retries live on the queue, not in timers or sleeps of the worker: ``add_after`` adds a key
once a delay has passed (the worker's ``get`` wakes for it), ``add_rate_limited`` adds it after
a delay that doubles with each failure of that key, up to a cap, and ``forget`` resets the
count once the key succeeded. The clock is injectable: tests drive time by hand.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Hashable


class WorkQueue:
    def __init__(self, clock: Callable[[], float] = time.monotonic, base_delay: float = 0.5, max_delay: float = 5.0) -> None:
        """``base_delay``, ``max_delay``: the first retry's delay and the cap (seconds)."""
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: list[Hashable] = []
        self._dirty: set[Hashable] = set()
        self._processing: set[Hashable] = set()
        self._waiting: list[tuple[float, int, Hashable]] = []  # (due, tie-breaker, key), a heap
        self._seq = 0
        self._failures: dict[Hashable, int] = {}
        self.base_delay, self.max_delay = base_delay, max_delay
        self._closed = False

    def add(self, key: Hashable) -> None:
        with self._cond:
            self._add(key)

    def _add(self, key: Hashable) -> None:
        if key in self._dirty or self._closed:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._cond.notify()

    def add_after(self, key: Hashable, delay: float) -> None:
        """Add ``key`` once ``delay`` seconds have passed (at once if ``delay`` <= 0)."""
        with self._cond:
            if delay <= 0:
                self._add(key)
                return
            self._seq += 1
            heapq.heappush(self._waiting, (self._clock() + delay, self._seq, key))
            self._cond.notify()

    def add_rate_limited(self, key: Hashable) -> float:
        """Add ``key`` after its backoff (``base_delay`` doubling per failure, capped); the delay."""
        with self._cond:
            failures = self._failures.get(key, 0)
            self._failures[key] = failures + 1
        delay = min(self.max_delay, self.base_delay * (2 ** min(failures, 30)))
        self.add_after(key, delay)
        return delay

    def forget(self, key: Hashable) -> None:
        """``key`` succeeded: its next failure starts the backoff afresh."""
        with self._cond:
            self._failures.pop(key, None)

    def failures(self, key: Hashable) -> int:
        with self._cond:
            return self._failures.get(key, 0)

    def _due(self) -> float | None:
        """Move the waiting keys that are due into the queue; the seconds until the next one."""
        now = self._clock()
        while self._waiting and self._waiting[0][0] <= now:
            self._add(heapq.heappop(self._waiting)[2])
        return self._waiting[0][0] - now if self._waiting else None

    def get(self, timeout: float | None = None) -> Hashable | None:
        """The next key (now being processed), or None on timeout or close."""
        with self._cond:
            deadline = None if timeout is None else self._clock() + timeout
            while True:
                next_due = self._due()
                if self._queue or self._closed:
                    break
                remaining = None if deadline is None else deadline - self._clock()
                if remaining is not None and remaining <= 0:
                    return None
                waits = [w for w in (remaining, next_due) if w is not None]
                self._cond.wait(min(waits) if waits else None)
            if self._closed:
                return None
            key = self._queue.pop(0)
            self._dirty.discard(key)
            self._processing.add(key)
            return key

    def get_all(self, timeout: float | None = None) -> list[Hashable]:
        """The next key and every other key queued with it (all now being processed), or []
        on timeout or close: one worker serves several keys that share work (the agent's
        roles share one desired state) in one go."""
        first = self.get(timeout)
        if first is None:
            return []
        with self._cond:
            self._due()
            keys = [first, *self._queue]
            self._queue.clear()
            self._dirty.difference_update(keys)
            self._processing.update(keys)
        return keys

    def done(self, key: Hashable) -> None:
        with self._cond:
            self._processing.discard(key)
            if key in self._dirty:
                self._queue.append(key)
                self._cond.notify()

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue)

    def idle(self) -> bool:
        """Nothing queued and nothing being processed (retries waiting for their delay aside):
        what a caller that stopped adding keys waits for before it reads the state."""
        with self._cond:
            return not self._queue and not self._processing

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
