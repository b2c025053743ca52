"""The server's HTTP protocol sends a response's head with its body, in one write, and answers
exactly as uvicorn's own: plain, HEAD, streamed, empty, failing, keep-alive."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn

from neutrino.api.one_write import HeldHeadTransport, OneWriteHttpToolsProtocol

pytestmark = pytest.mark.unit


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        self.writes.append(b"".join(chunks))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


class FakeLoop:
    def __init__(self) -> None:
        self.soon: list[Any] = []

    def call_soon(self, callback: Any) -> None:
        self.soon.append(callback)


def _held() -> tuple[HeldHeadTransport, FakeTransport, SimpleNamespace]:
    protocol = SimpleNamespace(cycle=None, loop=FakeLoop())
    real = FakeTransport()
    return HeldHeadTransport(real, protocol, protocol.loop), real, protocol  # type: ignore[arg-type]


def test_head_goes_out_with_the_body() -> None:
    held, real, protocol = _held()
    held.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before any response: straight through
    protocol.cycle = SimpleNamespace(response_started=True)
    held.write(b"HEAD1")
    assert real.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    held.write(b"body1")
    held.write(b"more")  # a streamed response's later parts: straight through
    protocol.cycle = SimpleNamespace(response_started=True)  # the next request on the connection
    held.write(b"HEAD2")
    held.write(b"x" * 100_000)  # a big body: head and body as one writelines
    assert real.writes == [b"HTTP/1.1 100 Continue\r\n\r\n", b"HEAD1body1", b"more", b"HEAD2" + b"x" * 100_000]
    for callback in protocol.loop.soon:  # the loop's next turn: nothing left to send
        callback()
    assert len(real.writes) == 4
    assert held.get_extra_info("peername") == "info:peername"


def test_a_head_whose_body_is_slow_goes_out_at_the_loops_next_turn() -> None:
    held, real, protocol = _held()
    protocol.cycle = SimpleNamespace(response_started=True)
    held.write(b"HEAD")
    assert real.writes == []
    (flush,) = protocol.loop.soon
    flush()
    held.write(b"first part of a stream")
    assert real.writes == [b"HEAD", b"first part of a stream"]


def test_a_head_without_body_is_flushed_or_sent_before_a_close() -> None:
    held, real, protocol = _held()
    protocol.cycle = SimpleNamespace(response_started=True)
    held.write(b"HEAD")
    held.flush()  # the response ended without a body write (HEAD)
    held.flush()
    assert real.writes == [b"HEAD"]
    protocol.cycle = SimpleNamespace(response_started=True)
    held.write(b"HEAD-then-fail")
    held.close()
    assert real.writes == [b"HEAD", b"HEAD-then-fail"] and real.closed
    held, real, protocol = _held()
    protocol.cycle = SimpleNamespace(response_started=True)
    held.write(b"HEAD")
    real.closed = True  # the peer went away: nothing more is written
    held.flush()
    assert real.writes == []


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/fail":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        raise RuntimeError("after the start")
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.05)  # the head goes out before the body
        for part in (b"one,", b"two"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b'{"hello": "world"}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def server_port() -> Any:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(_app, host="127.0.0.1", port=port, http=OneWriteHttpToolsProtocol, ws="none",
                            lifespan="off", log_level="critical", loop="asyncio")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30  # bounds a failure only
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def _exchange(port: int, raw: bytes, until: bytes, times: int = 1) -> bytes:
    """Send ``raw``; what comes back until ``until`` was seen ``times`` times, or the close."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(raw)
        got = b""
        while got.count(until) < times:
            part = conn.recv(65536)
            if not part:
                break
            got += part
        return got


def test_responses_through_a_real_server(server_port: int) -> None:
    two = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    got = _exchange(server_port, two, b"world\"}", times=2)
    assert got.count(b"HTTP/1.1 200 OK\r\n") == 2 and got.count(b'{"hello": "world"}') == 2
    head = _exchange(server_port, b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n", b"world")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.count(b"content-length: 18") == 2
    assert head.count(b'{"hello": "world"}') == 1
    stream = _exchange(server_port, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", b"0\r\n\r\n")
    assert b"transfer-encoding: chunked" in stream and stream.endswith(b"4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n")
    empty = _exchange(server_port, b"GET /empty HTTP/1.1\r\nHost: x\r\n\r\n", b"\r\n\r\n")
    assert empty.startswith(b"HTTP/1.1 204 No Content\r\n")
    failed = _exchange(server_port, b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n", b"never")
    assert failed.startswith(b"HTTP/1.1 200 OK\r\n") and failed.endswith(b"\r\n\r\n")  # head, then closed
