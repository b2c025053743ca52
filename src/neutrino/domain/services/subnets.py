"""Subnets: CIDR, gateway and pools validated by the pure IPAM rules, then stored.

Adding a SLAAC/stateless subnet gives every existing non-router port on the network its
EUI-64 address, and deleting a subnet removes such automatic addresses, as Neutron does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.ipam import addresses, pools
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.ml2 import network_mtu
from neutrino.domain.rbac import access
from neutrino.domain.models import (
    AllocationPool,
    DNSNameServer,
    HostRoute,
    IPAllocation,
    Network,
    Port,
    Subnet,
)
from neutrino.domain.services import common, networks, subnet_allocation, subnet_gateway, subnet_service_types
from neutrino.domain.config import DomainConfig
from neutrino.domain.scheduling import schedule_network

ROUTER_OWNERS = frozenset(
    {
        "network:router_interface",
        "network:router_interface_distributed",
        "network:ha_router_replicated_interface",
        "network:router_centralized_snat",
    }
)

EXTERNAL = "router:external"  # subnet-external-network: read-only, the network's flag

COLUMNS = {
    "id": Subnet.id,
    "name": Subnet.name,
    "project_id": Subnet.project_id,
    "description": Subnet.description,
    "network_id": Subnet.network_id,
    "ip_version": Subnet.ip_version,
    "cidr": Subnet.cidr,
    "gateway_ip": Subnet.gateway_ip,
    "enable_dhcp": Subnet.enable_dhcp,
    "ipv6_ra_mode": Subnet.ipv6_ra_mode,
    "ipv6_address_mode": Subnet.ipv6_address_mode,
    "subnetpool_id": Subnet.subnetpool_id,
    "revision_number": Subnet.revision_number,
    "created_at": Subnet.created_at,
    "updated_at": Subnet.updated_at,
}


def is_auto_address(sub: Subnet) -> bool:
    return addresses.is_auto_address_subnet(sub.ip_version, sub.ipv6_address_mode, sub.ipv6_ra_mode)


def get(session: Session, ctx: Context, subnet_id: str, *, lock: bool = False) -> Subnet:
    sub = session.get(Subnet, subnet_id, with_for_update=lock or None)
    if sub is None:
        raise errors.SubnetNotFound(subnet_id=subnet_id)
    if not ctx.is_admin and sub.project_id != ctx.project_id:
        net = session.get(Network, sub.network_id)
        if net is None or not networks.visible_to(session, ctx, net):
            raise errors.SubnetNotFound(subnet_id=subnet_id)
    return sub


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[Subnet]:
    stmt = select(Subnet)
    if not ctx.is_admin:
        # subnets of the networks an RBAC policy opens to the project (shared or external; an
        # external network carries an access_as_external policy for '*'), as in Neutron
        shared_nets = select(Network.id).where(
            or_(Network.shared.is_(True), access.granted("network", Network.id, ctx.project_id, networks.VISIBLE_ACTIONS))
        )
        stmt = stmt.where(
            or_(Subnet.project_id == ctx.project_id, Subnet.network_id.in_(shared_nets))
        )
    if "shared" in q.filters:
        shared = select(Network.id).where(Network.shared.in_(q.filters["shared"]))
        stmt = stmt.where(Subnet.network_id.in_(shared))
    if EXTERNAL in q.filters:  # subnet-external-network: the network's flag
        external = select(Network.id).where(Network.router_external.in_(q.filters[EXTERNAL]))
        stmt = stmt.where(Subnet.network_id.in_(external))
    stmt = apply_filters(stmt, Subnet, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, Subnet, q, COLUMNS)
    return list(session.scalars(stmt))


def _pool_tuples(given: list[dict[str, str]] | None) -> list[tuple[str, str]] | None:
    if given is None:
        return None
    return [(p["start"], p["end"]) for p in given]


def _validate_extras(
    cfg: DomainConfig, cidr: str, ip_version: int, data: dict[str, Any], subnet_id: str | None = None
) -> None:
    if "dns_nameservers" in data:
        pools.validate_dns_nameservers(
            data["dns_nameservers"], cfg.max_dns_nameservers, ip_version=ip_version, subnet_id=subnet_id
        )
    if "host_routes" in data:
        pools.validate_host_routes(
            cidr, ip_version, data["host_routes"], cfg.max_subnet_host_routes, subnet_id=subnet_id
        )


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> Subnet:
    ctx.require_write("create_subnet")
    # FOR NO KEY UPDATE (PostgreSQL): concurrent subnet creates on one network take turns, so
    # the overlap check sees the other's subnet; port creates (key-share locks) are not blocked
    net = networks.get(session, ctx, data["network_id"], lock={"key_share": True})
    if not ctx.is_admin and net.project_id != ctx.project_id:
        raise errors.PolicyNotAuthorized(action="rule:create_subnet")
    # a cidr from a subnet pool: Neutron checks only a requested cidr, not an allocated one
    requested = data.get("cidr")
    data, pool = subnet_allocation.resolve(session, ctx, data)
    ip_version, cidr = data["ip_version"], data["cidr"]
    enable_dhcp = data.get("enable_dhcp", True)
    if requested:
        pools.validate_subnet_cidr(cidr, ip_version, enable_dhcp)
    network_mtu.check_subnets(net.id, net.mtu, [ip_version])
    ra_mode, addr_mode = data.get("ipv6_ra_mode"), data.get("ipv6_address_mode")
    if ra_mode or addr_mode:
        pools.validate_ipv6_modes(ra_mode, addr_mode, enable_dhcp, cidr, ip_version=ip_version)
    others = list(session.scalars(select(Subnet.cidr).where(Subnet.network_id == net.id)))
    clash = pools.overlapping_cidr(cidr, others)
    if clash is not None:
        raise errors.InvalidInput(
            error_message=f"Requested subnet with cidr: {cidr} for network: {net.id} "
            f"overlaps with another subnet"
        )
    subnet_allocation.check_network_affinity(session, net.id, ip_version, pool)
    gateway = data["gateway_ip"] if "gateway_ip" in data else pools.default_gateway(cidr)
    if gateway is not None:
        pools.validate_gateway(cidr, gateway)
    given_pools = _pool_tuples(data.get("allocation_pools"))
    if given_pools is not None:
        pools.validate_pools(cidr, given_pools, gateway)
        pool_list = given_pools
    else:
        pool_list = pools.generate_pools(cidr, gateway)
    _validate_extras(cfg, cidr, ip_version, data)
    common.enforce_quota(session, cfg, data["project_id"], "subnet", Subnet)

    sub = Subnet(
        project_id=data["project_id"],
        network_id=net.id,
        name=data.get("name", ""),
        description=data.get("description", ""),
        ip_version=ip_version,
        cidr=cidr,
        gateway_ip=gateway,
        enable_dhcp=enable_dhcp,
        ipv6_ra_mode=ra_mode,
        ipv6_address_mode=addr_mode,
        subnetpool_id=data.get("subnetpool_id"),
    )
    sub.allocation_pools = [
        AllocationPool(position=i, first_ip=a, last_ip=b) for i, (a, b) in enumerate(pool_list)
    ]
    _set_dns(sub, data.get("dns_nameservers", []))
    _set_routes(sub, data.get("host_routes", []))
    session.add(sub)
    session.flush()
    subnet_service_types.replace(session, sub.id, data.get("service_types"))
    if is_auto_address(sub):
        _add_auto_addresses(session, sub)
    net.bump_revision()
    session.flush()
    if sub.enable_dhcp and cfg.network_auto_schedule:
        _schedule_dhcp(session, cfg, net.id)
    return sub


def _schedule_dhcp(session: Session, cfg: DomainConfig, network_id: str) -> None:
    """A network that now has DHCP gets its DHCP agents at once (no wait for a report)."""
    schedule_network(session, cfg, network_id)


def _set_dns(sub: Subnet, servers: list[str]) -> None:
    sub.dns_nameservers = [DNSNameServer(address=a, position=i) for i, a in enumerate(servers)]


def _set_routes(sub: Subnet, routes: list[dict[str, str]]) -> None:
    sub.host_routes = [
        HostRoute(destination=r["destination"], nexthop=r["nexthop"], position=i)
        for i, r in enumerate(routes)
    ]


def _add_auto_addresses(session: Session, sub: Subnet) -> None:
    ports = session.scalars(
        select(Port).where(Port.network_id == sub.network_id, Port.device_owner.notin_(ROUTER_OWNERS))
    )
    for port in ports:
        if port.device_owner == "network:router_gateway":
            continue
        port.fixed_ips.append(
            IPAllocation(
                subnet_id=sub.id,
                ip_address=addresses.eui64_address(sub.cidr, port.mac_address),
                network_id=sub.network_id,
                position=len(port.fixed_ips),
            )
        )
        port.bump_revision()


def update(
    session: Session, ctx: Context, cfg: DomainConfig, subnet_id: str, data: dict[str, Any],
    if_match: int | None = None,
) -> Subnet:
    sub = get(session, ctx, subnet_id)
    ctx.require_write("update_subnet")
    common.ensure_owner_or_admin(ctx, sub.project_id, "update_subnet")
    common.check_revision(sub, if_match)
    gateway = data["gateway_ip"] if "gateway_ip" in data else sub.gateway_ip
    if "gateway_ip" in data and gateway is not None:
        pools.validate_gateway(sub.cidr, gateway)
    if "allocation_pools" in data:
        new_pools = _pool_tuples(data["allocation_pools"]) or []
        pools.validate_pools(sub.cidr, new_pools, gateway)
    else:
        new_pools = None
        current = [(p.first_ip, p.last_ip) for p in sub.allocation_pools]
        if "gateway_ip" in data and gateway is not None:
            pools.validate_pools(sub.cidr, current, gateway)
    if "gateway_ip" in data and gateway != sub.gateway_ip:
        subnet_gateway.ensure_gateway_free(session, sub)
    _validate_extras(cfg, sub.cidr, sub.ip_version, data, sub.id)
    if "enable_dhcp" in data and data["enable_dhcp"] is False and sub.ip_version == 6 and (
        sub.ipv6_address_mode or sub.ipv6_ra_mode
    ):
        raise errors.InvalidInput(
            error_message="ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False"
        )
    dhcp_turned_on = data.get("enable_dhcp") is True and not sub.enable_dhcp
    changed = common.apply_updates(sub, data, ("name", "description", "enable_dhcp"))
    if dhcp_turned_on and cfg.network_auto_schedule:
        session.flush()
        _schedule_dhcp(session, cfg, sub.network_id)
    if "gateway_ip" in data and sub.gateway_ip != gateway:
        sub.gateway_ip = gateway
        changed = True
    if new_pools is not None:
        sub.allocation_pools = [
            AllocationPool(position=i, first_ip=a, last_ip=b) for i, (a, b) in enumerate(new_pools)
        ]
        changed = True
    if "dns_nameservers" in data:
        _set_dns(sub, data["dns_nameservers"])
        changed = True
    if "host_routes" in data:
        _set_routes(sub, data["host_routes"])
        changed = True
    changed |= "service_types" in data and subnet_service_types.replace(session, sub.id, data["service_types"])
    if changed:
        sub.bump_revision()
    session.flush()
    return sub


def delete(
    session: Session, ctx: Context, cfg: DomainConfig, subnet_id: str, if_match: int | None = None
) -> None:
    # locked (PostgreSQL): waits for ports being given an address on it (key-share locks), so
    # the in-use check sees them instead of the cascade silently removing their addresses
    sub = get(session, ctx, subnet_id, lock=True)
    ctx.require_write("delete_subnet")
    common.ensure_owner_or_admin(ctx, sub.project_id, "delete_subnet")
    common.check_revision(sub, if_match)
    auto = is_auto_address(sub)
    rows = session.execute(
        select(IPAllocation.port_id, Port.device_owner)
        .join(Port, Port.id == IPAllocation.port_id)
        .where(IPAllocation.subnet_id == sub.id)
    ).all()
    for _port_id, owner in rows:
        removable = owner == "network:dhcp" or (auto and owner not in ROUTER_OWNERS)
        if not removable:
            raise errors.SubnetInUse(subnet_id=sub.id)
    port_ids = {r[0] for r in rows}
    session.execute(sql_delete(IPAllocation).where(IPAllocation.subnet_id == sub.id))
    for port in session.scalars(select(Port).where(Port.id.in_(port_ids))) if port_ids else []:
        port.bump_revision()
    common.delete_tags(session, sub.id)
    net = session.get(Network, sub.network_id)
    session.delete(sub)
    if net is not None:
        net.bump_revision()
    session.flush()


def _details(session: Session, ids: list[str]) -> dict[str, dict[str, list[Any]]]:
    """Pools, DNS servers and routes of many subnets, three queries per 500 subnets."""
    out: dict[str, dict[str, list[Any]]] = {
        i: {"pools": [], "dns": [], "routes": []} for i in ids
    }
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for sid, first, last in session.execute(
            select(AllocationPool.subnet_id, AllocationPool.first_ip, AllocationPool.last_ip)
            .where(AllocationPool.subnet_id.in_(chunk))
            .order_by(AllocationPool.subnet_id, AllocationPool.position)
        ):
            out[sid]["pools"].append({"start": first, "end": last})
        for sid, address in session.execute(
            select(DNSNameServer.subnet_id, DNSNameServer.address)
            .where(DNSNameServer.subnet_id.in_(chunk))
            .order_by(DNSNameServer.subnet_id, DNSNameServer.position)
        ):
            out[sid]["dns"].append(address)
        for sid, dest, hop in session.execute(
            select(HostRoute.subnet_id, HostRoute.destination, HostRoute.nexthop)
            .where(HostRoute.subnet_id.in_(chunk))
            .order_by(HostRoute.subnet_id, HostRoute.position)
        ):
            out[sid]["routes"].append({"destination": dest, "nexthop": hop})
    return out


def _external_networks(session: Session, network_ids: set[str]) -> set[str]:
    """Which of these networks are external (a subnet's read-only ``router:external``)."""
    found: set[str] = set()
    ordered = sorted(network_ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(session.scalars(
            select(Network.id).where(Network.id.in_(chunk), Network.router_external.is_(True))
        ))
    return found


def render(session: Session, cfg: DomainConfig, subs: list[Subnet], fresh: bool = False) -> list[dict[str, Any]]:
    ids = [s.id for s in subs]
    tags = {} if fresh else common.tags_by_resource(session, ids)
    details = _details(session, ids)
    external = _external_networks(session, {s.network_id for s in subs})
    typed = subnet_service_types.by_subnet(session, ids)
    out = []
    for s in subs:
        extra = details[s.id]
        d = {
            "id": s.id,
            "name": s.name,
            "network_id": s.network_id,
            "ip_version": s.ip_version,
            "cidr": s.cidr,
            "gateway_ip": s.gateway_ip,
            "allocation_pools": extra["pools"],
            "dns_nameservers": extra["dns"],
            "host_routes": extra["routes"],
            "enable_dhcp": s.enable_dhcp,
            "ipv6_ra_mode": s.ipv6_ra_mode,
            "ipv6_address_mode": s.ipv6_address_mode,
            "subnetpool_id": s.subnetpool_id,
            "segment_id": None,
            "service_types": typed.get(s.id, []),
            EXTERNAL: s.network_id in external,
        }
        d.update(common.standard_fields(s, tags.get(s.id, [])))
        out.append(d)
    return out
