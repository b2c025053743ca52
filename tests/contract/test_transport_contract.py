"""One contract, three transports: what the server and agents rely on from the bus.

Each test runs against the in-process transport (``unit``), HTTP to a real server process
built in-process and served by uvicorn (``api``: the agent side is ``HttpTransport``, the server
side the app's bus), and RabbitMQ (``broker``: two ``AmqpTransport`` on a private broker, as a
server and an agent in separate processes would have). Topics are unique per test, so the
server and broker are shared by the module and session.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from neutrino.bus.transport import Transport, TransportError
from neutrino.contract import messages

WAIT = 20.0  # generous: the machine is shared; nothing here asserts a timing


@dataclass
class Pair:
    """``server`` serves and publishes; ``agent`` calls and subscribes."""

    server: Transport
    agent: Transport


class Inbox:
    """A listener that remembers what it got and lets a test wait for it."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._cond = threading.Condition()

    def __call__(self, msg: dict[str, Any]) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = WAIT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.messages), timeout=timeout)

    def revisions(self) -> list[int]:
        return [int(msg["revision"]) for msg in self.messages if not msg.get("resync")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """A real server (noauth) on a loopback port: (its bus, its URL)."""
    import uvicorn

    from neutrino.server import build
    from tests.conftest import make_settings

    port = _free_port()
    built = build(make_settings(tmp_path_factory.mktemp("server"), port=port), write_files=False)
    server = uvicorn.Server(uvicorn.Config(built.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "the test server did not start"
        yield built.state.bus, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        built.state.close()


class HttpServerSide:
    """The server's end for HTTP agents: calls answered on its transport (``/bus/v1/call``),
    notifications appended to the event log the long polls read (``/bus/v1/events``)."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus

    def serve(self, topic: str, handler: Any) -> None:
        self.bus.transport.serve(topic, handler)

    def publish(self, topic: str, msg: dict[str, Any]) -> None:
        self.bus.events.publish(topic, msg)


def _pair(kind: str, request: pytest.FixtureRequest) -> Iterator[Pair]:
    if kind == "inproc":
        from neutrino.bus.inproc import InProcTransport

        transport = InProcTransport()
        yield Pair(transport, transport)
        transport.close()
    elif kind == "http":
        from neutrino.bus.http import HttpTransport

        bus, url = request.getfixturevalue("http_server")
        agent = HttpTransport(url, lambda: "noauth")
        yield Pair(HttpServerSide(bus), agent)
        agent.close()
    elif kind == "amqp-shared":  # simulated hosts: one host's transport on a connection shared by many
        from neutrino.bus.amqp import AmqpTransport
        from neutrino.bus.shared import HostTransport

        broker = request.getfixturevalue("rabbitmq_broker")
        server, shared = AmqpTransport(broker.url, name="test-server"), AmqpTransport(broker.url, name="test-hosts")
        neighbour = HostTransport(shared, "neighbour")
        neighbour.subscribe(messages.host_topic("neighbour"), lambda msg: None)
        yield Pair(server, HostTransport(shared, "test-agent"))
        neighbour.close()
        shared.close()
        server.close()
    else:
        from neutrino.bus.amqp import AmqpTransport

        broker = request.getfixturevalue("rabbitmq_broker")
        server, agent = AmqpTransport(broker.url, name="test-server"), AmqpTransport(broker.url, name="test-agent")
        yield Pair(server, agent)
        agent.close()
        server.close()


@pytest.fixture(params=[
    pytest.param("inproc", marks=pytest.mark.unit),
    pytest.param("http", marks=pytest.mark.api),
    pytest.param("amqp", marks=pytest.mark.broker),
    pytest.param("amqp-shared", marks=pytest.mark.broker),
])  # fmt: skip
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    yield from _pair(request.param, request)


def _topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_call_gets_the_reply(pair: Pair):
    topic = _topic("q-test")
    seen: list[dict[str, Any]] = []
    pair.server.serve(topic, lambda msg: (seen.append(msg), {"echo": msg["x"], "host": msg["host"]})[1])
    reply = pair.agent.call(topic, messages.message("echo", host="compute1", x=[1, {"a": "b"}]))
    assert reply == {"echo": [1, {"a": "b"}], "host": "compute1"}
    assert seen[0]["method"] == "echo"
    assert pair.agent.call(topic, messages.message("echo", host="compute2", x=2)) == {"echo": 2, "host": "compute2"}


def test_call_to_nobody_raises_transport_error(pair: Pair):
    with pytest.raises(TransportError):
        pair.agent.call(_topic("q-nobody"), messages.message("echo"), timeout=1.0)


def test_publish_reaches_the_hosts_subscribers_only(pair: Pair):
    h1, h2 = _topic("host.h1"), _topic("host.h2")
    inbox1, inbox1b, inbox2 = Inbox(), Inbox(), Inbox()
    cancels = [pair.agent.subscribe(h1, inbox1), pair.agent.subscribe(h1, inbox1b), pair.agent.subscribe(h2, inbox2)]
    try:
        pair.server.publish(h1, messages.message(messages.HOST_CHANGED, host="h1", revision=1))
        assert inbox1.wait_for(lambda got: 1 in [g.get("revision") for g in got])
        assert inbox1b.wait_for(lambda got: 1 in [g.get("revision") for g in got])
        # had h1's message gone to h2 too, it would be queued ahead of this one
        pair.server.publish(h2, messages.message(messages.HOST_CHANGED, host="h2", revision=2))
        assert inbox2.wait_for(lambda got: 2 in [g.get("revision") for g in got])
        assert inbox2.revisions() == [2]
        assert inbox1.revisions() == [1] and inbox1b.revisions() == [1]
    finally:
        for cancel in cancels:
            cancel()


def test_unsubscribed_listener_gets_nothing_more(pair: Pair):
    topic = _topic("host.h3")
    gone, staying = Inbox(), Inbox()
    cancel_gone = pair.agent.subscribe(topic, gone)
    cancel_staying = pair.agent.subscribe(topic, staying)
    try:
        pair.server.publish(topic, messages.message(messages.HOST_CHANGED, revision=1))
        assert gone.wait_for(lambda got: len(got) >= 1) and staying.wait_for(lambda got: len(got) >= 1)
        cancel_gone()
        pair.server.publish(topic, messages.message(messages.HOST_CHANGED, revision=2))
        assert staying.wait_for(lambda got: 2 in [g.get("revision") for g in got])
        assert gone.revisions() == [1]
    finally:
        cancel_staying()


def test_unknown_version_is_dropped_and_logged_once(pair: Pair, caplog: pytest.LogCaptureFixture):
    topic, service = _topic("host.h4"), _topic("q-versions")
    inbox = Inbox()
    handled: list[dict[str, Any]] = []
    pair.server.serve(service, lambda msg: (handled.append(msg), {"ok": True})[1])
    cancel = pair.agent.subscribe(topic, inbox)
    try:
        with caplog.at_level(logging.ERROR, logger="neutrino.bus.versions"):
            for _ in range(3):
                pair.server.publish(topic, {"v": 99, "method": messages.HOST_CHANGED, "revision": 7})
            pair.server.publish(topic, messages.message(messages.HOST_CHANGED, revision=8))
            assert inbox.wait_for(lambda got: 8 in [g.get("revision") for g in got])
            with pytest.raises(TransportError):
                pair.agent.call(service, {"v": 99, "method": "echo"}, timeout=5.0)
        assert inbox.revisions() == [8]
        assert handled == []
        about_topic = [r for r in caplog.records if topic in r.getMessage() and "99" in r.getMessage()]
        assert len(about_topic) == 1, [r.getMessage() for r in caplog.records]
    finally:
        cancel()


# --- RabbitMQ only: the broker's bad days ---------------------------------------------------------


def _kill(broker: Any) -> None:
    """kill -9 of the broker's VM, as a crash would (epmd is left to the next start's cleanup)."""
    import os
    import signal

    from neutrino.dataplane import rabbitmq

    os.kill(broker.pid, signal.SIGKILL)
    deadline = time.monotonic() + WAIT
    while broker.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not broker.running
    assert rabbitmq.instance_pids(broker.node)  # epmd: stopped by the next start or stop


@pytest.mark.broker
@pytest.mark.parametrize("how", ["restarted", "killed"])
def test_broker_restart_resyncs_subscribers_and_calls_work_again(rabbitmq_broker: Any, how: str):
    from neutrino.bus.amqp import AmqpTransport

    topic, service = _topic("host.h5"), _topic("q-restart")
    server = AmqpTransport(rabbitmq_broker.url, max_backoff=0.5, name="test-server")
    agent = AmqpTransport(rabbitmq_broker.url, max_backoff=0.5, name="test-agent")
    inbox = Inbox()
    try:
        server.serve(service, lambda msg: {"ok": msg["n"]})
        agent.subscribe(topic, inbox)
        assert agent.call(service, messages.message("ping", n=1)) == {"ok": 1}
        if how == "killed":
            _kill(rabbitmq_broker.broker)
        else:
            rabbitmq_broker.stop()
        with pytest.raises(TransportError):
            agent.call(service, messages.message("ping", n=2), timeout=2.0)
        server.publish(topic, messages.message(messages.HOST_CHANGED, revision=3))  # lost: the broker is down
        rabbitmq_broker.start(rabbitmq_broker.broker.port)
        assert inbox.wait_for(lambda got: any(g.get("resync") for g in got), timeout=60), inbox.messages
        deadline = time.monotonic() + 60
        while True:
            try:
                assert agent.call(service, messages.message("ping", n=4), timeout=5.0) == {"ok": 4}
                break
            except TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        server.publish(topic, messages.message(messages.HOST_CHANGED, revision=5))
        assert inbox.wait_for(lambda got: 5 in [g.get("revision") for g in got])
    finally:
        agent.close()
        server.close()
        if rabbitmq_broker.broker is None or not rabbitmq_broker.broker.running:
            rabbitmq_broker.start(rabbitmq_broker.broker.port if rabbitmq_broker.broker else None)


@pytest.mark.broker
@pytest.mark.parametrize("case", ["password", "vhost", "port"])
def test_wrong_broker_url_is_one_log_line_and_retried(rabbitmq_broker: Any, case: str,
                                                      caplog: pytest.LogCaptureFixture):  # fmt: skip
    from neutrino.bus.amqp import AmqpTransport

    broker = rabbitmq_broker.broker
    url = {
        "password": broker.url.replace(f":{broker.password}@", ":wrong@"),
        "vhost": broker.url.rsplit("/", 1)[0] + "/no-such-vhost",
        "port": broker.url.replace(f":{broker.port}/", f":{_free_port()}/"),
    }[case]
    expected = {"password": "wrong user or password", "vhost": "no vhost", "port": "nothing accepts connections"}[case]
    # a generous connect timeout: a connection timing out under load would be a second kind of
    # problem, logged once more, where the test counts one
    transport = AmqpTransport(url, max_backoff=0.2, connect_timeout=WAIT)
    attempts = []
    connect = transport._connection

    def counting() -> Any:
        attempts.append(time.monotonic())
        return connect()

    transport._connection = counting  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.INFO, logger="neutrino.bus.amqp"):
            with pytest.raises(TransportError):  # starts the consumer; its first attempt may outlast a call
                transport.call("q-plugin", messages.message("ping"), timeout=1.0)
            deadline = time.monotonic() + WAIT
            while transport.problems.current is None:  # the first attempt failed: calls now say why at once
                assert time.monotonic() < deadline, "the first connection attempt did not end"
                time.sleep(0.05)
            for _ in range(3):
                with pytest.raises(TransportError) as failure:
                    transport.call("q-plugin", messages.message("ping"), timeout=1.0)
                assert expected in str(failure.value)
            deadline = time.monotonic() + WAIT
            while len(attempts) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
            transport.publish("host.x", messages.message(messages.HOST_CHANGED, revision=1))
        assert len(attempts) >= 4  # it keeps retrying
        lines = [r for r in caplog.records if r.name == "neutrino.bus.amqp"]
        assert len(lines) == 1, [r.getMessage() for r in lines]
        assert expected in lines[0].getMessage() and lines[0].exc_info is None
        assert broker.password not in lines[0].getMessage() and "wrong@" not in lines[0].getMessage()
    finally:
        transport.close()


@pytest.mark.unit
def test_malformed_broker_url_is_refused_at_once():
    from neutrino.bus.amqp import AmqpTransport

    for url in ("http://guest:guest@localhost:5672/", "amqp://localhost:notaport/", "localhost"):
        with pytest.raises(ValueError, match="transport URL"):
            AmqpTransport(url)
