"""DB-backed address allocation for a port: Neutron's rules over the pure pool functions.

Reads the subnet's allocated addresses, picks with ``addresses.pick_address`` and inserts. Two
concurrent transactions that pick the same address cannot both commit (primary key on
(subnet_id, ip_address)); the loser is retried by ``run_in_transaction``.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.by_ids import ByIds
from neutrino.domain.ipam import addresses, pools, service_types
from neutrino.domain.models import AllocationPool, IPAllocation, Subnet, SubnetServiceType

PREFER_LOWEST_OWNERS = frozenset({"network:dhcp", "network:distributed"})
ROUTER_OWNERS = frozenset(
    {
        "network:router_interface",
        "network:router_interface_distributed",
        "network:ha_router_replicated_interface",
        "network:router_centralized_snat",
        "network:router_gateway",
    }
)

_rng = random.SystemRandom()


@dataclass(frozen=True)
class Request:
    """One entry of a port's fixed_ips as the client gave it (either part may be absent)."""

    subnet_id: str | None = None
    ip_address: str | None = None


@dataclass(frozen=True)
class SubnetInfo:
    """What allocation needs to know of a subnet (plain data, loaded in one query)."""

    id: str
    cidr: str
    ip_version: int
    ipv6_address_mode: str | None
    ipv6_ra_mode: str | None
    pools: tuple[tuple[str, str], ...]
    service_types: tuple[str, ...] = ()
    enable_dhcp: bool = True


_SUBNETS_WITH_POOLS = (
    select(
        Subnet.id,
        Subnet.cidr,
        Subnet.ip_version,
        Subnet.ipv6_address_mode,
        Subnet.ipv6_ra_mode,
        Subnet.enable_dhcp,
        AllocationPool.first_ip,
        AllocationPool.last_ip,
    )
    .outerjoin(AllocationPool, AllocationPool.subnet_id == Subnet.id)
    .where(Subnet.network_id == bindparam("network_id"))
    .order_by(Subnet.created_at, Subnet.id, AllocationPool.position)
)
_SERVICE_TYPES = select(SubnetServiceType.subnet_id, SubnetServiceType.service_type).where(
    SubnetServiceType.subnet_id.in_(bindparam("ids", expanding=True))
)
# on the driver's cursor (db/by_ids.py): a subnet's addresses are hundreds of rows at each
# create, and SQLAlchemy's result rows cost more than the query
_ALLOCATED = ByIds(lambda cond: select(IPAllocation.ip_address).where(cond(IPAllocation.subnet_id)))
_TAKEN = select(IPAllocation.port_id).where(
    IPAllocation.subnet_id == bindparam("subnet_id"), IPAllocation.ip_address == bindparam("ip")
)


def load_subnets(session: Session, network_id: str) -> list[SubnetInfo]:
    """The network's subnets in creation order, each with its pools in order."""
    found: dict[str, tuple[tuple[object, ...], list[tuple[str, str]]]] = {}
    dhcp: dict[str, bool] = {}
    conn = session.connection()
    for row in conn.execute(_SUBNETS_WITH_POOLS, {"network_id": network_id}):
        head, pool_list = found.setdefault(row[0], (tuple(row[:5]), []))
        dhcp[row[0]] = bool(row[5])
        if row[6] is not None:
            pool_list.append((row[6], row[7]))
    types: dict[str, list[str]] = {}
    if found:
        for sid, kind in conn.execute(_SERVICE_TYPES, {"ids": list(found)}):
            types.setdefault(sid, []).append(kind)
    return [
        SubnetInfo(*head, tuple(pool_list), tuple(sorted(types.get(sid, ()))), dhcp[sid])  # type: ignore[arg-type]
        for sid, (head, pool_list) in found.items()
    ]


def _is_auto(sub: SubnetInfo) -> bool:
    return addresses.is_auto_address_subnet(sub.ip_version, sub.ipv6_address_mode, sub.ipv6_ra_mode)


def _allocated(session: Session, subnet_id: str) -> set[str]:
    return {r[0] for r in _ALLOCATED.rows(session.connection(), [subnet_id])}


def _pick(session: Session, sub: SubnetInfo, owner: str, chosen: frozenset[str] = frozenset()) -> str | None:
    """A free address of ``sub``; ``chosen``: addresses this request already took (not yet written)."""
    return addresses.pick_address(
        list(sub.pools), _allocated(session, sub.id) | chosen, prefer_lowest=owner in PREFER_LOWEST_OWNERS, rng=_rng
    )


def _taken(session: Session, subnet_id: str, ip: str) -> bool:
    return session.connection().execute(_TAKEN, {"subnet_id": subnet_id, "ip": ip}).first() is not None


def _subnet_for_ip(subnets: list[SubnetInfo], ip: str) -> SubnetInfo | None:
    addr = ipaddress.ip_address(ip)
    for sub in subnets:
        if addr in ipaddress.ip_network(sub.cidr):
            return sub
    return None


def allocate(
    session: Session,
    *,
    network_id: str,
    subnets: list[SubnetInfo],
    requested: list[Request] | None,
    mac: str,
    device_owner: str,
    keep: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> list[tuple[str, str]]:
    """Returns (subnet_id, ip) pairs for a port. ``requested`` None means "choose for me".

    ``keep`` are addresses the port already holds (on update): asking for them again is not a
    conflict with itself.
    """
    if requested == []:
        return []
    subnets = service_types.eligible(subnets, device_owner, network_id)
    if requested is None:
        return _allocate_default(session, network_id, subnets, mac, device_owner)
    by_id = {s.id: s for s in subnets}
    result: list[tuple[str, str]] = []
    for req in requested:
        if req.subnet_id is not None:
            sub = by_id.get(req.subnet_id)
            if sub is None:
                raise errors.InvalidInput(
                    error_message=f"Failed to create port on network {network_id}, because "
                    f"fixed_ips included invalid subnet {req.subnet_id}"
                )
            if req.ip_address is not None and not pools.ip_usable_in_subnet(
                req.ip_address, sub.cidr, device_owner
            ):
                raise errors.InvalidIpForSubnet(ip_address=req.ip_address)
        else:
            assert req.ip_address is not None
            sub = _subnet_for_ip(subnets, req.ip_address)
            if sub is None or not pools.ip_usable_in_subnet(req.ip_address, sub.cidr, device_owner):
                raise errors.InvalidIpForNetwork(ip_address=req.ip_address)
        auto = _is_auto(sub) and device_owner not in ROUTER_OWNERS
        if req.ip_address is not None:
            ip = str(ipaddress.ip_address(req.ip_address))
            if auto and ip != addresses.eui64_address(sub.cidr, mac):
                raise errors.AllocationOnAutoAddressSubnet(ip=ip, subnet_id=sub.id)
            if (sub.id, ip) not in keep and _taken(session, sub.id, ip):
                raise errors.IpAddressAlreadyAllocated(ip=ip, subnet_id=sub.id)
        elif auto:
            ip = addresses.eui64_address(sub.cidr, mac)
        else:
            held = [k for k in keep if k[0] == sub.id and k not in result]
            if held:
                ip = held[0][1]
            else:
                picked = _pick(session, sub, device_owner, frozenset(i for s_id, i in result if s_id == sub.id))
                if picked is None:
                    raise errors.IpAddressGenerationFailure(subnet_id=sub.id)
                ip = picked
        if (sub.id, ip) in result:
            raise errors.IpAddressAlreadyAllocated(ip=ip, subnet_id=sub.id)
        result.append((sub.id, ip))
    return result


def _allocate_default(
    session: Session, network_id: str, subnets: list[SubnetInfo], mac: str, device_owner: str
) -> list[tuple[str, str]]:
    """One IPv4, one stateful IPv6, and an EUI-64 address on every SLAAC subnet."""
    result: list[tuple[str, str]] = []
    router = device_owner in ROUTER_OWNERS
    v4 = [s for s in subnets if s.ip_version == 4]
    v6_stateful = [s for s in subnets if s.ip_version == 6 and not _is_auto(s)]
    for group in (v4, v6_stateful):
        if not group:
            continue
        for sub in group:
            picked = _pick(session, sub, device_owner)
            if picked is not None:
                result.append((sub.id, picked))
                break
        else:
            if len(group) == 1:
                raise errors.IpAddressGenerationFailure(subnet_id=group[0].id)
            raise errors.IpAddressGenerationFailure(
                f"No more IP addresses available on network {network_id}."
            )
    if not router:
        for sub in subnets:
            if sub.ip_version == 6 and _is_auto(sub):
                result.append((sub.id, addresses.eui64_address(sub.cidr, mac)))
    return result
