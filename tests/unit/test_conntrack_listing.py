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


class _Done:
    def __init__(self, stdout: str) -> None:
        self.stdout = stdout


def test_marks_ported_entries_deletes_portless_and_falls_back_to_deleting(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Conntrack.mark`` with the program and the socket stood in for: ports -> marked over
    netlink (with the zone); ICMP -> deleted by its tuple; no socket -> deleted as well."""
    from neutrino.dataplane import conntrack

    ran: list[list[str]] = []
    monkeypatch.setattr(conntrack.programs, "run", lambda argv, **kw: ran.append(argv) or _Done(LISTING if "-L" in argv else ""))
    sent: list[tuple[int, int | None, str]] = []

    class Socket:
        def __init__(self, nfgen_family: int, **kw: object) -> None:
            self.family = nfgen_family

        def __enter__(self) -> "Socket":
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def entry(self, cmd: str, mark: int, zone: int | None, tuple_orig: object) -> None:
            assert cmd == "set"
            sent.append((mark, zone, tuple_orig.saddr))  # type: ignore[attr-defined]

    monkeypatch.setattr(conntrack, "NFCTSocket", Socket)
    assert conntrack.Conntrack().mark([["-w", "62572", "-p", "tcp"]], 1, netns="ns") == 4
    assert sent == [(1, 62572, "10.64.0.13"), (1, None, "10.9.1.1"), (1, 9, "2001:db8::1")]
    assert [argv for argv in ran if "-D" in argv] == [
        ["conntrack", "-D", "-w", "5", "-f", "ipv4", "-s", "10.9.1.1", "-d", "10.20.0.11", "-p", "icmp"]]

    def refused(*_a: object, **_kw: object) -> None:
        raise OSError("no nf_conntrack_netlink")

    monkeypatch.setattr(conntrack, "NFCTSocket", refused)
    ran.clear()
    assert conntrack.Conntrack().mark([["-w", "62572", "-p", "tcp"]], 1, netns="ns") == 4
    deleted = [argv for argv in ran if "-D" in argv]
    assert len(deleted) == 4 and ["--sport", "40122", "--dport", "8080"] == deleted[1][-4:], deleted
