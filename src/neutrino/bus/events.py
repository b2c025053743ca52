"""A bounded log of what was published on each topic, for agents that long-poll over HTTP.

The HTTP transport cannot push, so the server keeps the last messages of each host topic with
a sequence number; an agent asks for those after the last one it saw and waits (long poll) when
there are none. Losing old entries is harmless: notifications only say "look again", and an
agent that fell behind is told so (``reset``) and resyncs.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from neutrino.bus.transport import Transport

KEEP = 256


class EventLog:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._cond = threading.Condition()
        self._logs: dict[str, deque[tuple[int, dict[str, Any]]]] = {}
        self._seq = 0

    def _ensure(self, topic: str) -> deque[tuple[int, dict[str, Any]]]:
        log = self._logs.get(topic)
        if log is None:
            log = self._logs[topic] = deque(maxlen=KEEP)
            self.transport.subscribe(topic, lambda msg, t=topic: self._append(t, msg))
        return log

    def _append(self, topic: str, msg: dict[str, Any]) -> None:
        with self._cond:
            self._seq += 1
            self._logs[topic].append((self._seq, msg))
            self._cond.notify_all()

    def since(self, topic: str, after: int, timeout: float) -> dict[str, Any]:
        """{"events": [...], "last": seq, "reset": bool} for messages after ``after``."""
        with self._cond:
            log = self._ensure(topic)
            self._cond.wait_for(lambda: any(seq > after for seq, _ in log), timeout=timeout)
            events = [msg for seq, msg in log if seq > after]
            reset = bool(log) and after > 0 and log[0][0] > after + 1
            return {"events": events, "last": max([self._seq, after]) if events else max(after, 0), "reset": reset}
