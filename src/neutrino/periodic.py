"""A job the server process runs every few seconds on a thread of its own.

The domain offers one round of work (``AgentStatusCheck.run_once``); the composition root
(``neutrino.server``) wraps it in a ``Periodic`` and the app's lifespan starts and stops it. A
daemon thread, so the API's event loop never waits for it; ``stop`` wakes the thread and joins
it, so shutdown is prompt and never leaves a round half done. A failed round is logged and the
next one runs at its time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self,
        name: str,
        interval: float,
        work: Callable[[], Any],
        *,
        on_start: Callable[[], None] | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.interval = interval
        self.work = work
        self.on_start = on_start
        self.on_stop = on_stop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.work()
            except Exception:  # noqa: BLE001 - a failed round must not end the job
                LOG.exception("%s failed; trying again in %.0fs", self.name, self.interval)

    def start(self) -> None:
        if self._thread is not None:
            return
        if self.on_start is not None:
            self.on_start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.on_stop is not None:
            self.on_stop()
