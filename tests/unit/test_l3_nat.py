"""The L3 agent's pure renderers: NAT table text, addresses and routes of a router."""

from __future__ import annotations

import dataclasses

import pytest

from neutrino.agent.l3 import nat
from neutrino.agent.l3.reconciler import fip_statuses
from neutrino.contract.desired import FixedIP, FloatingIPState, RouterGateway, RouterInterface, RouterState, Segment

pytestmark = pytest.mark.unit

QR_PORT = "11111111-aaaa-4aaa-8aaa-000000000001"
QG_PORT = "22222222-bbbb-4bbb-8bbb-000000000002"
QR, QG = "qr-11111111-aa", "qg-22222222-bb"
SEG = Segment("vlan", "physnet1", 100, 1500)
EXT = Segment("flat", "extnet", None, 1500)


def fip(fid: str, address: str, fixed: str | None, port: str | None = "vm-port") -> FloatingIPState:
    return FloatingIPState(fid, address, fixed, port if fixed else None, "DOWN")


def router(*, snat: bool = True, gateway: bool = True, fips: tuple[FloatingIPState, ...] = (),
           routes: tuple[tuple[str, str], ...] = (), gw_ip: str = "198.51.100.1") -> RouterState:  # fmt: skip
    iface = RouterInterface(QR_PORT, "net1", "FA:16:3E:00:00:01",
                            (FixedIP("sub1", "10.0.1.1", "10.0.1.0/24", "10.0.1.1"),), SEG)  # fmt: skip
    gw = RouterGateway(QG_PORT, "ext", "fa:16:3e:00:00:02",
                       (FixedIP("extsub", "198.51.100.10", "198.51.100.0/24", gw_ip),), EXT, snat)  # fmt: skip
    return RouterState("r1", True, (iface,), gw if gateway else None, routes, fips, 1)


FIPS = (
    fip("f2", "198.51.100.21", "10.0.1.12"),
    fip("f1", "198.51.100.20", "10.0.1.11"),
    fip("f3", "198.51.100.22", None),  # not associated
    fip("f6", "2001:db8::20", "2001:db8:1::11"),  # IPv6: no NAT
)


def test_snat_with_floating_ips() -> None:
    assert nat.render(router(fips=FIPS), QG) == (
        "\tchain prerouting {\n"
        "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
        "\t\tip daddr 198.51.100.20 dnat to 10.0.1.11\n"
        "\t\tip daddr 198.51.100.21 dnat to 10.0.1.12\n"
        "\t}\n"
        "\tchain output {\n"
        "\t\ttype nat hook output priority -100; policy accept;\n"
        "\t\tip daddr 198.51.100.20 dnat to 10.0.1.11\n"
        "\t\tip daddr 198.51.100.21 dnat to 10.0.1.12\n"
        "\t}\n"
        "\tchain postrouting {\n"
        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        '\t\tip saddr 10.0.1.11 oifname "qg-22222222-bb" snat to 198.51.100.20\n'
        '\t\tip saddr 10.0.1.12 oifname "qg-22222222-bb" snat to 198.51.100.21\n'
        '\t\toifname "qg-22222222-bb" ct status & dnat == 0 snat to 198.51.100.10\n'
        "\t}\n"
    )


def test_snat_only() -> None:
    body = nat.render(router(), QG)
    assert "dnat to" not in body
    assert body.count("snat to") == 1
    assert '\t\toifname "qg-22222222-bb" ct status & dnat == 0 snat to 198.51.100.10\n' in body


def test_snat_disabled_keeps_floating_ips() -> None:
    body = nat.render(router(snat=False, fips=FIPS[1:2]), QG)
    rules = [line.strip() for line in body.splitlines() if "nat to" in line]
    assert rules == [
        "ip daddr 198.51.100.20 dnat to 10.0.1.11",
        "ip daddr 198.51.100.20 dnat to 10.0.1.11",
        'ip saddr 10.0.1.11 oifname "qg-22222222-bb" snat to 198.51.100.20',
    ]


def test_no_gateway_means_empty_chains() -> None:
    body = nat.render(router(gateway=False, fips=FIPS), "")
    assert body == (
        "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t}\n"
        "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n\t}\n"
        "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t}\n"
    )
    assert nat.floating_ips(router(gateway=False, fips=FIPS)) == []


def test_addresses() -> None:
    assert nat.addresses(router(fips=FIPS)) == {
        QR: ["10.0.1.1/24"],
        QG: ["198.51.100.10/24", "198.51.100.20/32", "198.51.100.21/32"],
    }
    assert nat.addresses(router(gateway=False, fips=FIPS)) == {QR: ["10.0.1.1/24"]}
    assert nat.qg_device(router()) == QG
    assert nat.gateway_ip(router()) == "198.51.100.10"


def test_routes_default_and_extra() -> None:
    extra = (("192.168.0.0/16", "10.0.1.254"), ("172.16.0.5/16", "10.0.1.253"),
             ("192.168.0.0/16", "10.0.1.250"), ("2001:db8:9::/48", "2001:db8:1::1"))  # fmt: skip
    assert nat.routes(router(routes=extra)) == [
        ("default", "198.51.100.1"),
        ("192.168.0.0/16", "10.0.1.254"),  # ECMP: the first nexthop only
        ("172.16.0.0/16", "10.0.1.253"),  # normalised
    ]
    assert nat.routes(router(gateway=False, routes=extra[:1])) == [("192.168.0.0/16", "10.0.1.254")]


def test_gateway_outside_its_subnet_gets_an_onlink_route_first() -> None:
    assert nat.routes(router(gw_ip="203.0.113.1")) == [("203.0.113.1/32", None), ("default", "203.0.113.1")]


def test_no_gateway_ip_no_default_route() -> None:
    r = router()
    assert r.gateway is not None
    gw = dataclasses.replace(r.gateway, fixed_ips=(FixedIP("extsub", "198.51.100.10", "198.51.100.0/24", None),))
    assert nat.routes(dataclasses.replace(r, gateway=gw)) == []


def test_fip_statuses() -> None:
    assert fip_statuses(router(fips=FIPS)) == {"f1": "ACTIVE", "f2": "ACTIVE", "f3": "DOWN", "f6": "ERROR"}
    assert fip_statuses(router(gateway=False, fips=FIPS[1:3])) == {"f1": "ERROR", "f3": "DOWN"}
