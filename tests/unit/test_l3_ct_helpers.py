"""agent/l3/ct_helpers.py and domain/l3/conntrack_helpers.py: a router's conntrack helpers."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.agent.l3 import ct_helpers
from neutrino.contract.desired import ConntrackHelperState, RouterState
from neutrino.domain.l3 import conntrack_helpers

pytestmark = pytest.mark.unit


def _router(*helpers: ConntrackHelperState) -> RouterState:
    return RouterState("r1", True, (), None, (), (), 1, conntrack_helpers=helpers)


def test_no_helper_no_table() -> None:
    assert ct_helpers.render(_router()) is None


def test_one_object_per_helper_and_protocol_and_one_rule_per_port() -> None:
    body = ct_helpers.render(_router(ConntrackHelperState("udp", 69, "tftp"), ConntrackHelperState("tcp", 21, "ftp"),
                                     ConntrackHelperState("tcp", 2121, "ftp")))  # fmt: skip
    assert body is not None
    assert body.count('ct helper ftp-tcp {') == 1 and 'type "tftp" protocol udp' in body
    assert "type filter hook prerouting priority filter; policy accept;" in body
    rules = [line.strip() for line in body.splitlines() if "ct helper set" in line]
    assert rules == ['ct state new tcp dport 21 ct helper set "ftp-tcp"', 'ct state new tcp dport 2121 ct helper set "ftp-tcp"',
                     'ct state new udp dport 69 ct helper set "tftp-udp"']  # fmt: skip


def test_allowed_helpers_and_protocols() -> None:
    conntrack_helpers.check_allowed("sip", "tcp")
    with pytest.raises(errors.ConntrackHelperNotAllowed):
        conntrack_helpers.check_allowed("http", "tcp")
    with pytest.raises(errors.InvalidProtocolForHelper, match="Supported protocols are: tcp"):
        conntrack_helpers.check_allowed("ftp", "udp")
