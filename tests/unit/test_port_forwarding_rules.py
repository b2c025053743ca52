"""Port forwarding decisions without a database (domain/l3/port_forwarding.py) and their DNAT
rules in the router namespace (agent/l3/nat.py)."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.agent.l3 import nat
from neutrino.agent.l3.reconciler import fip_statuses
from neutrino.contract.desired import FixedIP, FloatingIPState, PortForwardingState, RouterGateway, RouterState, Segment
from neutrino.domain.l3 import port_forwarding as pf

pytestmark = pytest.mark.unit

QG_PORT = "22222222-bbbb-4bbb-8bbb-000000000002"
QG = "qg-22222222-bb"


def test_ranges_from_single_ports_and_ranges() -> None:
    assert pf.resolve_ranges(2222, None, 1111, None) == ((2222, 2222), (1111, 1111))
    assert pf.resolve_ranges(None, "5000:5009", None, "4000:4009") == ((5000, 5009), (4000, 4009))
    assert pf.resolve_ranges(None, "5000:5009", 80, None) == ((5000, 5009), (80, 80))  # 1-N
    assert pf.resolve_ranges(2222, "2222", 1111, "1111:1111") == ((2222, 2222), (1111, 1111))
    with pytest.raises(errors.BadRequest, match="N-N or 1-N"):
        pf.resolve_ranges(None, "5000:5009", None, "4000:4002")
    with pytest.raises(errors.BadRequest, match="disagree"):
        pf.resolve_ranges(2222, "3333", 1111, None)
    with pytest.raises(errors.BadRequest, match="required"):
        pf.resolve_ranges(None, None, 1111, None)


def test_collisions() -> None:
    existing = [("a", (2000, 2010)), ("b", (3000, 3000))]
    pf.check_collisions((2011, 2020), existing, "external_port_range", None)
    pf.check_collisions((2005, 2005), existing, "external_port_range", "a")  # itself, on update
    with pytest.raises(errors.BadRequest, match="2000:2010 and 2010:2012"):
        pf.check_collisions((2010, 2012), existing, "external_port_range", None)
    with pytest.raises(errors.BadRequest, match="internal_port_range"):
        pf.check_collisions((3000, 3000), existing, "internal_port_range", "a")


def test_internal_address() -> None:
    ips = [("s6", "2001:db8::5"), ("s4", "10.0.0.5"), ("s4b", "10.0.1.5")]
    assert pf.internal_address("p", ips, None) == ("s4", "10.0.0.5")
    assert pf.internal_address("p", ips, "10.0.1.5") == ("s4b", "10.0.1.5")
    with pytest.raises(errors.BadRequest, match="not suitable"):
        pf.internal_address("p", ips, "10.0.0.99")
    with pytest.raises(errors.BadRequest, match="IPv4 address at least"):
        pf.internal_address("p", [("s6", "2001:db8::5")], None)


def test_shown() -> None:
    assert pf.shown((2222, 2222), (1111, 1111)) == pf.Shown(2222, 1111, "2222:2222", "1111:1111")
    assert pf.shown((5000, 5002), (80, 80)) == pf.Shown(None, 80, "5000:5002", "80:80")


def forwarding(address: str, proto: str, ext: tuple[int, int], internal: str, inner: tuple[int, int],
               fid: str = "f1") -> PortForwardingState:  # fmt: skip
    return PortForwardingState(fid, address, proto, ext[0], ext[1], internal, inner[0], inner[1])


def router(pfs: tuple[PortForwardingState, ...], *, gateway: bool = True) -> RouterState:
    gw = RouterGateway(QG_PORT, "ext", "fa:16:3e:00:00:02",
                       (FixedIP("extsub", "198.51.100.10", "198.51.100.0/24", "198.51.100.1"),),
                       Segment("flat", "extnet", None, 1500), True)  # fmt: skip
    fips = (FloatingIPState("f1", "198.51.100.30", None, None, "DOWN"),
            FloatingIPState("f2", "198.51.100.31", None, None, "DOWN"))  # fmt: skip
    return RouterState("r1", True, (), gw if gateway else None, (), fips, 1, port_forwardings=pfs)


PFS = (
    forwarding("198.51.100.30", "udp", (2222, 2222), "10.0.1.11", (53, 53)),
    forwarding("198.51.100.30", "tcp", (2222, 2222), "10.0.1.11", (22, 22)),
    forwarding("198.51.100.30", "tcp", (5000, 5002), "10.0.1.12", (4000, 4002)),
    forwarding("198.51.100.30", "tcp", (6000, 6009), "10.0.1.12", (80, 80)),
    forwarding("2001:db8::30", "tcp", (1, 1), "2001:db8:1::5", (1, 1), fid="f9"),  # IPv6: no NAT
)


def test_forwarding_rules_in_prerouting_and_output() -> None:
    rules = [
        "ip daddr 198.51.100.30 tcp dport 2222 dnat to 10.0.1.11:22",
        "ip daddr 198.51.100.30 tcp dport 5000-5002 dnat to 10.0.1.12 : tcp dport map "
        "{ 5000 : 4000, 5001 : 4001, 5002 : 4002 }",
        "ip daddr 198.51.100.30 tcp dport 6000-6009 dnat to 10.0.1.12:80",
        "ip daddr 198.51.100.30 udp dport 2222 dnat to 10.0.1.11:53",
    ]
    body = nat.render(router(PFS), QG)
    prerouting, output, postrouting = body.split("\tchain ")[1:]
    for chain in (prerouting, output):
        assert [line.strip() for line in chain.splitlines()[2:-1]] == rules
    assert "dnat to" not in postrouting and "snat to 198.51.100.10" in postrouting


def test_forwarded_address_on_gateway_and_status() -> None:
    r = router(PFS)
    assert nat.addresses(r)[QG] == ["198.51.100.10/24", "198.51.100.30/32"]
    assert fip_statuses(r) == {"f1": "ACTIVE", "f2": "DOWN"}
    without_gateway = router(PFS, gateway=False)
    assert nat.port_forwardings(without_gateway) == []
    assert "dnat to" not in nat.render(without_gateway, "")
