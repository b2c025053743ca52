"""The HTTP long poll's event log in the database (SQLite and PostgreSQL): a change is
announced once, read by sequence number per topic, wakes a waiting poller, and a reader that
fell behind the pruning is told to resync."""

from __future__ import annotations

import threading

import pytest

from neutrino.bus import events as bus_events
from neutrino.contract import messages as m

pytestmark = pytest.mark.api

ADMIN = {"X-Project-Id": "p-admin", "X-Roles": "admin"}


def _message(host):
    return m.host_topic(host), m.message(m.HOST_CHANGED, host=host, revision=1)


def _log(client):
    return client.app.app.state.neutrino.bus.events  # the JsonSuffix wrapper's FastAPI app


def _start(client, topic):
    """A new poller's first answer, once the log holds something (an empty log's 0 would
    mean "from the start" to the next poll as well)."""
    _log(client).announce({"other-host": "x"}, _message)
    doc = _poll(client, topic, 0)
    assert doc["events"] == [] and not doc["reset"] and doc["last"] > 0
    return doc


def _poll(client, topic, after, timeout=0.0):
    r = client.get("/bus/v1/events", params={"topic": topic, "after": after, "timeout": timeout}, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()


def test_announced_once_and_read_after_a_sequence_number(client):
    log = _log(client)
    topic = m.host_topic("h1")
    start = _start(client, topic)

    assert log.announce({"h1": "a", "h2": "b"}, _message) == ["h1", "h2"]
    assert log.announce({"h1": "a", "h2": "b"}, _message) == []  # nothing new: nothing announced
    assert log.announce({"h1": "c", "h2": "b"}, _message) == ["h1"]

    doc = _poll(client, topic, start["last"])
    assert [e["host"] for e in doc["events"]] == ["h1", "h1"]
    assert doc["last"] > start["last"] and not doc["reset"]
    again = _poll(client, topic, doc["last"])
    assert again["events"] == [] and again["last"] == doc["last"]


def test_a_waiting_poller_is_woken_by_an_announcement(client):
    log = _log(client)
    topic = m.host_topic("h3")
    start = _start(client, topic)
    got: list[dict] = []
    poller = threading.Thread(target=lambda: got.append(_poll(client, topic, start["last"], timeout=25)))
    poller.start()
    log.announce({"h3": "x"}, _message)
    poller.join(30)
    assert got and [e["host"] for e in got[0]["events"]] == ["h3"]


def test_a_reader_behind_the_pruning_is_told_to_resync(client, monkeypatch):
    log = _log(client)
    monkeypatch.setattr(bus_events, "KEEP_ROWS", 2)
    topic = m.host_topic("h4")
    first = _start(client, topic)
    for n in range(5):
        log.announce({"h4": f"v{n}"}, _message)
    doc = _poll(client, topic, first["last"] + 1)
    assert doc["reset"] and doc["events"] == []
    fresh = _poll(client, topic, doc["last"])
    assert not fresh["reset"]
