"""The broker transport's failure reports (one line per kind), backoff and URL checks."""

from __future__ import annotations

import logging
import socket

import amqp.exceptions
import pytest

from neutrino.bus import versions
from neutrino.bus.broker_errors import ProblemLog, backoff, check_url, describe, redact
from neutrino.contract import messages as m

pytestmark = pytest.mark.unit
URL = "amqp://neutrino:s3cret@10.0.0.5:5672/lab-a"


def test_failures_are_named_by_kind():
    assert describe(ConnectionRefusedError(111, "refused"), URL)[0] == "refused"
    assert describe(amqp.exceptions.AccessRefused("ACCESS_REFUSED - Login was refused"), URL)[0] == "credentials"
    kind, text = describe(amqp.exceptions.NotAllowed("NOT_ALLOWED - vhost lab-a not found"), URL)
    assert kind == "vhost" and "'lab-a'" in text
    assert describe(socket.gaierror(-2, "Name or service not known"), URL)[0] == "dns"
    assert describe(TimeoutError("timed out"), URL)[0] == "timeout"
    assert describe(amqp.exceptions.ConnectionForced("CONNECTION_FORCED - shutdown"), URL)[0] == "closed"
    assert describe(ConnectionResetError(104, "reset"), URL)[0] == "lost"


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(i, start=0.5, cap=4) for i in range(6)] == [0.5, 1, 2, 4, 4, 4]
    assert backoff(10_000, cap=30) == 30


def test_one_log_line_per_kind_and_one_on_recovery(caplog):
    problems = ProblemLog(URL, logging.getLogger("test.broker"))
    with caplog.at_level(logging.INFO, logger="test.broker"):
        for _ in range(20):
            problems.failed(ConnectionRefusedError(111, "refused"), retry_in=1.0)
        problems.failed(amqp.exceptions.AccessRefused("ACCESS_REFUSED"), retry_in=1.0)
        problems.failed(amqp.exceptions.AccessRefused("ACCESS_REFUSED"), retry_in=1.0)
        assert problems.current is not None
        problems.recovered()
        problems.recovered()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines
    assert "nothing accepts connections" in lines[0] and "wrong user or password" in lines[1]
    assert "again" in lines[2] and problems.current is None
    assert all("s3cret" not in line and "***" in line for line in lines)
    assert all(r.exc_info is None for r in caplog.records)


def test_urls_are_checked_and_redacted():
    check_url(URL)
    for bad in ("http://h:5672/", "amqp:///vhost", "amqp://h:port/"):
        with pytest.raises(ValueError):
            check_url(bad)
    assert redact(URL) == "amqp://neutrino:***@10.0.0.5:5672/lab-a"


def test_unknown_versions_are_logged_once_per_version(caplog):
    with caplog.at_level(logging.ERROR, logger="neutrino.bus.versions"):
        assert versions.accept(m.message(m.HOST_CHANGED), "host.unit-a")
        assert not any(versions.accept({"v": 77}, "host.unit-a") for _ in range(5))
        assert not versions.accept({"v": 78}, "host.unit-a")
        assert not versions.accept("not a dict", "host.unit-a")
    assert len(caplog.records) == 3
    assert versions.look_again()["method"] == m.HOST_CHANGED
