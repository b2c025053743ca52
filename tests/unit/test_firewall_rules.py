"""The hybrid firewall's nftables text: golden checks per rule kind and for a realistic whole
script (tests/fixtures/firewall_full.nft, which nft itself checks in tests/integration)."""

from __future__ import annotations

import dataclasses

import os
from pathlib import Path

import pytest

from neutrino.agent.firewall import rules, sysctls
from neutrino.dataplane.nftables import replace_script
from neutrino.contract.desired import BoundPort, FixedIP, SecurityRule
from neutrino.domain.secgroups.rules import initial_rules

pytestmark = pytest.mark.unit

PID = "a1b2c3d4-0000-4000-8000-00000000000a"
MAC = "fa:16:3e:00:00:0a"
IP = "10.0.0.10"
CIDR = "10.0.0.0/24"


def rule(direction: str, ethertype: str = "IPv4", protocol: str | None = None, low: int | None = None,
         high: int | None = None, prefixes: tuple[str, ...] = (), remote_group: str | None = None) -> SecurityRule:  # fmt: skip
    return SecurityRule("sg-1", direction, ethertype, protocol, low, high, prefixes, remote_group)


def port(*rules_: SecurityRule, pid: str = PID, mac: str = MAC, ips: tuple[str, ...] = (IP,), groups: tuple[str, ...] = ("sg-1",),
         pairs: tuple[tuple[str, str], ...] = (), security: bool = True) -> BoundPort:  # fmt: skip
    fixed = tuple(FixedIP("sub", ip, "2001:db8::/64" if ":" in ip else CIDR, None) for ip in ips)
    return BoundPort(pid, "net", mac, True, "compute:nova", "vm", "ovs", None, fixed, security, groups, rules_, pairs, 1)


def chain(body: str, name: str) -> list[str]:
    """The rule lines of one chain of a rendered body (without its comment)."""
    lines = body.splitlines()
    start = lines.index(f"\tchain {name} {{")
    end = lines.index("\t}", start)
    return [line.strip() for line in lines[start + 2 : end]]


def default_group(members4: tuple[str, ...], members6: tuple[str, ...] = ()) -> tuple[SecurityRule, ...]:
    """Neutron's ``default`` group, its remote group already resolved into member addresses."""
    out = []
    for spec in initial_rules("sg-1", default_group=True):
        members = (members4 if spec.ethertype == "IPv4" else members6) if spec.remote_group_id else ()
        out.append(rule(spec.direction, spec.ethertype, prefixes=members, remote_group=spec.remote_group_id))
    return tuple(out)


# --- golden text ------------------------------------------------------------------------------

GOLDEN_DEFAULT = """\
	map to_vm {
		type ifname : verdict
		elements = {
			"tapa1b2c3d4-00" : jump ia1b2c3d4-0
		}
	}
	map from_vm {
		type ifname : verdict
		elements = {
			"tapa1b2c3d4-00" : jump oa1b2c3d4-0
		}
	}
	chain forward {
		type filter hook forward priority 100; policy accept;
		ether type vlan accept
		oifname vmap @to_vm
		iifname vmap @from_vm
	}
	chain input {
		type filter hook input priority -200; policy accept;
		meta mark set meta mark and 0xfcffffff
		iifname vmap @from_vm
	}
	chain ia1b2c3d4-0 {
		comment "port a1b2c3d4-0000-4000-8000-00000000000a: to the VM"
		meta l4proto tcp meta mark and 0x03000000 == 0x01000000 accept
		meta protocol != { ip, ip6 } accept
		meta protocol ip ip daddr { 10.0.0.10, 255.255.255.255 } udp sport 67 udp dport 68 accept
		meta protocol ip6 ip6 daddr fe80::/64 udp sport 547 udp dport 546 accept
		meta protocol ip udp sport 67 udp dport 68 drop
		meta protocol ip6 udp sport 547 udp dport 546 drop
		meta protocol ip6 icmpv6 type { mld-listener-query, nd-neighbor-solicit, nd-neighbor-advert } accept
		meta protocol ip6 ip6 saddr fe80::/10 icmpv6 type nd-router-advert accept
		meta mark and 0x03000000 == 0x01000000 accept
		meta mark and 0x03000000 == 0x02000000 drop
		meta protocol ip ip saddr { 10.0.0.11, 10.0.0.12 } accept
		drop
	}
	chain oa1b2c3d4-0 {
		comment "port a1b2c3d4-0000-4000-8000-00000000000a: from the VM"
		meta l4proto tcp meta mark and 0x03000000 == 0x01000000 ether saddr fa:16:3e:00:00:0a ip saddr 10.0.0.10 accept
		ether saddr fa:16:3e:00:00:0a meta protocol ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept
		ether saddr fa:16:3e:00:00:0a meta protocol ip6 ip6 saddr :: ip6 daddr ff02::/16 icmpv6 type { mld-listener-report, nd-neighbor-solicit, mld2-listener-report } accept
		jump sa1b2c3d4-0
		meta l4proto tcp meta mark and 0x03000000 == 0x01000000 accept
		meta protocol arp accept
		meta protocol ip udp sport 68 udp dport 67 accept
		meta protocol ip udp sport 67 drop
		meta protocol ip6 udp sport 546 udp dport 547 accept
		meta protocol ip6 udp sport 547 drop
		meta protocol ip6 icmpv6 type nd-router-advert drop
		meta protocol ip6 meta l4proto ipv6-icmp accept
		meta mark and 0x03000000 == 0x01000000 accept
		meta mark and 0x03000000 == 0x02000000 drop
		meta protocol ip accept
		meta protocol ip6 accept
		drop
	}
	chain sa1b2c3d4-0 {
		comment "port a1b2c3d4-0000-4000-8000-00000000000a: anti-spoofing"
		ether saddr fa:16:3e:00:00:0a meta protocol ip ip saddr 10.0.0.10 return
		ether saddr fa:16:3e:00:00:0a meta protocol arp arp saddr ether fa:16:3e:00:00:0a arp saddr ip { 0.0.0.0, 10.0.0.10 } return
		drop
	}
"""


def test_default_group_golden() -> None:
    """Ingress from the members (IPv6 group has none: no rule), egress anywhere, both families."""
    body = rules.render([port(*default_group(("10.0.0.12/32", "10.0.0.11")))])
    assert body == GOLDEN_DEFAULT


def test_chain_names_follow_neutron() -> None:
    assert rules.chain_names(PID) == {"ingress": "ia1b2c3d4-0", "egress": "oa1b2c3d4-0", "spoof": "sa1b2c3d4-0"}
    with pytest.raises(ValueError):
        rules.chain_names("short")
    with pytest.raises(ValueError, match="share"):
        rules.render([port(pid=PID), port(pid=PID[:10] + "ffff")])


# --- one rule each --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sg_rule", "line"),
    [
        (rule("ingress", protocol="tcp", low=1000, high=2000), "meta protocol ip tcp dport 1000-2000 accept"),
        (rule("ingress", protocol="tcp", low=22, high=22), "meta protocol ip tcp dport 22 accept"),
        (rule("ingress", protocol="udp", low=53, high=53), "meta protocol ip udp dport 53 accept"),
        (rule("ingress", protocol="sctp", low=5000, high=5010), "meta protocol ip meta l4proto 132 th dport 5000-5010 accept"),
        (rule("ingress", protocol="tcp"), "meta protocol ip meta l4proto tcp accept"),
        (rule("ingress", protocol="47"), "meta protocol ip meta l4proto 47 accept"),
        (rule("ingress", protocol="0"), "meta protocol ip accept"),
        (rule("ingress", protocol="icmp", low=8, high=0), "meta protocol ip icmp type 8 icmp code 0 accept"),
        (rule("ingress", protocol="icmp", low=3), "meta protocol ip icmp type 3 accept"),
        (rule("ingress", protocol="icmp"), "meta protocol ip meta l4proto icmp accept"),
        (rule("ingress", "IPv6", protocol="ipv6-icmp", low=128), "meta protocol ip6 icmpv6 type 128 accept"),
        (rule("ingress", "IPv6", protocol="icmp", low=128, high=0), "meta protocol ip6 icmpv6 type 128 icmpv6 code 0 accept"),
        (rule("ingress", prefixes=("192.168.1.0/24",)), "meta protocol ip ip saddr 192.168.1.0/24 accept"),
        (rule("egress", prefixes=("192.168.1.7/24",), protocol="tcp", low=443, high=443),
         "meta protocol ip ip daddr 192.168.1.0/24 tcp dport 443 accept"),
        (rule("ingress", prefixes=("10.1.0.0/16", "10.1.2.0/24", "10.9.0.1/32")),
         "meta protocol ip ip saddr { 10.1.0.0/16, 10.9.0.1 } accept"),
        (rule("ingress", prefixes=("0.0.0.0/0",), protocol="tcp", low=80, high=80), "meta protocol ip tcp dport 80 accept"),
        (rule("ingress", "IPv6", prefixes=("2001:db8:1::/48",), protocol="tcp", low=22, high=22),
         "meta protocol ip6 ip6 saddr 2001:db8:1::/48 tcp dport 22 accept"),
        (rule("egress", "IPv6", protocol="udp"), "meta protocol ip6 meta l4proto udp accept"),
    ],
)  # fmt: skip
def test_one_rule(sg_rule: SecurityRule, line: str) -> None:
    body = rules.render([port(sg_rule)])
    name = "ia1b2c3d4-0" if sg_rule.direction == "ingress" else "oa1b2c3d4-0"
    lines = chain(body, name)
    assert lines[-2:] == [line, "drop"]  # after the fixed and state lines, before the final drop
    assert lines[-3] == "meta mark and 0x03000000 == 0x02000000 drop"


def test_remote_group_without_members_matches_nothing_and_duplicates_render_once() -> None:
    empty = rule("ingress", protocol="tcp", low=22, high=22, remote_group="sg-2")
    same = rule("ingress", protocol="tcp", low=22, high=22)
    lines = chain(rules.render([port(empty, same, same)]), "ia1b2c3d4-0")
    assert lines.count("meta protocol ip tcp dport 22 accept") == 1
    assert rules.rule_match(empty) is None


# --- ports without filtering, without groups, with pairs; DHCP ------------------------------------


def test_port_security_off_is_accepted_both_ways_without_chains() -> None:
    assert rules.render([port(rule("ingress"), security=False)]) == ""  # alone on its host: no table at all
    other = port(rule("ingress"), pid="b1b2c3d4-0000-4000-8000-00000000000b", mac="fa:16:3e:00:00:0b", ips=("10.0.0.11",))
    body = rules.render([port(rule("ingress"), security=False), other])
    assert body.count('"tapa1b2c3d4-00" : accept') == 2
    assert "chain ia1b2c3d4-0" not in body and "chain sa1b2c3d4-0" not in body
    assert rules.describe([port(security=False)]) == ["tapa1b2c3d4-00 a1b2c3d4-0000-4000-8000-00000000000a: not filtered (port security off)"]


def test_no_groups_leaves_anti_spoofing_and_dhcp_and_drops_the_rest() -> None:
    body = rules.render([port(groups=())])
    ingress, egress = chain(body, "ia1b2c3d4-0"), chain(body, "oa1b2c3d4-0")
    assert ingress == [rules.TCP_ESTABLISHED, rules.NOT_IP, *rules.dhcp_reply_lines(port()), *rules.TO_VM_FIXED, *rules.STATE, "drop"]
    assert egress[0] == rules.established_from_own_lines(port())[0]
    assert egress[3:] == ["jump sa1b2c3d4-0", rules.TCP_ESTABLISHED, *rules.FROM_VM_FIXED, *rules.STATE, "drop"]


def test_allowed_address_pairs_ip_and_cidr_with_their_macs() -> None:
    pairs = (("10.0.0.100", "fa:16:3e:00:00:99"), ("10.5.0.0/16", MAC), ("2001:db8::99", "FA:16:3E:00:00:99"))
    body = rules.render([port(pairs=pairs, ips=(IP, "2001:db8::10"))])
    assert chain(body, "sa1b2c3d4-0") == [
        f"ether saddr {MAC} meta protocol ip ip saddr {{ 10.0.0.10, 10.5.0.0/16 }} return",
        f"ether saddr {MAC} meta protocol arp arp saddr ether {MAC} arp saddr ip {{ 0.0.0.0, 10.0.0.10, 10.5.0.0/16 }} return",
        f"ether saddr {MAC} meta protocol ip6 ip6 saddr {{ 2001:db8::10, fe80::f816:3eff:fe00:a }} return",
        "ether saddr fa:16:3e:00:00:99 meta protocol ip ip saddr 10.0.0.100 return",
        "ether saddr fa:16:3e:00:00:99 meta protocol arp arp saddr ether fa:16:3e:00:00:99 arp saddr ip { 0.0.0.0, 10.0.0.100 } return",
        "ether saddr fa:16:3e:00:00:99 meta protocol ip6 ip6 saddr { 2001:db8::99, fe80::f816:3eff:fe00:99 } return",
        "drop",
    ]
    egress = chain(body, "oa1b2c3d4-0")
    assert egress[:2] == [f"{rules.TCP_ESTABLISHED[:-7]} ether saddr {MAC} ip saddr 10.0.0.10 accept",
                          f"{rules.TCP_ESTABLISHED[:-7]} ether saddr {MAC} ip6 saddr 2001:db8::10 accept"]  # fmt: skip
    assert egress[2].startswith(f"ether saddr {{ {MAC}, fa:16:3e:00:00:99 }} meta protocol ip ip saddr 0.0.0.0 ")


def test_pair_any_address_and_port_without_fixed_ips() -> None:
    body = rules.render([port(ips=(), pairs=(("0.0.0.0/0", "fa:16:3e:00:00:77"),))])
    assert chain(body, "sa1b2c3d4-0") == [
        f"ether saddr {MAC} return",
        "ether saddr fa:16:3e:00:00:77 meta protocol ip return",
        "ether saddr fa:16:3e:00:00:77 meta protocol arp arp saddr ether fa:16:3e:00:00:77 return",
        "drop",
    ]


def test_dhcp_client_out_server_dropped_replies_in() -> None:
    body = rules.render([port(rule("egress"))])
    egress, ingress = chain(body, "oa1b2c3d4-0"), chain(body, "ia1b2c3d4-0")
    discover = egress.index(f"ether saddr {MAC} meta protocol ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept")
    spoof = egress.index("jump sa1b2c3d4-0")
    renew = egress.index("meta protocol ip udp sport 68 udp dport 67 accept")
    server = egress.index("meta protocol ip udp sport 67 drop")
    server6 = egress.index("meta protocol ip6 udp sport 547 drop")
    state = egress.index(rules.STATE[0])
    assert discover < spoof < renew < server < state and server6 < state < egress.index("meta protocol ip accept")
    assert egress.index("meta protocol ip6 udp sport 546 udp dport 547 accept") < server6
    assert egress.index("meta protocol ip6 icmpv6 type nd-router-advert drop") < egress.index("meta protocol ip6 meta l4proto ipv6-icmp accept")
    assert ingress.index("meta protocol ip udp sport 67 udp dport 68 drop") < ingress.index(rules.STATE[0])


DHCP_A, DHCP_B = ("10.0.0.2", "fa:16:3e:00:00:02"), ("10.0.0.3", "fa:16:3e:00:00:03")


def test_dhcp_replies_only_from_the_networks_dhcp_ports() -> None:
    """One accept line per DHCP port (its MAC with its address), to the port's own address or
    broadcast; every other DHCP reply dropped before the security group rules and conntrack,
    so an ingress rule allowing all UDP does not let a rogue server in."""
    servers = (DHCP_A, DHCP_B, ("2001:db8::2", "fa:16:3e:00:00:02"))
    vm = dataclasses.replace(port(rule("ingress", protocol="udp")), dhcp_servers=servers)
    ingress = chain(rules.render([vm]), "ia1b2c3d4-0")
    assert ingress[:7] == [
        rules.TCP_ESTABLISHED,
        rules.NOT_IP,
        f"ether saddr {DHCP_A[1]} meta protocol ip ip saddr 10.0.0.2 ip daddr {{ {IP}, 255.255.255.255 }} udp sport 67 udp dport 68 accept",
        f"ether saddr {DHCP_B[1]} meta protocol ip ip saddr 10.0.0.3 ip daddr {{ {IP}, 255.255.255.255 }} udp sport 67 udp dport 68 accept",
        "ether saddr fa:16:3e:00:00:02 meta protocol ip6 ip6 saddr { fe80::/10, 2001:db8::2 } ip6 daddr fe80::/64 udp sport 547 udp dport 546 accept",
        *rules.DHCP_REPLY_DROP,
    ]
    assert ingress.index("meta protocol ip udp sport 67 udp dport 68 drop") < ingress.index(rules.STATE[0])
    assert ingress.index(rules.STATE[0]) < ingress.index("meta protocol ip meta l4proto udp accept")


def test_network_without_dhcp_ports_keeps_neutrons_rule() -> None:
    """DHCP off on the network (a provider network's own server outside the cloud): replies
    from anywhere, but only to the port's own addresses or broadcast (v6: or link-local)."""
    assert rules.dhcp_reply_lines(port(ips=(IP, "2001:db8::10"))) == [
        f"meta protocol ip ip daddr {{ {IP}, 255.255.255.255 }} udp sport 67 udp dport 68 accept",
        "meta protocol ip6 ip6 daddr { 2001:db8::10, fe80::/64 } udp sport 547 udp dport 546 accept",
        *rules.DHCP_REPLY_DROP,
    ]


def test_dhcp_servers_change_only_the_ports_of_their_network() -> None:
    """A second DHCP agent's port on the network renders a new line for that network's ports."""
    one = dataclasses.replace(port(), dhcp_servers=(DHCP_A,))
    two = dataclasses.replace(one, dhcp_servers=(DHCP_A, DHCP_B))
    assert rules.render([one]) != rules.render([two])
    assert rules.dhcp_reply_lines(two)[:2] == [line for line in rules.dhcp_reply_lines(two) if "10.0.0." in line]


def test_link_local_and_ct_table() -> None:
    assert rules.link_local("fa:16:3e:00:00:11") == "fe80::f816:3eff:fe00:11"
    state = rules.CT_BODY.split("chain state {")[1].split("\n\t}")[0]
    assert "hook forward priority -150" in state
    assert state.index('iifname "brq*" goto state_mark') < state.index('iifname "qbr*" goto state_mark')  # brq first
    # every state sets both bits: invalid too (it has no conntrack entry, so it is selected by name)
    marks = rules.CT_BODY.split("chain state_mark {")[1].split("\n\t}")[0].strip().splitlines()
    assert [line.strip() for line in marks] == [
        "ct mark 0x00000001 meta mark set meta mark and 0xfcffffff or 0x02000000 accept",  # cut: invalid, both ways
        "ct state established,related meta mark set meta mark and 0xfcffffff or 0x01000000 accept",
        "ct state invalid meta mark set meta mark and 0xfcffffff or 0x02000000 accept",
        "meta mark set meta mark and 0xfcffffff",
    ]
    assert rules.script([]).count("delete table") == 2


def test_established_tcp_is_accepted_before_rules_that_cannot_match_it() -> None:
    """The fast path sits where every rule above it either must run first (anti-spoofing) or
    cannot match TCP: non-IP, UDP (DHCP) and ICMPv6 only."""
    vm = port(*default_group(("10.0.0.11",)))
    ingress, egress = rules.ingress_lines(vm), rules.egress_lines(vm)
    assert ingress[0] == egress[egress.index(f"jump {rules.chain_names(vm.port_id)['spoof']}") + 1] == rules.TCP_ESTABLISHED
    before_state = ingress[1 : ingress.index(rules.STATE[0])] + egress[egress.index(rules.TCP_ESTABLISHED) + 1 : egress.index(rules.STATE[0])]
    assert before_state and all(("udp" in line or "icmpv6" in line or "ipv6-icmp" in line or "arp" in line
                                 or line == rules.NOT_IP) for line in before_state)  # fmt: skip


def test_the_hosts_own_vxlan_underlay_is_not_tracked() -> None:
    """Locally sent UDP 4789 (the kernel's VXLAN) is NOTRACK at raw priority; arriving UDP 4789
    only when it does not enter a tracked bridge, so a tenant's own VXLAN stays stateful."""
    out = rules.CT_BODY.split("chain tunnel_out {")[1]
    assert "hook output priority -300" in out and "udp dport 4789 notrack" in out
    assert rules.TUNNEL_IN == 'udp dport 4789 iifname != "qbr*" iifname != "brq*" notrack accept'


def test_sysctl_check() -> None:
    good = {sysctls.IPV4_KEY: "1", sysctls.IPV6_KEY: "1\n"}
    assert sysctls.problems(good) == [] and sysctls.corrections(good) == {}
    bad = {sysctls.IPV4_KEY: "0"}
    found = sysctls.problems(bad)
    assert len(found) == 2 and "replies to allowed traffic are dropped" in found[0] and "missing" in found[1]
    assert sysctls.corrections(bad) == {sysctls.IPV4_KEY: "1"}


# --- nft accepts the whole thing (check mode, in a throwaway namespace) --------------------------


def realistic_ports() -> list[BoundPort]:
    out = []
    for n in range(24):
        pid = f"{n:08x}-1111-4222-8333-{n:012x}"
        mac = f"fa:16:3e:00:01:{n:02x}"
        ips = (f"10.0.0.{n + 10}", f"2001:db8::{n + 10:x}") if n % 3 else (f"10.0.0.{n + 10}",)
        group = default_group(tuple(f"10.0.0.{m + 10}" for m in range(24) if m != n), ("2001:db8::a", "2001:db8::b"))
        extra = (
            rule("ingress", protocol="tcp", low=22, high=22, prefixes=("192.0.2.0/24",)),
            rule("ingress", protocol="icmp", low=8),
            rule("ingress", "IPv6", protocol="ipv6-icmp", low=128, high=0),
            rule("egress", protocol="udp", low=1000, high=2000, prefixes=("198.51.100.0/24", "203.0.113.7/32")),
            rule("ingress", protocol="sctp", low=3868, high=3868),
            rule("ingress", protocol="112"),
        )
        pairs = (("10.0.0.200", mac), ("172.16.0.0/12", "fa:16:3e:ff:00:01")) if n % 4 == 0 else ()
        grouped = n % 5 != 4
        vm = port(*((*group, *extra) if grouped else ()), pid=pid, mac=mac, ips=ips, pairs=pairs,
                  security=n % 7 != 6, groups=("sg-1",) if grouped else ())  # fmt: skip
        out.append(dataclasses.replace(vm, dhcp_servers=(DHCP_A, DHCP_B, ("2001:db8::2", DHCP_A[1]))))
    return out


GOLDEN_FULL = Path(__file__).resolve().parents[1] / "fixtures" / "firewall_full.nft"


def test_full_script_matches_the_golden_file_that_nft_accepts() -> None:
    """The whole script for 24 realistic ports, as nft will read it. nft's own check of the
    golden file needs root (tests/integration/test_nft_golden.py); this tier checks without root
    that the renderer still produces exactly that text. After a deliberate change of the
    rules, rewrite the file with NEUTRINO_UPDATE_GOLDEN=1 and let the root test check it."""
    script = rules.script(realistic_ports())
    assert replace_script(rules.FAMILY, rules.TABLE, rules.render(realistic_ports())) in script
    if os.environ.get("NEUTRINO_UPDATE_GOLDEN") == "1":
        GOLDEN_FULL.write_text(script)
    assert script == GOLDEN_FULL.read_text(), f"the rendered rules differ from {GOLDEN_FULL}"


def test_remote_groups_are_named_sets_shared_by_all_ports():
    """Format 2 of the projection: a rule names its remote group; the members come once."""
    from neutrino.contract.desired import RemoteGroup

    gid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    r = SecurityRule(gid, "ingress", "IPv4", None, None, None, (), gid)
    ports = [port(r, pid=f"a1b2c3d{i}-0000-4000-8000-00000000000a", mac=f"fa:16:3e:00:00:0{i}", ips=(f"10.0.0.{i}",))
             for i in range(1, 4)]  # fmt: skip
    body = rules.render(ports, (RemoteGroup(gid, ("10.0.0.11", "10.0.0.12"), ()),))
    name = rules.set_name(gid, 4)
    assert body.count(f"set {name} {{") == 1 and "elements = { 10.0.0.11, 10.0.0.12 }" in body
    assert body.count(f"ip saddr @{name} accept") == 3
    assert f"@{name}" not in rules.render(ports, (RemoteGroup(gid, (), ()),))  # no members: the rule matches nothing
