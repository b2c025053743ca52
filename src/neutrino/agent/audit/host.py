"""One host's audit: the reconcilers' own plans as the expected side, the dataplane adapters'
reads as the observed side, ``drift.py`` to compare them.

Nothing here plans anew: the L2 agent's ``plan``/``flow_tables`` (the same calls its pass
makes), the DHCP agent's ``config.render`` and the L3 agent's ``nat`` functions give what the
host should hold. Reads only: ``ovs-vsctl`` and ``ovs-ofctl dump-flows``, netlink, ``nft list``,
dnsmasq's pid file and files. Repair is not here: it is the reconcilers' own pass
(``agent/audit/periodic.py``), so it changes only what they own.
"""

from __future__ import annotations

import logging
from typing import Any

from neutrino.tools.audit import drift
from neutrino.tools.audit.drift import Drift, PortExpect
from neutrino.agent.dhcp import config as dhcp_config
from neutrino.agent.l2 import local_vlans, ovs_flows
from neutrino.agent.l3 import nat
from neutrino.contract.desired import DesiredHostState
from neutrino.dataplane.dnsmasq import Dnsmasq
from neutrino.dataplane.errors import DataplaneError
from neutrino.dataplane.naming import DHCP_NS_DEV, TAP, device
from neutrino.dataplane.openflow import COOKIE

LOG = logging.getLogger(__name__)


def audit(agent: Any, desired: DesiredHostState) -> tuple[list[Drift], list[str]]:
    """(drift on this host, port ids its L2 agent wires) for the agent's roles."""
    ports = agent.l2.ovsdb.find_ports() if hasattr(agent.l2, "ovsdb") else []
    out: list[Drift] = []
    wired: list[str] = []
    if hasattr(agent.l2, "plan"):
        found, wired = l2(agent, desired, ports)
        out += found
    expected_taps: list[PortExpect] = []
    if agent.dhcp is not None:
        found, taps = dhcp(agent.dhcp, desired)
        out += found
        expected_taps += taps
    if agent.l3 is not None:
        found, taps = l3(agent.l3, desired)
        out += found
        expected_taps += taps
    if hasattr(agent.l2, "ovsdb"):  # a Linux bridge host plugs its taps into no OVS
        out += drift.ovs_ports(expected_taps, ports)
    return sorted(set(out)), wired


def l2(agent: Any, desired: DesiredHostState, ports: list[Any]) -> tuple[list[Drift], list[str]]:
    rec = agent.l2
    cfg = rec.cfg
    plan = rec.plan(desired, ports)
    expected: list[PortExpect] = []
    for bridge, port, peer in ovs_flows.patch_ports_needed(plan.layout):
        expected.append(PortExpect(port, bridge, iface_type="patch", options={"peer": peer}))
    tun = rec.tunnel_type
    stale: list[str] = []
    if tun:
        for ip, name in plan.tunnel_ports.items():
            opts = ovs_flows.tunnel_port_options(ip, cfg.local_ip or "", tun)
            expected.append(PortExpect(name, cfg.tunnel_bridge, iface_type=tun, options=opts, kind="tunnel_port"))
        stale = [p.name for p in ports if p.bridge == cfg.tunnel_bridge and p.iface_type == tun
                 and p.name not in plan.tunnel_ports.values()]  # fmt: skip
    for pid, port in plan.wanted.items():
        vlan = plan.vlans[port.network_id]
        other = local_vlans.port_other_config(vlan)
        expected.append(PortExpect(plan.vifs[pid].name, cfg.integration_bridge, tag=vlan.lvid,
                                   other_config={k: other.get(k) for k in ("net_uuid", "network_type", "physical_network",
                                                                           "segmentation_id")}))  # fmt: skip
    out = drift.ovs_ports(expected, ports, stale)
    tables, _meters = rec.flow_tables(plan)
    for bridge, flows in sorted(tables.items()):
        try:
            dumped = rec.openflow.dump(bridge)
        except DataplaneError as exc:
            out.append(Drift("flow", f"{bridge} (all tables)", f"{len(flows)} flows", f"cannot dump: {exc}"))
            continue
        out += drift.flows(bridge, flows, dumped, COOKIE)
    firewall = getattr(agent, "firewall_tables", None)
    if firewall is not None:
        for family, table, body in firewall(plan.firewalled, desired.remote_groups):
            listed = agent.nftables.table(family, table, netns=agent.host.netns)
            out += drift.nft_table(f"{family} {table}", body, listed, "l2")
    return out, sorted(plan.wanted)


def dhcp(rec: Any, desired: DesiredHostState) -> tuple[list[Drift], list[PortExpect]]:
    netlink, host_ns = rec.netlink, rec.host.netns
    out: list[Drift] = []
    taps: list[PortExpect] = []
    wanted = {n.network_id: n for n in desired.dhcp_networks if dhcp_config.requires_dhcp(n)}
    namespaces = netlink.list_netns()
    prefix = rec.namespace("")
    expected_ns = []
    for network_id, network in sorted(wanted.items()):
        port = dhcp_config.dhcp_port(network)
        if port is None:
            continue  # the agent asks the server for one: not drift yet
        ns = rec.namespace(network_id)
        expected_ns.append(ns)
        if ns not in namespaces:
            continue
        dev = device(DHCP_NS_DEV, port.port_id)
        tap = TAP + dev[len(DHCP_NS_DEV):]
        out += _veth(netlink, dev, ns, tap, host_ns, "dhcp")
        conf_dir = rec.state_dir / network_id
        cfg = dhcp_config.render(network, port, conf_dir, dev, rec.settings)
        daemon = Dnsmasq(ns, conf_dir, cfg.argv)
        out += drift.dnsmasq(network_id, cfg.files, daemon.read_files(cfg.files), daemon.running)
        want = {f"{f.ip_address}/{f.prefixlen}" for f in port.fixed_ips}
        if netlink.link(dev, netns=ns) is not None:
            out += drift.sets("address", f"{ns}/{dev}", want, netlink.addresses(dev, netns=ns), "dhcp")
        taps.append(PortExpect(tap, rec.bridge))
    stale = [n for n in namespaces if n.startswith(prefix) and n not in expected_ns]
    out += drift.presence("namespace", expected_ns, namespaces, "dhcp", stale)
    return out, taps


def l3(rec: Any, desired: DesiredHostState) -> tuple[list[Drift], list[PortExpect]]:
    netlink, host_ns = rec.netlink, rec.host.netns
    out: list[Drift] = []
    taps: list[PortExpect] = []
    wanted = {r.router_id: r for r in desired.routers if r.admin_state_up}
    namespaces = netlink.list_netns()
    prefix = rec.namespace("")
    expected_ns = []
    for router_id, router in sorted(wanted.items()):
        ns = rec.namespace(router_id)
        expected_ns.append(ns)
        if ns not in namespaces:
            continue
        for plug in rec.plugs(router):
            out += _veth(netlink, plug.dev, ns, plug.tap, host_ns, "l3")
            taps.append(PortExpect(plug.tap, rec.integration_bridge))
        for dev, cidrs in nat.addresses(router).items():
            if netlink.link(dev, netns=ns) is not None:
                out += drift.subset("address", f"{ns}/{dev}", cidrs, netlink.addresses(dev, netns=ns), "l3")
        have = [f"{r['dst']} via {r['gateway']}" if r["gateway"] else r["dst"] for r in netlink.routes(netns=ns)]
        want = [f"{dst} via {gw}" if gw else dst for dst, gw in nat.routes(router)]
        out += drift.subset("route", ns, want, have, "l3")
        body = nat.render(router, nat.qg_device(router) or "", rec.metadata_port)  # as the reconciler renders it
        out += drift.nft_table(f"{ns} {nat.FAMILY} {nat.TABLE}", body, rec.nftables.table(nat.FAMILY, nat.TABLE, netns=ns), "l3")
    stale = [n for n in namespaces if n.startswith(prefix) and n not in expected_ns]
    out += drift.presence("namespace", expected_ns, namespaces, "l3", stale)
    return out, taps


def _veth(netlink: Any, inner: str, ns: str, outer: str, host_ns: str | None, role: str) -> list[Drift]:
    got_inner, got_outer = netlink.link(inner, netns=ns), netlink.link(outer, netns=host_ns)
    if got_inner is not None and got_outer is not None:
        down = [n for n, link in ((inner, got_inner), (outer, got_outer)) if not link.up]
        return [Drift("veth", f"{outer}/{inner}", "up", f"{', '.join(down)} down", role)] if down else []
    missing = [n for n, link in ((f"{ns}/{inner}", got_inner), (outer, got_outer)) if link is None]
    return [Drift("veth", f"{outer}/{inner}", PRESENT_BOTH, f"missing {', '.join(missing)}", role)]


PRESENT_BOTH = "both ends present"
