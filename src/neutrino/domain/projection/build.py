"""DB rows → DesiredHostState for one host (read-only; one transaction; batched queries).

What a host must realise: its bound ports (with segment, addresses, security rules with remote
groups resolved, allowed address pairs), the DHCP networks and routers scheduled to its agents,
and the tunnel endpoints of the other hosts that share a tunnelled network with it (the
l2population view: flood only to hosts that need the traffic).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.domain.models import (
    Agent,
    AllowedAddressPair,
    DNSNameServer,
    ExtraDhcpOpt,
    FloatingIP,
    HostRoute,
    IPAllocation,
    Network,
    NetworkDhcpAgentBinding,
    NetworkSegment,
    Port,
    PortBinding,
    PortBindingLevel,
    Router,
    RouterL3AgentBinding,
    RouterPort,
    RouterRoute,
    SecurityGroupPortBinding,
    SecurityGroupRule,
    Subnet,
    TunnelEndpoint,
)
from neutrino.domain.scheduling.dhcp import DHCP_OWNER, dhcp_device_id
from neutrino.contract.desired import (
    BoundPort,
    DesiredHostState,
    DhcpNetwork,
    DhcpPort,
    DhcpSubnet,
    FixedIP,
    FloatingIPState,
    RouterGateway,
    RouterInterface,
    RemoteGroup,
    RouterState,
    SecurityRule,
    Segment,
    TunnelPeer,
)

TUNNEL_TYPES = frozenset({"vxlan", "geneve", "gre"})
UNBOUND = ("unbound", "binding_failed")
INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed")


def project_host(session: Session, host: str) -> DesiredHostState:
    ports = _bound_ports(session, host)
    dhcp = _dhcp_networks(session, host)
    routers = _routers(session, host)
    local_networks = {p.network_id for p in ports} | {d.network_id for d in dhcp}
    for r in routers:
        local_networks |= {i.network_id for i in r.interfaces}
        if r.gateway is not None:
            local_networks.add(r.gateway.network_id)
    peers, local_ip = _tunnel_peers(session, host, local_networks)
    group_ids = {r.remote_group_id for p in ports for r in p.rules if r.remote_group_id}
    members = _group_members(session, group_ids)
    remote_groups = tuple(
        RemoteGroup(
            gid,
            ipv4=tuple(sorted(a for a in members.get(gid, ()) if ipaddress.ip_network(a, strict=False).version == 4)),
            ipv6=tuple(sorted(a for a in members.get(gid, ()) if ipaddress.ip_network(a, strict=False).version == 6)),
        )
        for gid in sorted(group_ids)
    )
    state = DesiredHostState(
        host=host,
        ports=tuple(sorted(ports, key=lambda p: p.port_id)),
        dhcp_networks=tuple(sorted(dhcp, key=lambda d: d.network_id)),
        routers=tuple(sorted(routers, key=lambda r: r.router_id)),
        tunnel_peers=peers,
        local_tunnel_ip=local_ip,
        remote_groups=remote_groups,
    )
    return state.with_fingerprint()


# --- shared lookups ---------------------------------------------------------------------------


def _segments(session: Session, network_ids: Iterable[str]) -> dict[str, Segment]:
    """The first (static) segment of each network, with the network's MTU."""
    ids = list(set(network_ids))
    if not ids:
        return {}
    mtus = dict(session.execute(select(Network.id, Network.mtu).where(Network.id.in_(ids))).all())
    out: dict[str, Segment] = {}
    rows = session.execute(
        select(NetworkSegment)
        .where(NetworkSegment.network_id.in_(ids), NetworkSegment.is_dynamic.is_(False))
        .order_by(NetworkSegment.network_id, NetworkSegment.segment_index)
    ).scalars()
    for seg in rows:
        out.setdefault(
            seg.network_id,
            Segment(seg.network_type, seg.physical_network, seg.segmentation_id, mtus.get(seg.network_id, 1500)),
        )
    return out


def _segment_by_id(session: Session, segment_ids: Iterable[str]) -> dict[str, NetworkSegment]:
    ids = [s for s in set(segment_ids) if s]
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(NetworkSegment).where(NetworkSegment.id.in_(ids)))}


def _fixed_ips(session: Session, port_ids: Iterable[str]) -> dict[str, tuple[FixedIP, ...]]:
    ids = list(port_ids)
    out: dict[str, list[FixedIP]] = defaultdict(list)
    if ids:
        rows = session.execute(
            select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address, Subnet.cidr, Subnet.gateway_ip)
            .join(Subnet, Subnet.id == IPAllocation.subnet_id)
            .where(IPAllocation.port_id.in_(ids))
            .order_by(IPAllocation.port_id, IPAllocation.position)
        )
        for port_id, subnet_id, ip, cidr, gw in rows:
            out[port_id].append(FixedIP(subnet_id, ip, cidr, gw))
    return {k: tuple(v) for k, v in out.items()}


# --- bound ports and their security -----------------------------------------------------------


def _bound_ports(session: Session, host: str) -> list[BoundPort]:
    rows = session.execute(
        select(Port, PortBinding.vif_type)
        .join(PortBinding, PortBinding.port_id == Port.id)
        .where(PortBinding.host == host, PortBinding.vif_type.notin_(UNBOUND))
    ).all()
    if not rows:
        return []
    port_ids = [p.id for p, _ in rows]
    levels = dict(
        session.execute(
            select(PortBindingLevel.port_id, PortBindingLevel.segment_id)
            .where(PortBindingLevel.port_id.in_(port_ids), PortBindingLevel.host == host)
            .order_by(PortBindingLevel.level)
        ).all()
    )
    bound_segments = _segment_by_id(session, levels.values())
    network_segments = _segments(session, [p.network_id for p, _ in rows])
    ips = _fixed_ips(session, port_ids)
    groups: dict[str, list[str]] = defaultdict(list)
    for port_id, sg_id in session.execute(
        select(SecurityGroupPortBinding.port_id, SecurityGroupPortBinding.security_group_id).where(
            SecurityGroupPortBinding.port_id.in_(port_ids)
        )
    ):
        groups[port_id].append(sg_id)
    rules = _rules(session, {g for gs in groups.values() for g in gs})
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for port_id, ip, mac in session.execute(
        select(AllowedAddressPair.port_id, AllowedAddressPair.ip_address, AllowedAddressPair.mac_address).where(
            AllowedAddressPair.port_id.in_(port_ids)
        )
    ):
        pairs[port_id].append((ip, mac))
    out = []
    for port, vif_type in rows:
        seg_row = bound_segments.get(levels.get(port.id) or "")
        base = network_segments.get(port.network_id)
        segment = (
            Segment(seg_row.network_type, seg_row.physical_network, seg_row.segmentation_id, base.mtu if base else 1500)
            if seg_row is not None
            else base
        )
        sgs = tuple(sorted(groups.get(port.id, [])))
        out.append(
            BoundPort(
                port_id=port.id,
                network_id=port.network_id,
                mac_address=port.mac_address,
                admin_state_up=port.admin_state_up,
                device_owner=port.device_owner,
                device_id=port.device_id,
                vif_type=vif_type,
                segment=segment,
                fixed_ips=ips.get(port.id, ()),
                port_security_enabled=port.port_security_enabled,
                security_groups=sgs,
                rules=tuple(r for g in sgs for r in rules.get(g, ())),
                allowed_address_pairs=tuple(sorted(pairs.get(port.id, []))),
                revision_number=port.revision_number,
            )
        )
    return out


def _rules(session: Session, group_ids: set[str]) -> dict[str, tuple[SecurityRule, ...]]:
    if not group_ids:
        return {}
    rows = list(
        session.scalars(
            select(SecurityGroupRule)
            .where(SecurityGroupRule.security_group_id.in_(group_ids))
            .order_by(SecurityGroupRule.security_group_id, SecurityGroupRule.id)
        )
    )
    out: dict[str, list[SecurityRule]] = defaultdict(list)
    for r in rows:
        # a remote group's members are listed once per host (remote_groups), not per rule
        prefixes = (r.remote_ip_prefix,) if r.remote_ip_prefix and not r.remote_group_id else ()
        out[r.security_group_id].append(
            SecurityRule(
                security_group_id=r.security_group_id,
                direction=r.direction,
                ethertype=r.ethertype,
                protocol=r.protocol,
                port_range_min=r.port_range_min,
                port_range_max=r.port_range_max,
                remote_ip_prefixes=prefixes,
                remote_group_id=r.remote_group_id,
            )
        )
    return {k: tuple(v) for k, v in out.items()}


def _group_members(session: Session, group_ids: set[str]) -> dict[str, set[str]]:
    """Addresses of every port in each group: fixed IPs and allowed-address-pair addresses."""
    out: dict[str, set[str]] = defaultdict(set)
    if not group_ids:
        return out
    member_ports = session.execute(
        select(SecurityGroupPortBinding.security_group_id, SecurityGroupPortBinding.port_id).where(
            SecurityGroupPortBinding.security_group_id.in_(group_ids)
        )
    ).all()
    by_port: dict[str, list[str]] = defaultdict(list)
    for sg, port in member_ports:
        by_port[port].append(sg)
    if not by_port:
        return out
    for port_id, ip in session.execute(
        select(IPAllocation.port_id, IPAllocation.ip_address).where(IPAllocation.port_id.in_(list(by_port)))
    ):
        for sg in by_port[port_id]:
            out[sg].add(ip)
    for port_id, ip in session.execute(
        select(AllowedAddressPair.port_id, AllowedAddressPair.ip_address).where(
            AllowedAddressPair.port_id.in_(list(by_port))
        )
    ):
        for sg in by_port[port_id]:
            out[sg].add(ip)
    return out


# --- DHCP -------------------------------------------------------------------------------------


def _dhcp_networks(session: Session, host: str) -> list[DhcpNetwork]:
    nets = session.execute(
        select(Network.id, Network.mtu, Network.revision_number)
        .join(NetworkDhcpAgentBinding, NetworkDhcpAgentBinding.network_id == Network.id)
        .join(Agent, Agent.id == NetworkDhcpAgentBinding.dhcp_agent_id)
        .where(Agent.host == host)
    ).all()
    if not nets:
        return []
    ids = [n.id for n in nets]
    segments = _segments(session, ids)
    subnets: dict[str, list[Subnet]] = defaultdict(list)
    for sub in session.scalars(select(Subnet).where(Subnet.network_id.in_(ids)).order_by(Subnet.created_at, Subnet.id)):
        subnets[sub.network_id].append(sub)
    sub_ids = [s.id for subs in subnets.values() for s in subs]
    dns: dict[str, list[str]] = defaultdict(list)
    routes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if sub_ids:
        for sid, addr in session.execute(
            select(DNSNameServer.subnet_id, DNSNameServer.address)
            .where(DNSNameServer.subnet_id.in_(sub_ids))
            .order_by(DNSNameServer.position)
        ):
            dns[sid].append(addr)
        for sid, dest, hop in session.execute(
            select(HostRoute.subnet_id, HostRoute.destination, HostRoute.nexthop)
            .where(HostRoute.subnet_id.in_(sub_ids))
            .order_by(HostRoute.position)
        ):
            routes[sid].append((dest, hop))
    ports_by_net: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(Port.id, Port.network_id, Port.mac_address, Port.device_owner, Port.device_id, Port.revision_number)
        .where(Port.network_id.in_(ids))
    ):
        ports_by_net[row.network_id].append(row)
    all_port_ids = [p.id for ps in ports_by_net.values() for p in ps]
    ips = _fixed_ips(session, all_port_ids)
    opts: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    if all_port_ids:
        for pid, name, value, version in session.execute(
            select(ExtraDhcpOpt.port_id, ExtraDhcpOpt.opt_name, ExtraDhcpOpt.opt_value, ExtraDhcpOpt.ip_version)
            .where(ExtraDhcpOpt.port_id.in_(all_port_ids))
            .order_by(ExtraDhcpOpt.opt_name)
        ):
            opts[pid].append((name, value, version))
    out = []
    for net in nets:
        ports = sorted(ports_by_net.get(net.id, []), key=lambda p: p.id)
        out.append(
            DhcpNetwork(
                network_id=net.id,
                segment=segments.get(net.id),
                mtu=net.mtu,
                subnets=tuple(
                    DhcpSubnet(
                        subnet_id=s.id,
                        cidr=s.cidr,
                        ip_version=s.ip_version,
                        gateway_ip=s.gateway_ip,
                        enable_dhcp=s.enable_dhcp,
                        ipv6_address_mode=s.ipv6_address_mode,
                        ipv6_ra_mode=s.ipv6_ra_mode,
                        dns_nameservers=tuple(dns.get(s.id, [])),
                        host_routes=tuple(routes.get(s.id, [])),
                    )
                    for s in subnets.get(net.id, [])
                ),
                ports=tuple(
                    DhcpPort(p.id, p.mac_address, p.device_owner, ips.get(p.id, ()), tuple(opts.get(p.id, [])),
                             p.revision_number)
                    for p in ports
                ),
                # this host's own DHCP port only: another agent's is not ours to serve from, and
                # a reserved one (its agent died or lost the network) is first claimed through
                # create_dhcp_port, which rebinds it here (domain/services/dhcp_ports.py)
                dhcp_port_ids=tuple(
                    p.id for p in ports
                    if p.device_owner == DHCP_OWNER and p.device_id == dhcp_device_id(net.id, host)
                ),  # fmt: skip
                revision_number=net.revision_number,
            )
        )
    return out


# --- routers ----------------------------------------------------------------------------------


def _routers(session: Session, host: str) -> list[RouterState]:
    routers = list(
        session.scalars(
            select(Router)
            .join(RouterL3AgentBinding, RouterL3AgentBinding.router_id == Router.id)
            .join(Agent, Agent.id == RouterL3AgentBinding.l3_agent_id)
            .where(Agent.host == host)
        )
    )
    if not routers:
        return []
    ids = [r.id for r in routers]
    iface_rows = session.execute(
        select(RouterPort.router_id, Port.id, Port.network_id, Port.mac_address)
        .join(Port, Port.id == RouterPort.port_id)
        .where(RouterPort.router_id.in_(ids), RouterPort.port_type.in_(INTERFACE_OWNERS))
    ).all()
    gw_ports = {
        p.id: p
        for p in session.scalars(select(Port).where(Port.id.in_([r.gw_port_id for r in routers if r.gw_port_id])))
    }
    port_ids = [row.id for row in iface_rows] + list(gw_ports)
    ips = _fixed_ips(session, port_ids)
    segments = _segments(session, [row.network_id for row in iface_rows] + [p.network_id for p in gw_ports.values()])
    interfaces: dict[str, list[RouterInterface]] = defaultdict(list)
    for row in iface_rows:
        interfaces[row.router_id].append(
            RouterInterface(row.id, row.network_id, row.mac_address, ips.get(row.id, ()), segments.get(row.network_id))
        )
    routes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rid, dest, hop in session.execute(
        select(RouterRoute.router_id, RouterRoute.destination, RouterRoute.nexthop).where(RouterRoute.router_id.in_(ids))
    ):
        routes[rid].append((dest, hop))
    fips: dict[str, list[FloatingIPState]] = defaultdict(list)
    for fip in session.scalars(select(FloatingIP).where(FloatingIP.router_id.in_(ids)).order_by(FloatingIP.id)):
        fips[fip.router_id or ""].append(
            FloatingIPState(fip.id, fip.floating_ip_address, fip.fixed_ip_address, fip.fixed_port_id, fip.status)
        )
    out = []
    for r in routers:
        gw = gw_ports.get(r.gw_port_id or "")
        gateway = (
            RouterGateway(gw.id, gw.network_id, gw.mac_address, ips.get(gw.id, ()), segments.get(gw.network_id), r.enable_snat)
            if gw is not None
            else None
        )
        out.append(
            RouterState(
                router_id=r.id,
                admin_state_up=r.admin_state_up,
                interfaces=tuple(sorted(interfaces.get(r.id, []), key=lambda i: i.port_id)),
                gateway=gateway,
                routes=tuple(sorted(routes.get(r.id, []))),
                floating_ips=tuple(fips.get(r.id, [])),
                revision_number=r.revision_number,
            )
        )
    return out


# --- tunnels (l2population) -------------------------------------------------------------------


def _tunnel_peers(
    session: Session, host: str, local_networks: set[str]
) -> tuple[tuple[TunnelPeer, ...], str | None]:
    endpoints = session.execute(select(TunnelEndpoint.host, TunnelEndpoint.tunnel_type, TunnelEndpoint.ip_address)).all()
    local_ip = next((e.ip_address for e in endpoints if e.host == host), None)
    if not local_networks:
        return (), local_ip
    segs = _segments(session, local_networks)
    tunnelled = {n: s for n, s in segs.items() if s.network_type in TUNNEL_TYPES}
    if not tunnelled:
        return (), local_ip
    ids = list(tunnelled)
    hosts_by_net: dict[str, set[str]] = defaultdict(set)
    for net_id, h in session.execute(
        select(Port.network_id, PortBinding.host)
        .join(PortBinding, PortBinding.port_id == Port.id)
        .where(Port.network_id.in_(ids), PortBinding.vif_type.notin_(UNBOUND), PortBinding.host != "")
    ):
        hosts_by_net[net_id].add(h)
    for net_id, h in session.execute(
        select(NetworkDhcpAgentBinding.network_id, Agent.host)
        .join(Agent, Agent.id == NetworkDhcpAgentBinding.dhcp_agent_id)
        .where(NetworkDhcpAgentBinding.network_id.in_(ids))
    ):
        hosts_by_net[net_id].add(h)
    for net_id, h in session.execute(
        select(Port.network_id, Agent.host)
        .join(RouterPort, RouterPort.port_id == Port.id)
        .join(RouterL3AgentBinding, RouterL3AgentBinding.router_id == RouterPort.router_id)
        .join(Agent, Agent.id == RouterL3AgentBinding.l3_agent_id)
        .where(Port.network_id.in_(ids))
    ):
        hosts_by_net[net_id].add(h)
    peers = []
    for e in endpoints:
        if e.host == host:
            continue
        shared = tuple(
            sorted(n for n, s in tunnelled.items() if s.network_type == e.tunnel_type and e.host in hosts_by_net[n])
        )
        if shared:
            peers.append(TunnelPeer(e.host, e.tunnel_type, e.ip_address, shared))
    return tuple(sorted(peers, key=lambda p: (p.tunnel_type, p.ip_address))), local_ip
