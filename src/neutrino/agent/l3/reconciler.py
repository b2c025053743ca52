"""The L3 agent's reconciliation: desired routers in, qrouter namespaces out.

Level-triggered: every pass takes the whole list of routers for this host, reads what the
kernel and OVS hold and applies only the difference. Per router (docs/neutron-behaviour.md, "L3 agent"):

* namespace ``qrouter-<id>`` (with the host's prefix), lo up, forwarding and ARP sysctls set
  inside it only;
* one veth per interface and for the gateway (docs/dataplane.md: never an OVS internal port):
  ``tap<11>`` in the host namespace as a port of br-int carrying the Neutron port's iface-id,
  and ``qr-<11>`` / ``qg-<11>`` in the router namespace with the port's MAC, its segment's MTU,
  its addresses and ``tx off`` (docs/dataplane.md, "Checksum offload"). The L2 agent tags the tap like any VIF;
* addresses (floating IPs as /32 on qg-), the default route and extra routes, stale ones removed;
* the ``ip neutrino-nat`` nftables table (``nat.render``, with the metadata redirect to
  ``metadata_port``, docs/metadata.md), and ``inet neutrino-scope`` / ``inet neutrino-cthelper``
  where address scopes or conntrack helpers need them (``scopes.render``, ``ct_helpers.render``),
  absent otherwise: the tables whose text changed go in one ``nft -f`` per namespace;
* a gratuitous ARP (``dataplane.garp``, in the background) for every IPv4 address newly added
  on a qr- or qg- device: a floating IP just associated, or the whole router when it has just
  moved here from a dead agent, so that the outside's neighbour caches and the switches' and
  tunnel bridges' learned MACs follow it.

An HA router (``RouterState.ha``) also gets its ``ha-`` device; its other addresses, its routes
and the gratuitous ARPs are keepalived's (``agent/l3/ha.py``), so only the active node holds
them, while the NAT table is the same on every node. Its qr-/qg- devices generate no IPv6
link-local address: the standby's copies, same MAC as the active ones, must stay silent.

Routers no longer desired (or administratively down) lose their OVS ports and their namespace.
A pass with nothing to do makes no change and starts no program (``L3Result.changes`` counts
the changes); the text of each applied table and the namespaces already prepared are remembered
between passes. Everything reaches the kernel through the ``dataplane/ports.py`` adapters:
netlink for links, addresses, routes, sysctls and checksum offload, nftables, the OVS plug.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Any

from neutrino.agent.l3 import ct_helpers, keepalived, nat, scopes
from neutrino.agent.l3.ha import HaRouters
from neutrino.dataplane.errors import DataplaneError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.ports import ConnectionTracking, Firewall, Links, NeighbourAnnouncer, PortPlug
from neutrino.dataplane.naming import HA_DEV, QG, QR, TAP, device
from neutrino.contract.desired import DesiredHostState, RouterState

LOG = logging.getLogger(__name__)
ROUTER_KEY = "neutrino-router-id"
"""Interface external_ids key naming the router a tap belongs to (found again after a restart)."""
SYSCTLS = (
    ("net.ipv4.ip_forward", 1),
    ("net.ipv4.conf.all.arp_ignore", 1),
    ("net.ipv4.conf.all.arp_announce", 2),
    ("net.ipv6.conf.all.forwarding", 1),
)
OPTIONAL_SYSCTLS = (("net.netfilter.nf_conntrack_tcp_be_liberal", 1),)


@dataclass
class L3Result:
    fip_statuses: dict[str, str] = field(default_factory=dict)
    """floating IP id → ACTIVE | DOWN | ERROR, for every floating IP of the desired routers."""
    routers: list[str] = field(default_factory=list)
    """The routers converged on this host in this pass."""
    failed: dict[str, str] = field(default_factory=dict)
    """router id → the error that stopped its configuration (retried next pass)."""
    removed: list[str] = field(default_factory=list)
    changes: int = 0
    ha_states: dict[str, str] = field(default_factory=dict)
    """HA router id → active | standby, as this host's keepalived last recorded."""


@dataclass(frozen=True)
class _Plug:
    dev: str
    tap: str
    port_id: str
    mac: str
    mtu: int | None
    quiet: bool = False
    """No IPv6 link-local address (an HA router's qr-/qg- devices)."""


class L3Reconciler:
    def __init__(self, host: HostContext, netlink: Links, ovsdb: PortPlug, nftables: Firewall, integration_bridge: str = "br-int",
                 *, announcer: NeighbourAnnouncer | None = None, conntrack: ConnectionTracking | None = None,
                 metadata_port: int | None = None, ha: HaRouters | None = None) -> None:  # fmt: skip
        self.host, self.netlink, self.ovsdb, self.nftables = host, netlink, ovsdb, nftables
        self.metadata_port, self.ha = metadata_port, ha
        """Where 169.254.169.254:80 from qr- devices goes (the metadata proxy), and the HA routers' keepalived; None: not here."""
        self.integration_bridge = integration_bridge
        if announcer is None:
            from neutrino.dataplane.garp import Announcer

            announcer = Announcer()
        if conntrack is None:
            from neutrino.dataplane.conntrack import Conntrack

            conntrack = Conntrack()
        self.announcer: NeighbourAnnouncer = announcer
        self.conntrack: ConnectionTracking = conntrack
        self._prepared: set[str] = set()
        self._tables: dict[str, dict[tuple[str, str], str | None]] = {}
        """namespace -> (family, table) -> the text applied (None: deleted)."""
        self._fips: dict[str, dict[str, str]] = {}
        self._changes = 0

    def forget(self) -> None:
        """Apply every router's tables and sysctls again on the next pass (the audit's repair:
        a table flushed by hand is not in what was remembered)."""
        self._prepared.clear()
        self._tables.clear()

    def namespace(self, router_id: str) -> str:
        return self.host.namespace(f"qrouter-{router_id}")

    def reconcile(self, desired: DesiredHostState) -> L3Result:
        result = L3Result()
        self._changes = 0
        wanted = {r.router_id: r for r in desired.routers if r.admin_state_up}
        ports = {p.name: p for p in self.ovsdb.find_ports()}
        for router in desired.routers:
            if not router.admin_state_up:
                result.fip_statuses.update({f.floatingip_id: "DOWN" for f in router.floating_ips})
        for router_id, router in sorted(wanted.items()):
            try:
                self._router(router, ports)
            except DataplaneError as exc:
                LOG.warning("router %s: %s", router_id, exc)
                result.failed[router_id] = str(exc)
                result.fip_statuses.update({f.floatingip_id: "ERROR" if f.port_id else "DOWN" for f in router.floating_ips})
                continue
            result.routers.append(router_id)
            result.fip_statuses.update(fip_statuses(router))
            if router.ha is not None and self.ha is not None:
                result.ha_states[router_id] = self.ha.state(router_id) or "standby"
        if self.ha is not None:
            self.ha.remove_stale({r for r, router in wanted.items() if router.ha is not None}, self.namespace)
        result.removed = self._remove_stale(set(wanted), ports)
        result.changes = self._changes
        return result

    # --- one router --------------------------------------------------------------------------

    def _router(self, router: RouterState, ports: dict[str, Any]) -> None:
        netlink, ns = self.netlink, self.namespace(router.router_id)
        if not netlink.netns_exists(ns):
            netlink.add_netns(ns)
            self._forget(ns)
            self._changes += 1
        lo = netlink.link("lo", netns=ns)
        if lo is not None and not lo.up:
            netlink.set_link("lo", netns=ns, up=True)
            self._changes += 1
        if ns not in self._prepared:
            for key, value in SYSCTLS:
                netlink.set_sysctl(key, value, netns=ns)
        plugs = self.plugs(router)
        txn = self.ovsdb.transaction()
        for plug in plugs:
            self._plug(ns, plug, router.router_id, ports.get(plug.tap), txn)
        self._unplug_stale(ns, router.router_id, {p.dev for p in plugs}, ports, txn)
        self._changes += len(txn.commands)
        txn.commit()
        if router.ha is not None:
            added = self._ha_addresses(ns, router)
        else:
            added = self._addresses(ns, nat.addresses(router))
            self._routes(ns, router)
        self._nat_tables(ns, router)
        if ns not in self._prepared:
            for key, value in OPTIONAL_SYSCTLS:  # exists once conntrack is in use in the namespace
                try:
                    netlink.set_sysctl(key, value, netns=ns)
                except DataplaneError as exc:
                    LOG.debug("%s in %s: %s", key, ns, exc)
            self._prepared.add(ns)
        if router.ha is not None:
            self._keepalived(ns, router)
            return  # keepalived announces the addresses it takes
        for dev, addresses in sorted(added.items()):
            self.announcer.announce(dev, addresses, netns=ns)

    def _ha_addresses(self, ns: str, router: RouterState) -> dict[str, list[str]]:
        """Only the ha- device's own address; keepalived's addresses are left alone."""
        assert router.ha is not None
        dev = device(HA_DEV, router.ha.port_id)
        own = [f"{f.ip_address}/{f.prefixlen}" for f in router.ha.fixed_ips]
        return self._addresses(ns, {dev: own}, keep=frozenset({keepalived.primary_vip(router.ha.vr_id)}))

    def _keepalived(self, ns: str, router: RouterState) -> None:
        if self.ha is None:
            raise DataplaneError("keepalived", router.router_id, "this agent has no HA state directory")
        self.ha.apply(ns, router)

    def plugs(self, router: RouterState) -> list[_Plug]:
        """The veths of a router: each interface's qr- and the gateway's qg-, with their taps (the audit reads them too)."""
        out = [
            _Plug(device(QR, i.port_id), device(TAP, i.port_id), i.port_id, i.mac_address.lower(),
                  i.segment.mtu if i.segment else None)
            for i in router.interfaces
        ]  # fmt: skip
        gw = router.gateway
        if gw is not None:
            out.append(_Plug(device(QG, gw.port_id), device(TAP, gw.port_id), gw.port_id, gw.mac_address.lower(),
                             gw.segment.mtu if gw.segment else None))  # fmt: skip
        ha = router.ha
        if ha is not None:
            out = [_Plug(p.dev, p.tap, p.port_id, p.mac, p.mtu, quiet=True) for p in out]
            out.append(_Plug(device(HA_DEV, ha.port_id), device(TAP, ha.port_id), ha.port_id, ha.mac_address.lower(),
                             ha.segment.mtu if ha.segment else None))  # fmt: skip
        return out

    def _plug(self, ns: str, plug: _Plug, router_id: str, port: Any, txn: Any) -> None:
        netlink, host_ns = self.netlink, self.host.netns
        inner, outer = netlink.link(plug.dev, netns=ns), netlink.link(plug.tap, netns=host_ns)
        fresh = inner is None or outer is None
        if fresh:
            if port is not None:  # its own transaction first: OVS must close the dead device (docs/audit.md)
                with self.ovsdb.transaction() as unplug:
                    unplug.del_port(plug.tap)
                port = None
            netlink.del_link(plug.tap, netns=host_ns)
            netlink.del_link(plug.dev, netns=ns)
            netlink.add_veth(plug.tap, plug.dev, netns=host_ns, peer_netns=ns, mtu=plug.mtu)
            if plug.quiet:
                netlink.disable_ipv6_link_local(plug.dev, netns=ns)
            netlink.set_link(plug.dev, netns=ns, address=plug.mac, up=True)
            netlink.set_link(plug.tap, netns=host_ns, up=True)
            netlink.disable_tx_checksum(plug.dev, netns=ns)  # docs/dataplane.md, "Checksum offload"
            self._changes += 1
        else:
            if inner.address.lower() != plug.mac:
                netlink.set_link(plug.dev, netns=ns, up=False)
                netlink.set_link(plug.dev, netns=ns, address=plug.mac)
                self._changes += 1
            if not inner.up or inner.address.lower() != plug.mac or (plug.mtu and inner.mtu != plug.mtu):
                netlink.set_link(plug.dev, netns=ns, up=True, mtu=plug.mtu)
                self._changes += 1
            if not outer.up or (plug.mtu and outer.mtu != plug.mtu):
                netlink.set_link(plug.tap, netns=host_ns, up=True, mtu=plug.mtu)
                self._changes += 1
        ids = {"iface-id": plug.port_id, "attached-mac": plug.mac, "iface-status": "active", ROUTER_KEY: router_id}
        if port is None or port.bridge != self.integration_bridge or any(port.iface_external_ids.get(k) != v for k, v in ids.items()):
            txn.add_port(self.integration_bridge, plug.tap, iface_external_ids=ids)

    def _unplug_stale(self, ns: str, router_id: str, devs: set[str], ports: dict[str, Any], txn: Any) -> None:
        """qr-/qg- devices in the namespace and taps of this router in OVS that are no longer wanted."""
        taps = {TAP + d[len(QR):] for d in devs}
        gone = {name for name, port in ports.items() if port.iface_external_ids.get(ROUTER_KEY) == router_id} - taps
        for link in self.netlink.links(netns=ns):
            if link.name.startswith((QR, QG, HA_DEV)) and link.name not in devs:
                self.netlink.del_link(link.name, netns=ns)  # its tap goes with it
                self._changes += 1
                gone |= {TAP + link.name[len(QR):]} & set(ports)
        for name in sorted(gone):
            txn.del_port(name)
            self.netlink.del_link(name, netns=self.host.netns)

    def _addresses(
        self, ns: str, wanted: dict[str, list[str]], keep: frozenset[str] = frozenset()
    ) -> dict[str, list[str]]:
        """Converge each device's addresses (``keep``: others left in place); returns the
        addresses newly added, by device."""
        netlink, added = self.netlink, {}
        for dev, cidrs in wanted.items():
            want = {str(ipaddress.ip_interface(c)): c for c in cidrs}
            listed = (ipaddress.ip_interface(a) for a in netlink.addresses(dev, netns=ns, link_local=True))
            have = {str(a) for a in listed if not (a.version == 6 and a.is_link_local)} - keep  # 169.254/16: HA's
            for key, cidr in want.items():
                if key not in have:
                    netlink.add_address(dev, cidr, netns=ns)
                    self._changes += 1
                    added.setdefault(dev, []).append(cidr)
            for key in sorted(have - set(want)):
                netlink.del_address(dev, key, netns=ns)
                self._changes += 1
                if dev.startswith(QG) and key.endswith("/32"):
                    self._flush_conntrack(ns, key.split("/")[0])
        return added

    def _routes(self, ns: str, router: RouterState) -> None:
        netlink, qg = self.netlink, nat.qg_device(router)
        want = nat.routes(router)
        have = {(r["dst"], r["gateway"]) for r in netlink.routes(netns=ns)}
        for dst, nexthop in want:
            if (dst, nexthop) in have:
                continue
            try:
                if nexthop is None:
                    netlink.replace_route(dst, dev=qg, netns=ns)
                else:
                    netlink.replace_route(dst, gateway=nexthop, dev=qg if dst == "default" else None, netns=ns)
                self._changes += 1
            except DataplaneError as exc:
                if dst == "default" or nexthop is None:
                    raise
                LOG.warning("router %s: extra route %s via %s: %s", router.router_id, dst, nexthop, exc)
        wanted_dsts = {dst for dst, _ in want}
        for dst, gateway in sorted(have, key=str):
            stale_gw = gateway is not None and dst not in wanted_dsts
            stale_onlink = gateway is None and dst.endswith("/32") and dst not in wanted_dsts
            if stale_gw or stale_onlink:
                netlink.del_route(dst, gateway=gateway, netns=ns)
                self._changes += 1

    def _nat_tables(self, ns: str, router: RouterState) -> None:
        """The NAT table, and the scope and helper tables (None: absent), applied in one script
        with only those whose text differs from what this object last applied; conntrack
        entries of floating IPs moved or removed are flushed."""
        wanted = {
            (nat.FAMILY, nat.TABLE): nat.render(router, nat.qg_device(router) or "", self.metadata_port),
            (scopes.FAMILY, scopes.TABLE): scopes.render(router),
            (ct_helpers.FAMILY, ct_helpers.TABLE): ct_helpers.render(router),
        }
        applied = self._tables.setdefault(ns, {})
        changed = {key: body for key, body in wanted.items() if key not in applied or applied[key] != body}
        if changed:
            self.nftables.apply_tables(changed, netns=ns)
            applied.update(changed)
            self._changes += 1
        mapping = dict(nat.floating_ips(router))
        for pf in nat.port_forwardings(router):  # a changed forwarding flushes its address's flows too
            mapping[pf.floating_ip_address] = mapping.get(pf.floating_ip_address, "") + "|" + nat.forwarding_rule(pf)
        for fip, fixed in self._fips.get(ns, {}).items():
            if mapping.get(fip) != fixed:  # a moved or removed floating IP: its old flows must go
                self._flush_conntrack(ns, fip)
        self._fips[ns] = mapping

    def _flush_conntrack(self, ns: str, address: str) -> None:
        """Original destination (DNAT) and reply destination (SNAT) entries of ``address``."""
        self.conntrack.delete([["-d", address], ["-q", address]], netns=ns)

    # --- routers that went away --------------------------------------------------------------

    def _remove_stale(self, wanted: set[str], ports: dict[str, Any]) -> list[str]:
        """Unplug and delete routers no longer wanted: their taps found by the router id in OVS,
        or by the qr-/qg- devices left in a namespace (a tap plugged by someone else)."""
        netlink, prefix = self.netlink, self.namespace("")
        gone_ns = [ns for ns in netlink.list_netns() if ns.startswith(prefix) and ns[len(prefix):] not in wanted]
        owner = {name: port.iface_external_ids.get(ROUTER_KEY) for name, port in ports.items()}
        taps = {name for name, router_id in owner.items() if router_id and router_id not in wanted}
        for ns in gone_ns:
            taps |= {TAP + link.name[len(QR):] for link in netlink.links(netns=ns) if link.name.startswith((QR, QG, HA_DEV))} & set(ports)
        if taps:
            with self.ovsdb.transaction() as txn:
                for name in sorted(taps):
                    txn.del_port(name)
            for name in sorted(taps):
                netlink.del_link(name, netns=self.host.netns)
            self._changes += len(taps)
        for ns in gone_ns:
            netlink.del_netns(ns)  # takes the qr-/qg- ends and so their taps with it
            self._forget(ns)
            self._changes += 1
        return sorted(ns[len(prefix):] for ns in gone_ns)

    def _forget(self, ns: str) -> None:
        self._prepared.discard(ns)
        self._tables.pop(ns, None)
        self._fips.pop(ns, None)


def fip_statuses(router: RouterState) -> dict[str, str]:
    """After a successful pass: ACTIVE when address and rules are in place, DOWN when not
    associated, ERROR when it cannot be served (no gateway, IPv6)."""
    active = {fip for fip, _ in nat.floating_ips(router)}
    forwarding = {p.floatingip_id for p in nat.port_forwardings(router)}
    out = {}
    for f in router.floating_ips:
        if f.floatingip_id in forwarding:
            out[f.floatingip_id] = "ACTIVE"
        elif not f.port_id or not f.fixed_ip_address:
            out[f.floatingip_id] = "DOWN"
        else:
            out[f.floatingip_id] = "ACTIVE" if f.floating_ip_address in active else "ERROR"
    return out
