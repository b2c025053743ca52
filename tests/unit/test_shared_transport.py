"""``bus/shared.py``: simulated hosts' transports on one shared transport (the in-process one
here; ``tests/contract/test_transport_contract.py`` runs the contract on a shared RabbitMQ one)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from neutrino.bus.inproc import InProcTransport
from neutrino.bus.shared import HostTransport
from neutrino.contract import messages

pytestmark = pytest.mark.unit


def _inbox() -> tuple[list[dict[str, Any]], threading.Event, Any]:
    got: list[dict[str, Any]] = []
    event = threading.Event()

    def listener(msg: dict[str, Any]) -> None:
        got.append(msg)
        event.set()

    return got, event, listener


def test_each_host_gets_its_own_notifications_and_closing_one_leaves_the_others():
    shared = InProcTransport()
    try:
        h1, h2 = HostTransport(shared, "h1"), HostTransport(shared, "h2")
        got1, seen1, listen1 = _inbox()
        got2, seen2, listen2 = _inbox()
        h1.subscribe(messages.host_topic("h1"), listen1)
        h2.subscribe(messages.host_topic("h2"), listen2)
        shared.publish(messages.host_topic("h2"), messages.message(messages.HOST_CHANGED, host="h2", revision=1))
        assert seen2.wait(30) and [m["revision"] for m in got2] == [1] and got1 == []
        h2.close()
        seen1.clear()
        shared.publish(messages.host_topic("h2"), messages.message(messages.HOST_CHANGED, host="h2", revision=2))
        shared.publish(messages.host_topic("h1"), messages.message(messages.HOST_CHANGED, host="h1", revision=3))
        assert seen1.wait(30) and [m["revision"] for m in got1] == [3]
        assert [m["revision"] for m in got2] == [1]  # h2 closed: nothing more, though the transport lives
    finally:
        shared.close()


def test_calls_go_through_the_shared_transport_and_an_unsubscribe_is_idempotent():
    shared = InProcTransport()
    try:
        shared.serve("q-test", lambda msg: {"host": msg["host"]})
        host = HostTransport(shared, "h7")
        assert host.call("q-test", messages.message("echo", host="h7")) == {"host": "h7"}
        got, seen, listener = _inbox()
        cancel = host.subscribe(messages.host_topic("h7"), listener)
        cancel()
        cancel()
        host.close()
        shared.publish(messages.host_topic("h7"), messages.message(messages.HOST_CHANGED, host="h7", revision=1))
        shared.publish("flush", messages.message(messages.HOST_CHANGED))
        assert not seen.wait(0.2) and got == []
    finally:
        shared.close()
