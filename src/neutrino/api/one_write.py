"""uvicorn's httptools protocol, sending each response's head and body in one write.

Why: uvicorn writes the status line and headers of a response as soon as the application
starts it, then the body in a second write: two ``send`` system calls, two TCP segments, and a
client that wakes up twice (``http.client``, Python's and OpenStack's clients read the head,
then the body). For a network GET, whose answer is a few hundred bytes, that second round is a
good part of what the server spends outside the application. Here the head is held back and
goes out with the first part of the body (or alone, when the response ends without one:
HEAD, or an application that fails after starting it), and at the latest at the event loop's
next turn, so a response whose body is slow to come (a stream) still has its head sent at
once. Nothing else of the protocol changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# above this, head and body go out as two buffers of one ``writelines`` rather than a copy
JOIN_LIMIT = 64 * 1024


class HeldHeadTransport:
    """The connection's transport as the protocol sees it: the first write of a response that
    has started (its head) is held until the next write, the response's end, a close, or the
    event loop's next turn."""

    __slots__ = ("_transport", "_protocol", "_loop", "_headed", "_held")

    def __init__(self, transport: asyncio.Transport, protocol: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._protocol = protocol
        self._loop = loop
        self._headed: Any = None  # the request/response cycle whose head was seen
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        cycle = self._protocol.cycle
        held = self._held
        if cycle is not None and cycle is not self._headed and cycle.response_started:
            self._headed = cycle
            self._held = held + data if held else data
            self._loop.call_soon(self.flush)  # a no-op when the body came in the same turn
            return
        if held is None:
            self._transport.write(data)
            return
        self._held = None
        if len(data) < JOIN_LIMIT:
            self._transport.write(held + data)
        else:
            self._transport.writelines((held, data))

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():  # the peer went away: nothing to send it
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, pause_reading, get_extra_info, ...
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """``uvicorn.run(..., http=OneWriteHttpToolsProtocol)``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeldHeadTransport(transport, self, self.loop))  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        self.transport.flush()  # type: ignore[attr-defined]  # a response that ended without a body write
        super().on_response_complete()
