"""One host's transport on a connection that many hosts share: for simulating hosts, many per
process (``bench/scale.py``), where a connection, a consumer thread and a publisher per host
would cost more than the hosts themselves.

A real agent owns its transport (one per process). Simulated hosts each get a ``HostTransport``
over one shared transport (``AmqpTransport``: one consuming connection and thread, one
publishing connection): each host keeps its identity (the ``host`` it names in its calls) and
its own queue for its notifications (``subscribe`` binds one per host topic), and closing it
cancels only its own subscriptions. Calls share the shared transport's reply queue; replies
find their caller by correlation id. Losing the shared connection is every host's outage: each
host's listener gets its own "look again" when it is back, as with a connection of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from neutrino.bus.transport import Handler, Listener, Transport


class HostTransport:
    def __init__(self, shared: Transport, name: str) -> None:
        self.shared = shared
        self.name = name
        self._lock = threading.Lock()
        self._cancels: list[Callable[[], None]] = []

    def serve(self, topic: str, handler: Handler) -> None:
        self.shared.serve(topic, handler)

    def call(self, topic: str, msg: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        return self.shared.call(topic, msg, timeout)

    def publish(self, topic: str, msg: dict[str, Any]) -> None:
        self.shared.publish(topic, msg)

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]:
        cancel = self.shared.subscribe(topic, listener)
        with self._lock:
            self._cancels.append(cancel)

        def unsubscribe() -> None:
            with self._lock:
                if cancel not in self._cancels:
                    return
                self._cancels.remove(cancel)
            cancel()

        return unsubscribe

    def close(self) -> None:
        """This host's subscriptions end; the shared transport stays (its owner closes it)."""
        with self._lock:
            cancels, self._cancels = self._cancels, []
        for cancel in cancels:
            cancel()
