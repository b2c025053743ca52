"""The transport protocol: what the server and agents need from a message bus, nothing more."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Handler = Callable[[dict[str, Any]], dict[str, Any] | None]
Listener = Callable[[dict[str, Any]], None]


class TransportError(RuntimeError):
    """The bus could not deliver (no server on the topic, timeout): the caller retries later."""


class Transport(Protocol):
    def serve(self, topic: str, handler: Handler) -> None:
        """Answer calls on ``topic`` (one server per topic)."""

    def call(self, topic: str, msg: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Request-reply; raises TransportError when nobody answers."""

    def publish(self, topic: str, msg: dict[str, Any]) -> None:
        """Fire-and-forget to every subscriber of ``topic`` (none is fine)."""

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]:
        """Receive what is published on ``topic``; returns an unsubscribe function."""

    def close(self) -> None: ...
