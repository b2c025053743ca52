"""A restarted agent's firewall (``agent/firewall/applier.py``): tables whose marker chain says
they hold what the agent would write are left alone; a difference, or the audit's repair, writes."""

from __future__ import annotations

import pytest

from neutrino.agent.firewall import rules
from neutrino.agent.firewall.applier import FirewallApplier, marker
from neutrino.agent.firewall.sysctls import REQUIRED
from neutrino.dataplane.fake import FakeNetlink, FakeNftables
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.nftables import parse_chains
from tests.unit.test_firewall_rules import port, rule

pytestmark = pytest.mark.unit

PORTS = [port(rule("ingress", protocol="tcp", low=22, high=22), rule("egress"))]


def applier(nft: FakeNftables, netlink: FakeNetlink) -> FirewallApplier:
    return FirewallApplier(HostContext(name="h"), nft, netlink)


def test_a_fresh_applier_adopts_matching_tables_and_writes_changed_ones() -> None:
    netlink = FakeNetlink()
    netlink._ns(None).sysctls.update(REQUIRED)
    nft = FakeNftables(netlink)
    assert applier(nft, netlink)(PORTS) is True and len(nft.scripts) == 1
    body = nft.tables[(None, rules.FAMILY, rules.TABLE)]
    assert marker(rules.render(PORTS, ())) in parse_chains(f"table {rules.FAMILY} {rules.TABLE}\n" + body)[(rules.FAMILY, rules.TABLE)]

    restarted = applier(nft, netlink)  # an agent restart: same ports, nothing written
    assert restarted(PORTS) is False and len(nft.scripts) == 1
    assert restarted(PORTS) is False and len(nft.scripts) == 1

    other = applier(nft, netlink)  # a rule changed while the agent was away: written
    assert other(PORTS + [port(rule("egress"), pid="b1b2c3d4-0000-4000-8000-00000000000b", mac="fa:16:3e:00:00:0b",
                               ips=("10.0.0.11",))]) is True  # fmt: skip
    assert len(nft.scripts) == 2

    repaired = applier(nft, netlink)
    repaired.forget()  # the audit's repair trusts no marker
    assert repaired(PORTS) is True and len(nft.scripts) == 3


def test_chain_names_per_table_from_nft_list_chains() -> None:
    text = ("table inet neutrino-ct {\n\tchain pre {\n\t\ttype filter hook prerouting priority raw; policy accept;\n\t}\n"
            "\tchain fp_ab {\n\t}\n}\ntable bridge neutrino-fw {\n\tchain fp_cd {\n\t}\n}\n")  # fmt: skip
    assert parse_chains(text) == {("inet", "neutrino-ct"): {"pre", "fp_ab"}, ("bridge", "neutrino-fw"): {"fp_cd"}}


def test_new_members_for_the_same_ports_rerender_only_the_sets_and_flush_nothing() -> None:
    """The same port objects (a members-only change): the table written is what a fresh render
    gives, the CT table is not rewritten, and no conntrack entry is flushed; a removed rule
    (new port objects) still flushes."""
    from neutrino.contract.desired import RemoteGroup
    from neutrino.dataplane.fake import FakeConntrack

    netlink = FakeNetlink()
    netlink._ns(None).sysctls.update(REQUIRED)
    nft, ct = FakeNftables(netlink), FakeConntrack()
    fw = FirewallApplier(HostContext(name="h"), nft, netlink, ct)
    ports = [port(rule("ingress", remote_group="sg-1"), rule("ingress", protocol="tcp", low=22, high=22), rule("egress"))]
    one, two = (RemoteGroup("sg-1", ("10.0.0.5",), ()),), (RemoteGroup("sg-1", ("10.0.0.5", "10.0.0.9"), ()),)
    assert fw(ports, one) is True
    ct_text = nft.tables[(None, rules.CT_FAMILY, rules.CT_TABLE)]
    assert fw(ports, two) is True
    assert nft.tables[(None, rules.FAMILY, rules.TABLE)].startswith(rules.render(ports, two).rstrip("\n"))
    assert nft.tables[(None, rules.CT_FAMILY, rules.CT_TABLE)] == ct_text and ct.marked == []
    fewer = [port(rule("ingress", remote_group="sg-1"), rule("egress"))]  # the ssh rule removed
    assert fw(fewer, two) is True
    assert nft.tables[(None, rules.FAMILY, rules.TABLE)].startswith(rules.render(fewer, two).rstrip("\n"))
    assert [argv for _ns, argv, _mark in ct.marked] == [("-w", ct.marked[0][1][1], "-f", "ipv4", "-d", "10.0.0.10", "-p", "tcp",
                                                    "--dport", "22")]  # fmt: skip
