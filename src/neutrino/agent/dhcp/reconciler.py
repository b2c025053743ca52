"""The DHCP agent's reconciliation: desired DHCP networks in, qdhcp namespaces with dnsmasq out.

Level-triggered: every pass takes the whole list of networks scheduled to this host and, for
each one with a DHCP-enabled subnet and a DHCP port, converges the namespace, the veth (never an
OVS internal port, docs/dataplane.md) with its tap on br-int, the ns- device's MAC, MTU, addresses
and checksum offload (docs/dataplane.md), the configuration files and dnsmasq. What exists is read back each
time (namespaces, links, OVS ports, files, the running dnsmasq's argv), so a new reconciler
after an agent restart adopts everything and keeps dnsmasq running. A network without its DHCP
port yet asks the server for one (``create_port``) and waits for the next pass. Networks that
exist here but are no longer wanted are removed: dnsmasq, OVS port, namespace, directory.

The tap is plugged untagged, with the Interface external_ids the L2 agent recognises a VIF by
(iface-id, attached-mac, iface-status); the L2 agent sets its local VLAN. The extra key
``neutrino-dhcp-network`` lets removal find the port even when the directory is gone.
One network's dataplane failure does not stop the others: it is reported in ``failed``.

Taking a network over from a dead agent (the same DHCP port, claimed through the server, so the
same address and MAC): dnsmasq starts with a lease file listing every address of the network
(``config.render_init_leases``), so it acknowledges the instances' renewals instead of NAKing
leases it did not hand out, and the ns- device's new addresses are announced by gratuitous ARP,
so the tunnel bridges that learnt the MAC behind the dead node learn it again.
"""

from __future__ import annotations

import logging
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neutrino.agent.dhcp import config
from neutrino.dataplane.errors import DataplaneError, TemporaryError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.ports import DhcpServers, Links, NeighbourAnnouncer, PortPlug
from neutrino.dataplane.naming import DHCP_NS_DEV, TAP, device
from neutrino.contract.desired import DesiredHostState, DhcpNetwork, DhcpPort

LOG = logging.getLogger(__name__)
NS_BASE = "qdhcp-"
OWNER_KEY = "neutrino-dhcp-network"


@dataclass
class DhcpResult:
    ready_port_ids: list[str] = field(default_factory=list)
    """Ports with a host-file line in a dnsmasq that has read it (the DHCP provisioning block)."""
    networks: list[str] = field(default_factory=list)
    """Networks served after this pass."""
    requested_ports: list[str] = field(default_factory=list)
    """Networks for which the server was asked to create the DHCP port."""
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """network id -> error, to retry on a later pass."""


def _tap_of(ns_device: str) -> str:
    return TAP + ns_device[len(DHCP_NS_DEV):]


class DhcpReconciler:
    def __init__(
        self,
        host: HostContext,
        netlink: Links,
        ovsdb: PortPlug,
        state_dir: Path,
        create_port: Callable[[str], object],
        integration_bridge: str = "br-int",
        settings: config.DhcpSettings | None = None,
        announcer: NeighbourAnnouncer | None = None,
        servers: DhcpServers | None = None,
    ) -> None:
        self.host = host
        self.netlink = netlink
        self.ovsdb = ovsdb
        self.state_dir = Path(state_dir)
        self.create_port = create_port
        self.bridge = integration_bridge
        self.settings = settings or config.DhcpSettings()
        if announcer is None:
            from neutrino.dataplane.garp import Announcer

            announcer = Announcer()
        self.announcer: NeighbourAnnouncer = announcer
        if servers is None:
            from neutrino.dataplane.dnsmasq import DnsmasqServers

            servers = DnsmasqServers()
        self.servers: DhcpServers = servers
        self._adopted: set[str] = set()
        """Networks whose running dnsmasq this object has made current (reloaded once if found running)."""

    def forget(self) -> None:
        """Reload every running dnsmasq on the next pass (the audit's repair)."""
        self._adopted.clear()

    def namespace(self, network_id: str) -> str:
        return self.host.namespace(NS_BASE + network_id)

    # --- the pass ----------------------------------------------------------------------------

    def reconcile(self, desired: DesiredHostState) -> DhcpResult:
        result = DhcpResult()
        self._prepare_state_dir()
        wanted = {n.network_id: n for n in desired.dhcp_networks if config.requires_dhcp(n)}
        ovs_ports = {p.name: p for p in self.ovsdb.find_ports()}
        for network_id in sorted(wanted):
            network = wanted[network_id]
            port = config.dhcp_port(network)
            if port is None:
                try:
                    self.create_port(network_id)
                    result.requested_ports.append(network_id)
                except Exception as exc:  # noqa: BLE001 - the server may be busy: next pass asks again
                    result.failed[network_id] = f"create DHCP port: {exc}"
                continue
            try:
                ready = self._ensure(network, port, ovs_ports)
            except DataplaneError as exc:
                LOG.warning("dhcp %s: %s; will retry", network_id, exc)
                result.failed[network_id] = str(exc)
                continue
            result.networks.append(network_id)
            result.ready_port_ids.extend(p for p in ready if p not in result.ready_port_ids)
        for network_id in sorted(self._existing(ovs_ports) - set(wanted)):
            try:
                self._remove(network_id, ovs_ports)
                result.removed.append(network_id)
            except DataplaneError as exc:
                LOG.warning("dhcp %s: removal failed: %s; will retry", network_id, exc)
                result.failed[network_id] = str(exc)
        return result

    def cleanup_all(self) -> list[str]:
        """Remove every network this host serves (lab teardown, tests); the ids removed."""
        ovs_ports = {p.name: p for p in self.ovsdb.find_ports()}
        removed = sorted(self._existing(ovs_ports))
        for network_id in removed:
            self._remove(network_id, ovs_ports)
        return removed

    def _prepare_state_dir(self) -> None:
        """dnsmasq reads its files as nobody: the state directory must let others through."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(self.state_dir.stat().st_mode)
        if mode & 0o005 != 0o005:
            self.state_dir.chmod(mode | 0o755)

    # --- one network -------------------------------------------------------------------------

    def _ensure(self, network: DhcpNetwork, port: DhcpPort, ovs_ports: dict[str, Any]) -> list[str]:
        ns = self.namespace(network.network_id)
        dev = device(DHCP_NS_DEV, port.port_id)
        self._plug(network, port, ns, dev, ovs_ports)
        conf_dir = self.state_dir / network.network_id
        cfg = config.render(network, port, conf_dir, dev, self.settings)
        dnsmasq = self.servers.server(ns, conf_dir, cfg.argv)
        changed = dnsmasq.write_files(cfg.files)
        running = dnsmasq.running_argv()
        if running is None:
            LOG.info("dhcp %s: starting dnsmasq", network.network_id)
            dnsmasq.write_leases(config.render_init_leases(network, self.settings, int(time.time())))
            dnsmasq.ensure()
        elif config.needs_restart(running, cfg.argv):
            LOG.info("dhcp %s: dnsmasq arguments changed: restarting", network.network_id)
            dnsmasq.stop()
            dnsmasq.write_leases(config.render_init_leases(network, self.settings, int(time.time())))
            dnsmasq.ensure()
        elif changed or network.network_id not in self._adopted:
            dnsmasq.reload()
        self._adopted.add(network.network_id)
        return cfg.ready_port_ids

    def _plug(self, network: DhcpNetwork, port: DhcpPort, ns: str, dev: str, ovs_ports: dict[str, Any]) -> None:
        netlink, host_ns = self.netlink, self.host.netns
        tap = _tap_of(dev)
        if not netlink.netns_exists(ns):
            netlink.add_netns(ns)
        lo = netlink.link("lo", netns=ns)
        if lo is None or not lo.up:
            netlink.set_link("lo", netns=ns, up=True)
        stale = [link.name for link in netlink.links(netns=ns) if link.name.startswith(DHCP_NS_DEV) and link.name != dev]
        if stale:  # a previous DHCP port of this network
            self._unplug(stale, ns, ovs_ports)
        mtu = network.mtu or None
        if netlink.link(dev, netns=ns) is None:
            if tap in ovs_ports:  # its own transaction first: OVS must close the dead device (docs/audit.md)
                with self.ovsdb.transaction() as unplug:
                    unplug.del_port(tap)
                ovs_ports.pop(tap)
            netlink.del_link(tap, netns=host_ns)  # half a pair left over
            netlink.add_veth(tap, dev, netns=host_ns, peer_netns=ns, mtu=mtu)
            try:
                netlink.set_link(dev, netns=ns, address=port.mac_address)
                netlink.disable_tx_checksum(dev, netns=ns)  # else DHCP replies are dropped (docs/dataplane.md, "Checksum offload")
            except BaseException:
                netlink.del_link(dev, netns=ns)
                raise
        info = netlink.link(dev, netns=ns)
        if info is None:
            raise TemporaryError("plug", dev, f"vanished from {ns}")
        changes: dict[str, Any] = {}
        if info.address.lower() != port.mac_address.lower():
            changes["address"] = port.mac_address
        if mtu and info.mtu != mtu:
            changes["mtu"] = mtu
        if not info.up:
            changes["up"] = True
        if changes:
            netlink.set_link(dev, netns=ns, **changes)
        tap_info = netlink.link(tap, netns=host_ns)
        if tap_info is not None and (not tap_info.up or (mtu and tap_info.mtu != mtu)):
            netlink.set_link(tap, netns=host_ns, up=True, mtu=mtu)
        want = {f"{f.ip_address}/{f.prefixlen}" for f in port.fixed_ips}
        have = set(netlink.addresses(dev, netns=ns))
        for cidr in sorted(have - want):
            netlink.del_address(dev, cidr, netns=ns)
        for cidr in sorted(want - have):
            netlink.add_address(dev, cidr, netns=ns)
        if self.settings.metadata and config.METADATA_CIDR not in netlink.addresses(dev, netns=ns, link_local=True):
            netlink.add_address(dev, config.METADATA_CIDR, netns=ns)  # the metadata proxy's (docs/metadata.md)
        if want - have:  # a network taken over from a dead agent: the tunnels must learn where it is now
            self.announcer.announce(dev, sorted(want - have), netns=ns)
        ids = {"iface-id": port.port_id, "attached-mac": port.mac_address, "iface-status": "active",
               OWNER_KEY: network.network_id}  # fmt: skip
        plugged = ovs_ports.get(tap)
        if plugged is None or plugged.bridge != self.bridge or any(plugged.iface_external_ids.get(k) != v for k, v in ids.items()):
            with self.ovsdb.transaction() as txn:
                txn.add_port(self.bridge, tap, iface_external_ids=ids)

    def _unplug(self, ns_devices: list[str], ns: str | None, ovs_ports: dict[str, Any], network_id: str | None = None) -> None:
        """Remove these ns- devices' veths and OVS ports (and ``network_id``'s marked ports)."""
        taps = {_tap_of(d) for d in ns_devices}
        if network_id is not None:
            taps |= {name for name, p in ovs_ports.items() if p.iface_external_ids.get(OWNER_KEY) == network_id}
        gone = sorted(t for t in taps if t in ovs_ports)
        if gone:
            with self.ovsdb.transaction() as txn:
                for tap in gone:
                    txn.del_port(tap, if_exists=True)
        for tap in sorted(taps):
            ovs_ports.pop(tap, None)
            self.netlink.del_link(tap, netns=self.host.netns)
        if ns is not None:
            for dev in ns_devices:
                self.netlink.del_link(dev, netns=ns)

    # --- what exists -------------------------------------------------------------------------

    def _existing(self, ovs_ports: dict[str, Any]) -> set[str]:
        """Network ids with a namespace, a directory or a marked OVS port on this host."""
        prefix = self.namespace("")
        found = {name[len(prefix):] for name in self.netlink.list_netns() if name.startswith(prefix)}
        if self.state_dir.is_dir():
            found |= {d.name for d in self.state_dir.iterdir() if d.is_dir()}
        found |= {p.iface_external_ids[OWNER_KEY] for p in ovs_ports.values() if OWNER_KEY in p.iface_external_ids}
        return {n for n in found if n}

    def _remove(self, network_id: str, ovs_ports: dict[str, Any]) -> None:
        LOG.info("dhcp %s: removing", network_id)
        ns = self.namespace(network_id)
        conf_dir = self.state_dir / network_id
        self.servers.stop(conf_dir)
        devices = set()
        if self.netlink.netns_exists(ns):
            devices |= {link.name for link in self.netlink.links(netns=ns) if link.name.startswith(DHCP_NS_DEV)}
        try:
            devices.add((conf_dir / "interface").read_text().strip())
        except (FileNotFoundError, NotADirectoryError):
            pass
        devices.discard("")
        self._unplug(sorted(devices), ns if self.netlink.netns_exists(ns) else None, ovs_ports, network_id)
        self.netlink.del_netns(ns)
        shutil.rmtree(conf_dir, ignore_errors=True)
        self._adopted.discard(network_id)
