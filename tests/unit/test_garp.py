"""Gratuitous ARP rounds: arping -U then -A per IPv4 address, in the background, three rounds."""

from __future__ import annotations

import threading
import time

import pytest

from neutrino.dataplane.errors import ProgramMissing
from neutrino.dataplane.garp import Announcer

pytestmark = pytest.mark.unit


def test_rounds_of_unsolicited_and_reply_mode_for_ipv4_only():
    calls, done = [], threading.Event()

    def run(argv, **kw):
        calls.append((kw["netns"], argv))
        if len(calls) == 4:
            done.set()

    announcer = Announcer(run, rounds=2, interval=0.01)
    announcer.announce("qg-1", ["198.51.100.10/24", "2001:db8::1/64"], netns="ns1")
    assert done.wait(30)
    assert [argv[1] for _, argv in calls] == ["-U", "-A", "-U", "-A"]
    assert all(ns == "ns1" and argv[-1] == "198.51.100.10" and argv[3] == "qg-1" for ns, argv in calls)


def test_a_missing_arping_is_noticed_once():
    calls = []

    def run(argv, **kw):
        calls.append(argv)
        raise ProgramMissing("arping")

    announcer = Announcer(run, rounds=3, interval=0.01)
    announcer.announce("qr-1", ["10.0.0.1/24"], netns=None)
    deadline = time.monotonic() + 30  # the announcer's thread notices; bounds a failure only
    while announcer.available and time.monotonic() < deadline:
        threading.Event().wait(0.01)
    assert not announcer.available and len(calls) == 1
    announcer.announce("qr-1", ["10.0.0.1/24"], netns=None)  # nothing more is tried
    assert len(calls) == 1
