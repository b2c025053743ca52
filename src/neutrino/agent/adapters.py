"""The adapters a host agent works through, typed by ``dataplane/ports.py``; which ones it gets
is the composition root's choice: ``real`` on a host or in the lab, fakes in tests.

The OVS mechanism needs ``ovsdb`` and ``openflow`` (and ``switch_watch``, or else ``switch``
polled for vswitchd's pid, to notice a vswitchd restart); the Linux bridge one needs ``vxlan``. Left None, ``announcer``, ``conntrack`` and
``dhcp_servers`` get their real adapter where they are used, ``plug`` the OVS database (or
``agent.plug.BridgePlug`` with Linux bridges), ``ha`` the state directory's HA routers, and no
OVSDB monitor or metadata proxy runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neutrino.dataplane.host import HostContext
from neutrino.dataplane.ports import (ConnectionTracking, DhcpServers, Firewall, Flows, Links, NeighbourAnnouncer,
                                      OvsDatabase, PortPlug, Switch, VxlanDevices)  # fmt: skip

if TYPE_CHECKING:
    from neutrino.agent.l3.ha import HaRouters


@dataclass(frozen=True)
class AgentAdapters:
    netlink: Links
    nftables: Firewall
    ovsdb: OvsDatabase | None = None
    openflow: Flows | None = None
    switch: Switch | None = None
    vxlan: VxlanDevices | None = None
    announcer: NeighbourAnnouncer | None = None
    conntrack: ConnectionTracking | None = None
    dhcp_servers: DhcpServers | None = None
    plug: PortPlug | None = None
    ha: HaRouters | None = None
    monitor_factory: Callable[[Callable[[], None]], Any] | None = None
    """Given the wake-up callback, an OVSDB monitor with ``start``/``stop``."""
    switch_watch: Callable[[Callable[[], None]], Any] | None = None
    """Given the callback, a watcher with ``start``/``stop`` that calls it as soon as a restarted
    ovs-vswitchd is up again (``dataplane.vswitchd_watch``); None: ``switch``'s pid is polled."""
    offloads: Any = None
    """Reads and writes the host's OVS offload facts (``dataplane.offloads.HostOffloads``); None: left alone."""
    metadata_proxy: Any = None
    """Makes a metadata proxy (``dataplane.haproxy.Haproxy``); None: no metadata service here."""


def real(host: HostContext, mechanism: str) -> AgentAdapters:
    """The real adapters of ``host`` for the ``ovs`` or ``linuxbridge`` mechanism."""
    from neutrino.dataplane.conntrack import Conntrack
    from neutrino.dataplane.dnsmasq import DnsmasqServers
    from neutrino.dataplane.garp import Announcer
    from neutrino.dataplane.haproxy import Haproxy
    from neutrino.dataplane.netlink import Netlink
    from neutrino.dataplane.nftables import Nftables

    netlink = Netlink()
    common: dict[str, Any] = {"netlink": netlink, "nftables": Nftables(), "announcer": Announcer(),
                              "conntrack": Conntrack(), "dhcp_servers": DnsmasqServers(), "metadata_proxy": Haproxy}  # fmt: skip
    if mechanism == "linuxbridge":
        from neutrino.dataplane.kernel_vxlan import KernelVxlan

        return AgentAdapters(vxlan=KernelVxlan(netlink=netlink), **common)

    from neutrino.dataplane.openflow import OpenFlow
    from neutrino.dataplane.ovs import OvsInstance
    from neutrino.dataplane.offloads import HostOffloads
    from neutrino.dataplane.ovsdb_idl import IdlOvsdb
    from neutrino.dataplane.vswitchd_watch import VswitchdWatch

    ovsdb = IdlOvsdb(host)  # one persistent connection: reads, monitor and transactions (docs/dataplane.md)
    return AgentAdapters(ovsdb=ovsdb, openflow=OpenFlow(host), switch=OvsInstance(host), offloads=HostOffloads(host),
                         monitor_factory=ovsdb.monitor, switch_watch=lambda back: VswitchdWatch(host, back),
                         **common)  # fmt: skip
