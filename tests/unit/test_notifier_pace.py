"""The notifier's passes take at most a fifth of the time (bus/server.py): commits that come
during a pass or its rest coalesce into one next pass, and with no agent anywhere a pass
writes nothing."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.orm import sessionmaker

from neutrino.bus import server as bus_server
from neutrino.bus.inproc import InProcTransport

pytestmark = pytest.mark.unit

PASS_SECONDS = 0.05


def test_passes_rest_four_times_their_duration_and_coalesce_wakeups(monkeypatch):
    notifier = bus_server.Notifier(InProcTransport(), sessionmaker())
    starts: list[float] = []
    done = threading.Event()

    def slow_pass() -> list[str]:
        starts.append(time.monotonic())
        time.sleep(PASS_SECONDS)
        if len(starts) == 3:
            done.set()
        return []

    monkeypatch.setattr(notifier, "pass_once", slow_pass)
    notifier.start()
    try:
        deadline = time.monotonic() + 30  # bounds a failure only
        while not done.is_set() and time.monotonic() < deadline:
            notifier._after_commit(None)  # a stream of commits, far more than passes
            time.sleep(0.005)
        assert done.wait(30)
    finally:
        notifier.stop()
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    rest = PASS_SECONDS * (1 - bus_server.MAX_SHARE) / bus_server.MAX_SHARE
    assert all(gap >= PASS_SECONDS + rest * 0.9 for gap in gaps), gaps


class _NoAgents:
    """A read session whose agent query finds nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def scalars(self, _stmt):
        return []

    def rollback(self):
        pass


class _RefusingLog:
    def announce(self, prints, message):
        raise AssertionError("no agent anywhere: the event log must not be written")


def test_no_agents_no_announcement():
    notifier = bus_server.Notifier(InProcTransport(), sessionmaker(), read_sessions=_NoAgents, log=_RefusingLog())
    assert notifier.pass_once() == []
