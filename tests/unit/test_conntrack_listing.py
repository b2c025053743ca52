"""What ``conntrack -L`` prints, read as the entries to mark (dataplane/conntrack.py, pure part)."""

from __future__ import annotations

import pytest

from neutrino.dataplane.conntrack import Listed, parse_listing

pytestmark = pytest.mark.unit

LISTING = """\
tcp      6 431999 ESTABLISHED src=10.64.0.13 dst=10.64.0.100 sport=40122 dport=8080 src=10.64.0.100 dst=10.64.0.13 sport=8080 dport=40122 [ASSURED] mark=0 zone=62572 use=1
udp      17 29 src=10.9.1.1 dst=10.20.0.11 sport=1000 dport=53 [UNREPLIED] src=10.20.0.11 dst=10.9.1.1 sport=53 dport=1000 mark=0 use=1
icmp     1 29 src=10.9.1.1 dst=10.20.0.11 type=8 code=0 id=7 [UNREPLIED] src=10.20.0.11 dst=10.9.1.1 type=0 code=0 id=7 mark=0 zone=5 use=1
tcp      6 299 ESTABLISHED src=2001:db8::1 dst=2001:db8::2 sport=5000 dport=22 src=2001:db8::2 dst=2001:db8::1 sport=22 dport=5000 mark=1 zone=9 use=1
conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.
"""


def test_the_original_tuple_and_zone_of_each_line() -> None:
    assert parse_listing(LISTING) == [
        Listed(6, "tcp", "10.64.0.13", "10.64.0.100", 40122, 8080, 62572),
        Listed(17, "udp", "10.9.1.1", "10.20.0.11", 1000, 53, 0),  # no zone printed: zone 0
        Listed(1, "icmp", "10.9.1.1", "10.20.0.11", None, None, 5),  # no ports: deleted, not marked
        Listed(6, "tcp", "2001:db8::1", "2001:db8::2", 5000, 22, 9),
    ]


def test_nothing_listed() -> None:
    assert parse_listing("") == []
    assert parse_listing("conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n") == []
