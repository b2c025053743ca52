"""The DHCP networks scheduled to a host's DHCP agent, with subnets, options and ports (and
each port's ``dns_name``, the hostname dnsmasq gives it)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.contract.desired import DhcpNetwork, DhcpPort, DhcpSubnet, NetworkDhcpPort
from neutrino.domain.models import (
    Agent,
    DNSNameServer,
    ExtraDhcpOpt,
    HostRoute,
    Network,
    NetworkDhcpAgentBinding,
    Port,
    PortDNS,
    Subnet,
)
from neutrino.domain.projection.lookups import segments_of, fixed_ips_of
from neutrino.domain.scheduling.dhcp import DHCP_OWNER, dhcp_device_id


def dhcp_networks(session: Session, host: str) -> list[DhcpNetwork]:
    nets = session.execute(
        select(Network.id, Network.mtu, Network.revision_number)
        .join(NetworkDhcpAgentBinding, NetworkDhcpAgentBinding.network_id == Network.id)
        .join(Agent, Agent.id == NetworkDhcpAgentBinding.dhcp_agent_id)
        .where(Agent.host == host)
    ).all()
    if not nets:
        return []
    ids = [n.id for n in nets]
    segments = segments_of(session, ids)
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
    entries = _port_entries(session, Port.network_id.in_(ids))
    out = []
    for net in nets:
        ports = sorted(entries.get(net.id, []), key=lambda e: e[0].port_id)
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
                ports=tuple(entry for entry, _device_id in ports),
                # this host's own DHCP port only: another agent's is not ours to serve from, and
                # a reserved one (its agent died or lost the network) is first claimed through
                # create_dhcp_port, which rebinds it here (domain/services/dhcp_ports.py)
                dhcp_port_ids=tuple(
                    e.port_id for e, device_id in ports
                    if e.device_owner == DHCP_OWNER and device_id == dhcp_device_id(net.id, host)
                ),  # fmt: skip
                revision_number=net.revision_number,
            )
        )
    return out


def _port_entries(session: Session, where: Any) -> dict[str, list[tuple[DhcpPort, str]]]:
    """network id -> (DHCP entry, device_id) of the ports ``where`` selects."""
    ports_by_net: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(
            Port.id, Port.network_id, Port.mac_address, Port.device_owner, Port.device_id, Port.revision_number,
            PortDNS.dns_name,
        )
        .outerjoin(PortDNS, PortDNS.port_id == Port.id)
        .where(where)
    ):
        ports_by_net[row.network_id].append(row)
    all_port_ids = [p.id for ps in ports_by_net.values() for p in ps]
    ips = fixed_ips_of(session, all_port_ids)
    opts: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    if all_port_ids:
        for pid, name, value, version in session.execute(
            select(ExtraDhcpOpt.port_id, ExtraDhcpOpt.opt_name, ExtraDhcpOpt.opt_value, ExtraDhcpOpt.ip_version)
            .where(ExtraDhcpOpt.port_id.in_(all_port_ids))
            .order_by(ExtraDhcpOpt.opt_name)
        ):
            opts[pid].append((name, value, version))
    return {
        net: [(DhcpPort(p.id, p.mac_address, p.device_owner, ips.get(p.id, ()), tuple(opts.get(p.id, [])),
                        p.revision_number, p.dns_name or ""), p.device_id) for p in rows]
        for net, rows in ports_by_net.items()
    }  # fmt: skip


def served_networks(session: Session, host: str) -> list[str]:
    """The networks scheduled to ``host``'s DHCP agent."""
    return sorted(session.scalars(
        select(NetworkDhcpAgentBinding.network_id)
        .join(Agent, Agent.id == NetworkDhcpAgentBinding.dhcp_agent_id)
        .where(Agent.host == host)
    ))  # fmt: skip


def dhcp_entries(session: Session, network_ids: list[str], port_ids: list[str]) -> list[NetworkDhcpPort]:
    """The DHCP entries of ``port_ids`` that sit on ``network_ids`` (what a port's change is to
    the DHCP agent serving its network: ``get_desired_parts``)."""
    if not network_ids or not port_ids:
        return []
    entries = _port_entries(session, Port.id.in_(port_ids) & Port.network_id.in_(network_ids))
    return [NetworkDhcpPort(net, e) for net in sorted(entries) for e, _ in sorted(entries[net], key=lambda x: x[0].port_id)]
