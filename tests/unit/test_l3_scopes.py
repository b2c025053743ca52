"""Address scopes in the router namespace (agent/l3/scopes.py): forwarding drops, no SNAT within
the gateway's scope, and the reconciler's table kept or removed."""

from __future__ import annotations

import dataclasses

import pytest

from neutrino.agent.l3 import nat, scopes
from neutrino.agent.l3.reconciler import L3Reconciler
from neutrino.contract.desired import FixedIP, RouterGateway, RouterInterface, RouterState, Segment
from neutrino.dataplane.fake import FakeAnnouncer, FakeConntrack, FakeNftables
from neutrino.dataplane.host import HostContext

pytestmark = pytest.mark.unit

SEG = Segment("vlan", "physnet1", 100, 1500)
A, B, C = ("aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002",
           "cccccccc-0000-4000-8000-000000000003")  # fmt: skip
GW = "dddddddd-0000-4000-8000-000000000004"
QR_A, QR_B, QR_C, QG = "qr-aaaaaaaa-00", "qr-bbbbbbbb-00", "qr-cccccccc-00", "qg-dddddddd-00"


def iface(port: str, n: int, scope: str | None) -> RouterInterface:
    fixed = (FixedIP(f"sub{n}", f"10.0.{n}.1", f"10.0.{n}.0/24", f"10.0.{n}.1"),)
    return RouterInterface(port, f"net{n}", "fa:16:3e:00:00:01", fixed, SEG, address_scope_v4=scope)


def router(a: str | None, b: str | None, gw: str | None = None, *, snat: bool = True) -> RouterState:
    gateway = RouterGateway(GW, "ext", "fa:16:3e:00:00:09", (FixedIP("ext", "198.51.100.10", "198.51.100.0/24",
                            "198.51.100.1"),), SEG, snat, address_scope_v4=gw)  # fmt: skip
    return RouterState("r1", True, (iface(A, 1, a), iface(B, 2, b)), gateway, (), (), 1)


def test_no_scopes_no_table_and_plain_snat():
    r = router(None, None)
    assert scopes.render(r) is None
    assert "oifname \"qg-dddddddd-00\" accept" not in nat.render(r, QG)


def test_different_scopes_are_not_forwarded_between():
    rules = scopes.drop_rules(router("s1", "s2"))
    assert rules == [
        f'meta nfproto ipv4 oifname "{QR_A}" iifname != {{ "{QR_A}" }} drop',
        f'meta nfproto ipv4 oifname "{QR_B}" iifname != {{ "{QR_B}" }} drop',
        # IPv6: the two interfaces have none, the gateway too: all alike, nothing to drop
    ]
    body = scopes.render(router("s1", "s2"))
    assert body is not None and "ct state established,related accept" in body and "ct status dnat accept" in body


def test_gateway_exempt_for_ipv4_only_with_snat():
    with_snat = scopes.drop_rules(router("s1", "s1", "s2"))
    assert with_snat == [
        f'meta nfproto ipv4 oifname "{QR_A}" iifname != {{ "{QR_A}", "{QR_B}" }} drop',
        f'meta nfproto ipv4 oifname "{QR_B}" iifname != {{ "{QR_A}", "{QR_B}" }} drop',
    ]
    without = scopes.drop_rules(router("s1", "s1", "s2", snat=False))
    assert f'meta nfproto ipv4 oifname "{QG}" iifname != {{ "{QG}" }} drop' in without


def test_same_scope_as_the_external_network_is_not_snatted():
    r = router("s1", "s2", "s1")
    assert scopes.unsnatted_devices(r) == [QR_A]
    post = nat.render(r, QG).split("postrouting", 1)[1].splitlines()
    accept = f'\t\tiifname {{ "{QR_A}" }} oifname "{QG}" accept'
    assert accept in post and post.index(accept) == len(post) - 3  # just before the gateway SNAT
    assert scopes.unsnatted_devices(router("s1", "s2", None)) == []
    assert "oifname \"qg-dddddddd-00\" accept" not in nat.render(router("s1", "s1", "s1", snat=False), QG)


def test_reconciler_applies_and_removes_the_table():
    nft = FakeNftables()
    agent = L3Reconciler(HostContext("h"), None, None, nft, announcer=FakeAnnouncer(), conntrack=FakeConntrack())  # type: ignore[arg-type]
    agent._nat_tables("ns", router("s1", "s2"))
    assert nft.table("inet", "neutrino-scope", netns="ns") == scopes.render(router("s1", "s2"))
    agent._nat_tables("ns", router("s1", "s1", "s1"))
    assert ("inet", "neutrino-scope") not in nft.list_tables(netns="ns")
    assert len(nft.scripts) == 2  # one script per pass that changed something, whatever the tables
    # a restarted agent removes a table left behind, in the same script as the NAT table
    nft.apply_table("inet", "neutrino-scope", "\tchain forward {\n\t}\n", netns="ns")
    L3Reconciler(HostContext("h"), None, None, nft, announcer=FakeAnnouncer(), conntrack=FakeConntrack())._nat_tables("ns", router(None, None))  # type: ignore[arg-type]
    assert nft.list_tables(netns="ns") == [("ip", "neutrino-nat")]


def test_contract_defaults_keep_old_documents_readable():
    from neutrino.contract.messages import _decode

    doc = dataclasses.asdict(iface(A, 1, None))
    del doc["address_scope_v4"], doc["address_scope_v6"]
    assert _decode(RouterInterface, doc).address_scope_v4 is None
