"""The routers scheduled to a host's L3 agent: interfaces, gateway, routes, floating IPs, port
forwardings and conntrack helpers."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.contract.desired import (
    ConntrackHelperState,
    FloatingIPState,
    PortForwardingState,
    RouterGateway,
    RouterInterface,
    RouterState,
)
from neutrino.contract.desired import FixedIP
from neutrino.domain.models import (
    Agent,
    ConntrackHelper,
    FloatingIP,
    Port,
    PortForwarding,
    Router,
    RouterL3AgentBinding,
    RouterPort,
    RouterRoute,
    Subnet,
    SubnetPool,
)
from neutrino.domain.projection.ha import ha_of
from neutrino.domain.projection.lookups import segments_of, fixed_ips_of, INTERFACE_OWNERS


def _scopes(session: Session, ips: dict[str, tuple[FixedIP, ...]]) -> dict[str, tuple[str | None, str | None]]:
    """Port id -> (IPv4, IPv6) address scope of its subnets (the scope of their pools)."""
    subnet_ids = sorted({f.subnet_id for fixed in ips.values() for f in fixed})
    by_subnet: dict[str, tuple[int, str]] = {}
    for start in range(0, len(subnet_ids), 500):
        for sid, version, scope in session.execute(
            select(Subnet.id, SubnetPool.ip_version, SubnetPool.address_scope_id)
            .join(SubnetPool, SubnetPool.id == Subnet.subnetpool_id)
            .where(Subnet.id.in_(subnet_ids[start : start + 500]), SubnetPool.address_scope_id.is_not(None))
        ):
            by_subnet[sid] = (version, scope)
    out: dict[str, tuple[str | None, str | None]] = {}
    for port_id, fixed in ips.items():
        found = dict(by_subnet[f.subnet_id] for f in fixed if f.subnet_id in by_subnet)
        out[port_id] = (found.get(4), found.get(6))
    return out


def routers_of(session: Session, host: str) -> list[RouterState]:
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
    ips = fixed_ips_of(session, port_ids)
    segments = segments_of(session, [row.network_id for row in iface_rows] + [p.network_id for p in gw_ports.values()])
    scopes = _scopes(session, ips)
    interfaces: dict[str, list[RouterInterface]] = defaultdict(list)
    for row in iface_rows:
        interfaces[row.router_id].append(
            RouterInterface(row.id, row.network_id, row.mac_address, ips.get(row.id, ()), segments.get(row.network_id),
                            *scopes.get(row.id, (None, None)))
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
    forwardings = _port_forwardings(session, ids)
    helpers: dict[str, list[ConntrackHelperState]] = defaultdict(list)
    for h in session.scalars(select(ConntrackHelper).where(ConntrackHelper.router_id.in_(ids))
                             .order_by(ConntrackHelper.protocol, ConntrackHelper.port, ConntrackHelper.helper)):  # fmt: skip
        helpers[h.router_id].append(ConntrackHelperState(h.protocol, h.port, h.helper))
    ha = ha_of(session, host, ids)
    out = []
    for r in routers:
        gw = gw_ports.get(r.gw_port_id or "")
        gateway = (
            RouterGateway(gw.id, gw.network_id, gw.mac_address, ips.get(gw.id, ()), segments.get(gw.network_id), r.enable_snat,
                          *scopes.get(gw.id, (None, None)))
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
                port_forwardings=tuple(forwardings.get(r.id, [])),
                conntrack_helpers=tuple(helpers.get(r.id, [])),
                ha=ha.get(r.id),
            )
        )
    return out


def _port_forwardings(session: Session, router_ids: list[str]) -> dict[str, list[PortForwardingState]]:
    """The port forwardings of the routers' floating IPs, in a stable order."""
    out: dict[str, list[PortForwardingState]] = defaultdict(list)
    rows = session.execute(
        select(FloatingIP.router_id, FloatingIP.floating_ip_address, PortForwarding)
        .join(FloatingIP, FloatingIP.id == PortForwarding.floatingip_id)
        .where(FloatingIP.router_id.in_(router_ids))
        .order_by(FloatingIP.floating_ip_address, PortForwarding.protocol, PortForwarding.external_port_start)
    ).all()
    for router_id, address, pf in rows:
        out[router_id].append(
            PortForwardingState(
                pf.floatingip_id, address, pf.protocol, pf.external_port_start, pf.external_port_end,
                pf.internal_ip_address, pf.internal_port_start, pf.internal_port_end,
            )
        )
    return out
