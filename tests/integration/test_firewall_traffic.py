"""The hybrid firewall with real packets: two VMs behind per-port qbr bridges on one host.

Layout (all namespaces ours, ``nt-fw-<random>-*``, deleted after each test)::

    vm-a eth0 ── tapA ┐qbrA┌ qvbA ── qvoA ┐
                      └────┘               br-int (a Linux bridge standing in for OVS) ── c-port ── out eth0
    vm-b eth0 ── tapB ┐qbrB┌ qvbB ── qvoB ┘

``out`` (10.20.0.100) is an unfiltered neighbour, like a DHCP or router namespace. The host
namespace gets both rendered tables (conntrack zones and the bridge table) per test.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import pytest

from neutrino.agent.firewall import conntrack, rules, sysctls
from neutrino.agent.firewall.state_marks import CUT
from neutrino.dataplane import exec as programs
from neutrino.dataplane.naming import QBR, QVB, QVO, TAP, hybrid_devices
from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.nftables import Nftables
from neutrino.contract.desired import BoundPort, FixedIP, SecurityRule
from neutrino.lab import probes

pytestmark = pytest.mark.root

SUBNET = "10.20.0.0/24"
PORT_A, MAC_A, IP_A = "a7f3c1d2-0b1e-4c55-9a00-00000000000a", "fa:16:3e:20:00:0a", "10.20.0.10"
PORT_B, MAC_B, IP_B = "b7f3c1d2-0b1e-4c55-9a00-00000000000b", "fa:16:3e:20:00:0b", "10.20.0.11"
IP_OUT, MAC_OUT = "10.20.0.100", "fa:16:3e:20:00:64"
BLOCKED = 2.0  # seconds a blocked probe waits


@dataclass(frozen=True)
class Lab:
    host: str
    a: str
    b: str
    out: str


def _build(netlink: Netlink, lab: Lab) -> None:
    for ns in (lab.host, lab.a, lab.b, lab.out):
        netlink.add_netns(ns, may_exist=False)
        netlink.set_link("lo", netns=ns, up=True)
    netlink.add_bridge("br-int", netns=lab.host)
    netlink.set_link("br-int", netns=lab.host, up=True)
    for port_id, vm, mac, ip in ((PORT_A, lab.a, MAC_A, IP_A), (PORT_B, lab.b, MAC_B, IP_B)):
        dev = hybrid_devices(port_id)
        netlink.add_bridge(dev[QBR], netns=lab.host)
        netlink.add_veth(dev[TAP], "eth0", netns=lab.host, peer_netns=vm)
        netlink.add_veth(dev[QVB], dev[QVO], netns=lab.host)
        for name, master in ((dev[TAP], dev[QBR]), (dev[QVB], dev[QBR]), (dev[QVO], "br-int")):
            netlink.set_link(name, netns=lab.host, master=master, up=True)
        netlink.set_link(dev[QBR], netns=lab.host, up=True)
        _vm_nic(netlink, vm, mac, ip)
    netlink.add_veth("c-port", "eth0", netns=lab.host, peer_netns=lab.out)
    netlink.set_link("c-port", netns=lab.host, master="br-int", up=True)
    _vm_nic(netlink, lab.out, MAC_OUT, IP_OUT)
    for key in sysctls.KEYS:  # a new namespace has them at 1 here; say so anyway (docs/dataplane.md)
        netlink.set_sysctl(key, 1, netns=lab.host)
    assert sysctls.problems({key: netlink.get_sysctl(key, netns=lab.host) for key in sysctls.KEYS}) == []


def _vm_nic(netlink: Netlink, ns: str, mac: str, ip: str) -> None:
    netlink.set_link("eth0", netns=ns, address=mac, up=True)
    netlink.add_address("eth0", f"{ip}/24", netns=ns)
    programs.run(["ethtool", "-K", "eth0", "tx", "off"], netns=ns)  # checksum offload (docs/dataplane.md), as in the lab


@pytest.fixture
def lab() -> Iterator[Lab]:
    tag = secrets.token_hex(3)
    lab = Lab(f"nt-fw-{tag}-host", f"nt-fw-{tag}-vma", f"nt-fw-{tag}-vmb", f"nt-fw-{tag}-out")
    with Netlink() as netlink:
        try:
            _build(netlink, lab)
            yield lab
        finally:
            for ns in (lab.a, lab.b, lab.out, lab.host):
                netlink.del_netns(ns)


# --- ports and rules --------------------------------------------------------------------------


def allow(direction: str, protocol: str | None = None, low: int | None = None, high: int | None = None,
          prefixes: tuple[str, ...] = (), ethertype: str = "IPv4") -> SecurityRule:  # fmt: skip
    return SecurityRule("sg", direction, ethertype, protocol, low, high, prefixes)


EGRESS_ANY = (allow("egress"), allow("egress", ethertype="IPv6"))


def vm_port(port_id: str, mac: str, ip: str, *rules_: SecurityRule, groups: tuple[str, ...] = ("sg",),
            pairs: tuple[tuple[str, str], ...] = (), security: bool = True) -> BoundPort:  # fmt: skip
    fixed = (FixedIP("subnet", ip, SUBNET, None),)
    return BoundPort(port_id, "net", mac, True, "compute:nova", "vm", "ovs", None, fixed, security, groups, rules_, pairs, 1)


def port_a(*rules_: SecurityRule, **kw: object) -> BoundPort:
    return vm_port(PORT_A, MAC_A, IP_A, *EGRESS_ANY, *rules_, **kw)  # type: ignore[arg-type]


def port_b(*rules_: SecurityRule, **kw: object) -> BoundPort:
    return vm_port(PORT_B, MAC_B, IP_B, *EGRESS_ANY, *rules_, **kw)  # type: ignore[arg-type]


def apply(lab: Lab, ports: Sequence[BoundPort]) -> None:
    """Both tables as the agent writes them: the state marks need the zones (``conntrack.ZONE``)."""
    Nftables().apply_table(rules.CT_FAMILY, rules.CT_TABLE, conntrack.ct_body(ports), netns=lab.host)
    Nftables().apply_table(rules.FAMILY, rules.TABLE, rules.render(ports), netns=lab.host)


def tcp(lab_src: str, lab_dst: str, ip: str, port: int, *, udp: bool = False, blocked: bool = False) -> bool:
    timeout = BLOCKED if blocked else 30.0  # an allowed transfer only waits this long when it fails
    size = 1200 if udp else 256 << 10  # one datagram must fit in 65507 bytes
    return probes.transfer(lab_src, lab_dst, ip, port=port, udp=udp, size=size, timeout=timeout).ok


# --- one UDP datagram with a chosen source (spoofing, DHCP ports) ---------------------------------

LISTEN = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
sys.stdin.readline()  # the sender is done: whatever arrives has been sent
s.settimeout(float(sys.argv[2]))
try:
    data, peer = s.recvfrom(2048)
    print(f"{peer[0]}:{peer[1]}")
except socket.timeout:
    print("timeout")
"""
SEND = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[3], int(sys.argv[4])))
for _ in range(3):
    s.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.2)
"""


def datagram(src_ns: str, dst_ns: str, dst_ip: str, dport: int, *, sport: int = 0, src_ip: str = "0.0.0.0") -> str | None:
    """``"source-ip:source-port"`` as the receiver saw it, or None when nothing arrived."""
    argv = programs.netns_argv([sys.executable, "-c", LISTEN, str(dport), str(BLOCKED)], dst_ns)
    # the listener's BLOCKED seconds start once the sender is done, not while it starts up
    listener = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout is not None and listener.stdout.readline().strip() == "ready"
        programs.run([sys.executable, "-c", SEND, dst_ip, str(dport), src_ip, str(sport)], netns=src_ns)
        out, _ = listener.communicate("sent\n", timeout=BLOCKED + 30)
        return None if out.strip() == "timeout" else out.strip()
    finally:
        if listener.poll() is None:
            listener.kill()
        listener.wait(timeout=5)


# --- the tests --------------------------------------------------------------------------------


def test_port_rules_open_and_close(lab: Lab) -> None:
    web = (allow("ingress", "tcp", 5001, 5001), allow("ingress", "udp", 5001, 5001))
    apply(lab, [port_a(), port_b(*web)])
    assert tcp(lab.a, lab.b, IP_B, 5001)
    assert tcp(lab.a, lab.b, IP_B, 5001, udp=True)  # the reply datagram comes back as established
    assert not tcp(lab.a, lab.b, IP_B, 5002, blocked=True)
    assert not tcp(lab.a, lab.b, IP_B, 5002, udp=True, blocked=True)
    assert not tcp(lab.b, lab.a, IP_A, 5001, blocked=True)  # A has no ingress rule at all

    apply(lab, [port_a(), port_b(*web, allow("ingress", "tcp", 5002, 5003))])  # a rule added
    assert tcp(lab.a, lab.b, IP_B, 5002)
    apply(lab, [port_a(), port_b(*web)])  # and removed again
    assert not tcp(lab.a, lab.b, IP_B, 5002, blocked=True)


ECHO_SERVER = (
    "import socket\ns = socket.create_server(('0.0.0.0', 5001))\nprint('ready', flush=True)\n"
    "c, _ = s.accept()\nwhile data := c.recv(100):\n    c.sendall(b'echo ' + data)\n"
)
ECHO_CLIENT = (
    f"import socket, sys\nc = socket.create_connection(('{IP_B}', 5001), timeout=30)\n"
    "for line in sys.stdin:\n    wait, word = line.split(' ', 1)\n    c.settimeout(float(wait))\n    c.sendall(word.encode())\n"
    "    try:\n        print(c.recv(100).decode().strip(), flush=True)\n"
    "    except OSError as exc:\n        print(f'error {exc}', flush=True)\n"
)


@contextlib.contextmanager
def echo_session(lab: Lab) -> Iterator[Callable[[str], str]]:
    """One TCP connection from A to B's port 5001 (an echo server in B): ``say(word)`` sends a
    line on it and returns the answer, or ``error ...`` after ``wait`` seconds without one (30 s:
    only a failure waits; an answer that must not come is asked for with a short wait)."""
    server = subprocess.Popen(programs.netns_argv([sys.executable, "-c", ECHO_SERVER], lab.b), stdout=subprocess.PIPE, text=True)
    client = subprocess.Popen(
        programs.netns_argv([sys.executable, "-c", ECHO_CLIENT], lab.a), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        assert client.stdin is not None and client.stdout is not None

        def say(word: str, wait: float = 30.0) -> str:
            client.stdin.write(f"{wait} {word}\n")  # type: ignore[union-attr]
            client.stdin.flush()  # type: ignore[union-attr]
            return client.stdout.readline().strip()  # type: ignore[union-attr]

        yield say
    finally:
        for proc in (client, server):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=5)


def test_established_connection_survives_reapply(lab: Lab) -> None:
    rule_5001 = allow("ingress", "tcp", 5001, 5001)
    apply(lab, [port_a(), port_b(rule_5001)])
    with echo_session(lab) as say:
        assert say("one") == "echo one"
        apply(lab, [port_a(), port_b(rule_5001)])  # the same table again: a delete and a create
        assert say("two") == "echo two"
        apply(lab, [port_a(allow("ingress", "icmp")), port_b(rule_5001, allow("ingress", "udp"))])
        assert say("three") == "echo three"
        # Removing the rule leaves the tracked connection alive (conntrack, not the table, holds
        # it; Neutron's agent deletes such entries separately), while a new one is refused.
        apply(lab, [port_a(), port_b()])
        assert say("four") == "echo four"
        assert not tcp(lab.a, lab.b, IP_B, 5001, blocked=True)


def test_a_removed_remote_group_members_conntrack_entry_is_marked_cut(lab: Lab) -> None:
    """A's address leaves the group B's rule admits: the table alone leaves A's entry (and the
    connection) alive; the filters ``members.py`` picks, run for real, mark that entry cut in B's
    zone (``state_marks.CUT``), and A's next packet is refused. No wait for the last exchange's
    ACKs: the entry stays, so a packet B sends after the mark (a delayed ACK, a retransmission)
    meets it and drops too. After a deletion, such a packet was taken up mid-stream
    (``nf_conntrack_tcp_loose``) as a new connection that B's egress allows, and A's packets then
    matched that entry as replies."""
    from neutrino.agent.firewall import members
    from neutrino.contract.desired import RemoteGroup
    from neutrino.dataplane.conntrack import Conntrack

    group = "c9d0e1f2-0000-4000-8000-0000000000c9"
    ports = [port_a(), port_b(SecurityRule("sg", "ingress", "IPv4", "tcp", 5001, 5001, (), group))]
    before, after = (RemoteGroup(group, (IP_A, IP_OUT), ()),), (RemoteGroup(group, (IP_OUT,), ()),)
    zone = conntrack.zones(["net"])["net"]

    def entries_from_a() -> list[str]:
        listed = programs.run(["conntrack", "-L", "-p", "tcp"], netns=lab.host, check=False).stdout
        return [line for line in listed.splitlines() if f"src={IP_A} " in line and f"zone={zone} " in line]

    Nftables().apply_table(rules.CT_FAMILY, rules.CT_TABLE, conntrack.ct_body(ports), netns=lab.host)
    Nftables().apply_table(rules.FAMILY, rules.TABLE, rules.render(ports, before), netns=lab.host)
    with echo_session(lab) as say:
        assert say("one") == "echo one"
        Nftables().apply_table(rules.FAMILY, rules.TABLE, rules.render(ports, after), netns=lab.host)
        assert say("two") == "echo two"  # conntrack still holds it
        assert len(entries_from_a()) == 1
        filters = members.removed_member_filters(ports, members.removed_members(before, after), after)
        assert filters == [["-w", str(zone), "-f", "ipv4", "-d", IP_B, "-s", IP_A, "-p", "tcp", "--dport", "5001"]]
        assert Conntrack().mark(filters, CUT, netns=lab.host) == 1
        assert [" mark=1 " in line for line in entries_from_a()] == [True]
        assert say("three", wait=3.0).startswith("error")
        assert [" mark=1 " in line for line in entries_from_a()] == [True]  # no entry the other way came


def test_icmp_by_rule(lab: Lab) -> None:
    apply(lab, [port_a(), port_b(allow("ingress", "icmp", 8))])  # echo request only
    assert probes.ping(lab.a, IP_B).ok
    assert probes.ping(lab.out, IP_B).ok
    assert not probes.ping(lab.b, IP_A, count=2).ok  # A admits no ICMP
    apply(lab, [port_a(), port_b(allow("ingress", "icmp", 0))])  # echo reply only: requests drop
    assert not probes.ping(lab.a, IP_B, count=2).ok


def test_remote_ip_prefix(lab: Lab) -> None:
    apply(lab, [port_a(), port_b(allow("ingress", "tcp", 5003, 5003, prefixes=(f"{IP_A}/32",)))])
    assert tcp(lab.a, lab.b, IP_B, 5003)
    assert not tcp(lab.out, lab.b, IP_B, 5003, blocked=True)
    apply(lab, [port_a(), port_b(allow("ingress", "tcp", 5003, 5003, prefixes=("10.20.0.96/28",)))])
    assert tcp(lab.out, lab.b, IP_B, 5003)
    assert not tcp(lab.a, lab.b, IP_B, 5003, blocked=True)


def test_spoofed_source_ip_dropped_unless_allowed_pair(lab: Lab) -> None:
    apply(lab, [port_a(), port_b()])
    with Netlink() as netlink:
        netlink.add_address("eth0", "10.20.0.50/24", netns=lab.a)
    assert datagram(lab.a, lab.out, IP_OUT, 7000, src_ip=IP_A) is not None  # also teaches A the MAC of out
    assert datagram(lab.a, lab.out, IP_OUT, 7000, src_ip="10.20.0.50") is None
    apply(lab, [port_a(pairs=(("10.20.0.48/29", MAC_A),)), port_b()])
    got = datagram(lab.a, lab.out, IP_OUT, 7000, src_ip="10.20.0.50")
    assert got is not None and got.startswith("10.20.0.50:")
    apply(lab, [port_a(pairs=(("10.20.0.50", "fa:16:3e:20:00:99"),)), port_b()])  # the pair's MAC is not A's
    assert datagram(lab.a, lab.out, IP_OUT, 7000, src_ip="10.20.0.50") is None


def test_changed_mac_dropped_unless_allowed_pair(lab: Lab) -> None:
    apply(lab, [port_a(), port_b()])
    assert probes.ping(lab.a, IP_OUT).ok
    with Netlink() as netlink:
        netlink.set_link("eth0", netns=lab.a, address="fa:16:3e:20:00:99")
    for ns in (lab.a, lab.out):
        programs.run(["ip", "neigh", "flush", "all"], netns=ns)
    assert not probes.ping(lab.a, IP_OUT, count=2).ok
    apply(lab, [port_a(pairs=((IP_A, "fa:16:3e:20:00:99"),)), port_b()])
    # A's failed ARP resolution is still running out its probes and would drop the next pings
    programs.run(["ip", "neigh", "flush", "all"], netns=lab.a)
    assert probes.ping(lab.a, IP_OUT).ok
    assert tcp(lab.a, lab.out, IP_OUT, 5004)


def test_dhcp_server_from_vm_dropped_replies_to_vm_allowed(lab: Lab) -> None:
    """A VM answering as a DHCP server sends *from* port 67: dropped, whatever its egress rules
    say (A allows all egress; the same datagram from another source port passes). A reply of
    the network's DHCP server *to* a VM (67 -> 68) is let in without any ingress rule: conntrack
    cannot match it to the broadcast DISCOVER, so the firewall admits it explicitly; a reply
    from anything that is not one of the network's DHCP ports is dropped, even with an ingress
    rule that allows all UDP."""
    server = (IP_OUT, MAC_OUT)
    apply(lab, [replace(port_a(), dhcp_servers=(server,)), port_b()])
    assert datagram(lab.a, lab.out, IP_OUT, 68, sport=67) is None
    assert datagram(lab.a, lab.out, IP_OUT, 68, sport=6767) is not None
    assert datagram(lab.out, lab.a, IP_A, 68, sport=67) == f"{IP_OUT}:67"
    assert datagram(lab.out, lab.a, IP_A, 69, sport=6767) is None  # anything else: no ingress rule
    assert datagram(lab.out, lab.b, IP_B, 68, sport=67) == f"{IP_OUT}:67"  # B's network has no DHCP port: Neutron's rule
    udp_in = allow("ingress", "udp")
    apply(lab, [replace(port_a(udp_in), dhcp_servers=(("10.20.0.2", MAC_OUT),)), port_b()])
    assert datagram(lab.out, lab.a, IP_A, 69, sport=6767) is not None  # the rule lets UDP in ...
    assert datagram(lab.out, lab.a, IP_A, 68, sport=67) is None  # ... but no DHCP reply from a non-server


def test_port_security_off_and_no_groups(lab: Lab) -> None:
    apply(lab, [port_a(security=False), vm_port(PORT_B, MAC_B, IP_B, groups=())])
    assert tcp(lab.out, lab.a, IP_A, 5005)  # no rule needed: nothing filtered
    assert not tcp(lab.out, lab.b, IP_B, 5005, blocked=True)  # no groups: nothing in ...
    assert datagram(lab.b, lab.out, IP_OUT, 7001) is None  # ... and nothing out
    assert datagram(lab.b, lab.out, IP_OUT, 67, sport=68) is not None  # except DHCP


def test_ipv6_rule_neighbour_discovery_and_spoofing(lab: Lab) -> None:
    """ND passes both ways without rules; an ICMPv6 echo rule opens B; a source A does not own is dropped."""

    def with_v6(port: BoundPort, ip6: str) -> BoundPort:
        return replace(port, fixed_ips=(*port.fixed_ips, FixedIP("subnet6", ip6, "2001:db8::/64", None)))

    def ping6(ns: str, dst: str, src: str | None = None) -> bool:
        argv = ["ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", *(["-I", src] if src else []), dst]
        return " 0 received" not in programs.run(argv, netns=ns, check=False).stdout

    for ns, ip6 in ((lab.a, "2001:db8::a"), (lab.a, "2001:db8::66"), (lab.b, "2001:db8::b")):
        programs.run(["ip", "-6", "addr", "add", f"{ip6}/64", "dev", "eth0", "nodad"], netns=ns)
    echo6 = allow("ingress", "ipv6-icmp", 128, ethertype="IPv6")
    apply(lab, [with_v6(port_a(), "2001:db8::a"), with_v6(port_b(echo6), "2001:db8::b")])
    assert ping6(lab.a, "2001:db8::b", "2001:db8::a")
    assert not ping6(lab.b, "2001:db8::a")
    assert not ping6(lab.a, "2001:db8::b", "2001:db8::66")


def test_remote_address_group_follows_its_addresses(lab: Lab) -> None:
    """A rule naming an address group admits exactly the group's CIDRs; a changed group (the
    server's projection lists it anew) takes effect at the next apply; an empty one admits none."""
    from neutrino.contract.desired import RemoteGroup

    group = "a9d0e1f2-0000-4000-8000-0000000000a9"
    ssh = SecurityRule("sg", "ingress", "IPv4", "tcp", 5001, 5001, (), None, group)
    ports = [port_a(), port_b(ssh)]

    def with_group(*addresses: str) -> None:
        body = rules.render(ports, [RemoteGroup(group, addresses, ())])
        Nftables().apply_table(rules.CT_FAMILY, rules.CT_TABLE, conntrack.ct_body(ports), netns=lab.host)
        Nftables().apply_table(rules.FAMILY, rules.TABLE, body, netns=lab.host)

    with_group(f"{IP_A}/32")
    assert tcp(lab.a, lab.b, IP_B, 5001)
    assert not tcp(lab.out, lab.b, IP_B, 5001, blocked=True)
    with_group("10.20.0.96/28")  # IP_OUT's network, not A's
    assert tcp(lab.out, lab.b, IP_B, 5001)
    assert not tcp(lab.a, lab.b, IP_B, 5001, blocked=True)
    with_group()
    assert not tcp(lab.out, lab.b, IP_B, 5001, blocked=True)


# --- a packet conntrack finds invalid ----------------------------------------------------------

RAW_TCP = """
import socket, struct, sys
src, dst, flags = sys.argv[1], sys.argv[2], int(sys.argv[3])
header = struct.pack("!HHIIBBHHH", 40000, 5001, 1, 0, 5 << 4, flags, 65535, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(header))
data = pseudo + header
total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
while total >> 16:
    total = (total & 0xFFFF) + (total >> 16)
header = header[:16] + struct.pack("!H", ~total & 0xFFFF) + header[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for _ in range(3):
    s.sendto(header, (dst, 0))
"""
SNIFF_TCP = """
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("eth0", 0))
s.settimeout(0.2)
print("ready", flush=True)
sys.stdin.readline()  # the sender is done (frames since "ready" wait in the socket's buffer)
end, flags = time.monotonic() + float(sys.argv[1]), int(sys.argv[2])
while time.monotonic() < end:
    try:
        frame = s.recv(2048)
    except socket.timeout:
        continue
    ip = frame[14:]
    tcp = ip[(ip[0] & 15) * 4:]
    if ip[9] == 6 and tcp[2:4] == (5001).to_bytes(2, "big") and tcp[13] == flags:
        print("seen")
        break
else:
    print("none")
"""


def raw_tcp_arrives(lab: Lab, flags: int) -> bool:
    """Whether a TCP segment from A to B's port 5001 with these flags reaches B's eth0."""
    argv = programs.netns_argv([sys.executable, "-c", SNIFF_TCP, str(BLOCKED), str(flags)], lab.b)
    # the sniffer's BLOCKED seconds start once the sender is done, not while it starts up
    sniffer = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert sniffer.stdout is not None and sniffer.stdout.readline().strip() == "ready"
        programs.run([sys.executable, "-c", RAW_TCP, IP_A, IP_B, str(flags)], netns=lab.a)
        out, _ = sniffer.communicate("sent\n", timeout=BLOCKED + 30)
        return out.strip() == "seen"
    finally:
        if sniffer.poll() is None:
            sniffer.kill()
        sniffer.wait(timeout=5)


def test_a_packet_conntrack_finds_invalid_is_dropped_whatever_the_rules_allow(lab: Lab) -> None:
    """SYN+FIN is no valid TCP flag combination: conntrack attaches no entry, ``ct state`` says
    invalid, and the state marks make the port's chain drop it before its rules (which allow TCP
    5001); a plain SYN to the same port arrives."""
    apply(lab, [port_a(), port_b(allow("ingress", "tcp", 5001, 5001))])
    assert raw_tcp_arrives(lab, 0x02)  # SYN
    assert not raw_tcp_arrives(lab, 0x03)  # SYN+FIN


def test_a_removed_prefix_member_deletes_by_mask_and_keeps_other_addresses() -> None:
    """An address group's lost CIDR: the masked filter marks the entries from inside it cut and
    leaves the others (entries written with ``conntrack -I``, no traffic); an ICMP entry has no
    ports and is deleted instead."""
    from neutrino.agent.firewall import members
    from neutrino.contract.desired import RemoteGroup
    from neutrino.dataplane.conntrack import Conntrack

    ns = f"nt-fw-{secrets.token_hex(3)}-ct"
    ag = "d9d0e1f2-0000-4000-8000-0000000000d9"
    ports = [port_b(SecurityRule("sg", "ingress", "IPv4", "udp", 53, 53, (), None, ag))]
    zone = str(conntrack.zones(["net"])["net"])
    with Netlink() as netlink:
        netlink.add_netns(ns, may_exist=False)
        try:
            for src in ("10.9.1.1", "10.7.1.1"):
                programs.run(["conntrack", "-I", "-w", zone, "-s", src, "-d", IP_B, "-p", "udp", "--sport", "1000",
                              "--dport", "53", "-t", "30"], netns=ns)  # fmt: skip
            before, after = (RemoteGroup(ag, ("10.9.0.0/16", "10.7.0.0/16"), ()),), (RemoteGroup(ag, ("10.7.0.0/16",), ()),)
            filters = members.removed_member_filters(ports, members.removed_members(before, after), after)
            assert Conntrack().mark(filters, CUT, netns=ns) == 1
            listed = programs.run(["conntrack", "-L"], netns=ns, check=False).stdout.splitlines()
            marks = {src: [" mark=1 " in line for line in listed if f"src={src} " in line] for src in ("10.7.1.1", "10.9.1.1")}
            assert marks == {"10.7.1.1": [False], "10.9.1.1": [True]}, listed
            # no ports (ICMP): deleted, in its zone; the marked UDP entry stays
            programs.run(["conntrack", "-I", "-w", zone, "-s", "10.9.1.1", "-d", IP_B, "-p", "icmp", "--icmp-type", "8",
                          "--icmp-code", "0", "--icmp-id", "7", "-t", "30"], netns=ns)  # fmt: skip
            assert Conntrack().mark([["-w", zone, "-s", "10.9.1.1"]], CUT, netns=ns) == 2
            listed = programs.run(["conntrack", "-L"], netns=ns, check=False).stdout.splitlines()
            assert [line.split()[0] for line in listed if "src=10.9.1.1 " in line] == ["udp"], listed
        finally:
            netlink.del_netns(ns)
