"""The in-process transport: the server and every agent of a lab in one Python process.

Calls run the handler in the caller's thread (like a synchronous RPC); publications are
delivered by one dispatcher thread so a publisher (the server after a commit) never waits for
an agent. Messages are deep-copied through JSON on the way, so nothing passes that a real
broker could not carry, and checked for their version as every transport does (``versions``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import orjson

from neutrino.bus import versions
from neutrino.bus.transport import Handler, Listener, TransportError

LOG = logging.getLogger(__name__)


def _copy(msg: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(orjson.dumps(msg))  # type: ignore[no-any-return]


class InProcTransport:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._listeners: dict[str, list[Listener]] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._dispatch, name="bus-dispatch", daemon=True)
        self._thread.start()

    def serve(self, topic: str, handler: Handler) -> None:
        with self._lock:
            self._handlers[topic] = handler

    def call(self, topic: str, msg: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        handler = self._handlers.get(topic)
        if handler is None:
            raise TransportError(f"no server on topic {topic}")
        if not versions.accept(msg, topic):
            raise TransportError(f"call {topic}: request of version {msg.get('v')!r} refused")
        reply = handler(_copy(msg))
        return _copy(reply or {})

    def publish(self, topic: str, msg: dict[str, Any]) -> None:
        self._queue.put((topic, _copy(msg)))

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.setdefault(topic, []).append(listener)

        def cancel() -> None:
            with self._lock:
                if listener in self._listeners.get(topic, []):
                    self._listeners[topic].remove(listener)

        return cancel

    def _dispatch(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            topic, msg = item
            if not versions.accept(msg, topic):
                continue
            with self._lock:
                listeners = list(self._listeners.get(topic, ()))
            for listener in listeners:
                try:
                    listener(msg)
                except Exception:  # noqa: BLE001 - one bad listener must not stop delivery
                    LOG.exception("listener on %s failed", topic)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
