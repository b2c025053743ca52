"""The seed's first example: four namespaces, four veth pairs, one Linux bridge.

ns1..ns4 each hold one end of a veth pair (eth0, 192.168.10.1-4/24); the other ends are ports
of bridge br1. The seed puts br1 in the root namespace; here it lives in a namespace of its own
(``basics-sw``) so that the machine's own network is never touched. Then ping and a TCP
transfer with a verified digest run between the namespaces, and everything is removed, also
when a step fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from neutrino.dataplane.netlink import Netlink
from neutrino.lab.probes import Check, ping, transfer
from neutrino.lab.teardown import kill_inside

PREFIX = "basics-"
SWITCH_NS = PREFIX + "sw"
BRIDGE = "br1"
SUBNET = "192.168.10.{}/24"


@dataclass
class BasicsResult:
    checks: list[Check] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def namespaces(count: int = 4) -> list[str]:
    return [f"{PREFIX}ns{i}" for i in range(1, count + 1)]


def run(progress: Callable[[str], None] = lambda _s: None, keep: bool = False) -> BasicsResult:
    result = BasicsResult()
    started = time.monotonic()
    with Netlink() as netlink:
        cleanup(netlink)  # leftovers of an interrupted run
        try:
            progress(f"namespace {SWITCH_NS} with bridge {BRIDGE}")
            netlink.add_netns(SWITCH_NS)
            netlink.add_bridge(BRIDGE, netns=SWITCH_NS)
            netlink.set_link(BRIDGE, netns=SWITCH_NS, up=True)
            for i, ns in enumerate(namespaces(), 1):
                progress(f"{ns}: veth eth0 ↔ veth{i} on {BRIDGE}, {SUBNET.format(i)}")
                netlink.add_netns(ns)
                netlink.set_link("lo", netns=ns, up=True)
                netlink.add_veth("eth0", f"veth{i}", netns=ns, peer_netns=SWITCH_NS)
                netlink.set_link(f"veth{i}", netns=SWITCH_NS, master=BRIDGE, up=True)
                netlink.add_address("eth0", SUBNET.format(i), netns=ns)
                netlink.set_link("eth0", netns=ns, up=True)
                result.built.append(f"{ns} eth0 {SUBNET.format(i)} ↔ {SWITCH_NS}/veth{i}")
            progress("traffic")
            first = namespaces()[0]
            for i in (2, 3, 4):
                result.checks.append(ping(first, SUBNET.format(i).split("/")[0], name=f"ping ns1 → 192.168.10.{i}"))
            result.checks.append(
                transfer(first, namespaces()[3], "192.168.10.4", name="tcp ns1 → 192.168.10.4 (1 MiB)")
            )
            result.checks.append(
                transfer(namespaces()[1], namespaces()[2], "192.168.10.3", udp=True, size=1200,
                         name="udp ns2 → 192.168.10.3")
            )  # fmt: skip
        finally:
            if not keep:
                progress("cleanup")
                cleanup(netlink)
    result.seconds = time.monotonic() - started
    return result


def cleanup(netlink: Netlink) -> list[str]:
    removed = []
    for ns in [*namespaces(), SWITCH_NS]:
        if netlink.netns_exists(ns):
            kill_inside(ns)
            netlink.del_netns(ns)
            removed.append(ns)
    return removed
