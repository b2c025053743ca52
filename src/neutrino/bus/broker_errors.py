"""Why a broker connection failed, in one line an operator can act on, and how long to wait.

A wrong URL, wrong credentials or an unreachable broker are reported once per kind of failure
(not once per retry: a broker down for an hour must not write a line every second) and
again only when the kind changes or the connection comes back. Pure logic, unit-tested.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import urllib.parse

LOG = logging.getLogger("neutrino.bus.amqp")


def check_url(url: str) -> None:
    """ValueError unless ``url`` looks like amqp://user:password@host:port/vhost."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("amqp", "amqps", "pyamqp"):
        raise ValueError(f"transport URL {redact(url)!r}: the scheme must be amqp:// (amqp://user:password@host:5672/vhost)")
    if not parts.hostname:
        raise ValueError(f"transport URL {redact(url)!r} names no host (amqp://user:password@host:5672/vhost)")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError(f"transport URL {redact(url)!r} has a port that is not a number") from None


def redact(url: str) -> str:
    """``url`` with the password replaced by ``***``."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def describe(exc: BaseException, url: str) -> tuple[str, str]:
    """(kind, one-line explanation) of a connection failure to the broker at ``url``."""
    parts = urllib.parse.urlsplit(url)
    where = f"{parts.hostname}:{parts.port or 5672}"
    code = getattr(exc, "code", None) or getattr(exc, "reply_code", None)
    text = str(exc).strip() or type(exc).__name__
    if code == 403 or "ACCESS_REFUSED" in text:
        return "credentials", f"the broker at {where} refused the login of user {parts.username!r}: wrong user or password"
    if code == 530 or "NOT_ALLOWED" in text:
        vhost = urllib.parse.unquote(parts.path.lstrip("/")) or "/"
        return "vhost", f"the broker at {where} has no vhost {vhost!r} open to user {parts.username!r}"
    if code == 320 or "CONNECTION_FORCED" in text:
        return "closed", f"the broker at {where} closed the connection (shutting down or restarting)"
    if isinstance(exc, ConnectionRefusedError):
        return "refused", f"nothing accepts connections at {where} (broker down or wrong port)"
    if isinstance(exc, socket.gaierror):
        return "dns", f"cannot resolve the broker host {parts.hostname!r}"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout", f"timed out connecting to {where} (broker unreachable?)"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable", f"no route to the broker at {where}"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, EOFError)) or "Socket closed" in text or "closed" in text.lower():
        return "lost", f"the connection to {where} was lost ({text}): the broker restarting, or not an AMQP broker"
    return type(exc).__name__, f"the connection to {where} failed: {type(exc).__name__}: {text}"


def backoff(attempt: int, start: float = 0.5, cap: float = 30.0) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): doubling, capped."""
    return min(cap, start * (2 ** min(attempt, 30)))


class ProblemLog:
    """Logs a connection problem once per kind; logs the recovery once."""

    def __init__(self, url: str, logger: logging.Logger = LOG) -> None:
        self.url = url
        self.logger = logger
        self._kind: str | None = None
        self._text: str | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> str | None:
        """The explanation of the failure now in force, None while connected."""
        return self._text

    def failed(self, exc: BaseException, retry_in: float | None = None) -> str:
        """Record a failure; returns its one-line explanation (logged if a new kind)."""
        kind, text = describe(exc, self.url)
        with self._lock:
            new = kind != self._kind
            self._kind, self._text = kind, text
        if new:
            tail = "; retrying with backoff" if retry_in is not None else ""
            self.logger.error("bus: %s (%s)%s", text, redact(self.url), tail)
        return text

    def recovered(self) -> None:
        with self._lock:
            was, self._kind, self._text = self._kind, None, None
        if was is not None:
            self.logger.warning("bus: connected to the broker again (%s)", redact(self.url))
