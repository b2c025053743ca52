"""network-ip-availability: per network and per subnet, how many addresses exist and are used.

Counted as Neutron counts them: a subnet's total is the size of its allocation pools (the whole
CIDR when it has none), used is the number of its IP allocations (every port's address, DHCP
and router ports included); a network sums its subnets and is listed even without any. Admin
only (Neutron's default policy): a project lists nothing and shows nothing (404).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import AllocationPool, IPAllocation, Network, Subnet

FILTERS = {
    "network_id": Network.id,
    "network_name": Network.name,
    "project_id": Network.project_id,
    "tenant_id": Network.project_id,
    "ip_version": Subnet.ip_version,
}


def pool_size(first_ip: str, last_ip: str) -> int:
    return int(ipaddress.ip_address(last_ip)) - int(ipaddress.ip_address(first_ip)) + 1


def list_(session: Session, ctx: Context, filters: dict[str, list[Any]]) -> list[dict[str, Any]]:
    if not ctx.is_admin:
        return []
    nets = select(Network.id, Network.name, Network.project_id, Subnet.id, Subnet.name, Subnet.cidr,
                  Subnet.ip_version).outerjoin(Subnet, Subnet.network_id == Network.id)
    for key, values in filters.items():
        if key in FILTERS and values:
            nets = nets.where(FILTERS[key].in_(values))
    rows = list(session.execute(nets.order_by(Network.id, Subnet.created_at, Subnet.id)))
    subnet_ids = [r[3] for r in rows if r[3] is not None]
    used: dict[str, int] = {}
    pools: dict[str, int] = defaultdict(int)
    has_pools: set[str] = set()
    for start in range(0, len(subnet_ids), 500):
        chunk = subnet_ids[start : start + 500]
        counts = session.execute(
            select(IPAllocation.subnet_id, func.count()).where(IPAllocation.subnet_id.in_(chunk))
            .group_by(IPAllocation.subnet_id)
        )
        used.update((sid, int(n)) for sid, n in counts)
        for sid, first, last in session.execute(
            select(AllocationPool.subnet_id, AllocationPool.first_ip, AllocationPool.last_ip)
            .where(AllocationPool.subnet_id.in_(chunk))
        ):
            pools[sid] += pool_size(first, last)
            has_pools.add(sid)
    out: dict[str, dict[str, Any]] = {}
    for net_id, net_name, project, sub_id, sub_name, cidr, version in rows:
        net = out.setdefault(net_id, {
            "network_id": net_id, "network_name": net_name, "project_id": project, "tenant_id": project,
            "subnet_ip_availability": [], "used_ips": 0, "total_ips": 0,
        })
        if sub_id is None:
            continue
        total = pools[sub_id] if sub_id in has_pools else ipaddress.ip_network(cidr).num_addresses
        sub = {"subnet_id": sub_id, "subnet_name": sub_name, "cidr": cidr, "ip_version": version,
               "used_ips": used.get(sub_id, 0), "total_ips": total}
        net["subnet_ip_availability"].append(sub)
        net["used_ips"] += sub["used_ips"]
        net["total_ips"] += total
    return list(out.values())


def show(session: Session, ctx: Context, network_id: str) -> dict[str, Any]:
    found = list_(session, ctx, {"network_id": [network_id]})
    if not found:
        raise errors.NetworkNotFound(net_id=network_id)
    return found[0]
