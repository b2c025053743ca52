"""A subnet's cidr from a subnet pool (``subnet_allocation``, ``default-subnetpools``).

A subnet create names its cidr, or a pool (``subnetpool_id``, or ``use_default_subnetpool``
for the default pool of its IP version) and optionally a ``prefixlen``, a ``cidr`` inside the
pool, or a ``gateway_ip`` whose /prefixlen it wants. ``resolve`` turns such a request into a
plain one with a cidr, in Neutron's order of checks (docs/neutron-behaviour.md, "Subnet pools
and address scopes"); the pool row is locked, so concurrent allocations from one pool take
turns and each sees the others' subnets. ``check_network_affinity`` then keeps a network's
subnets of one IP version in one pool, or in pools of one address scope.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.ipam import subnet_pools as prefixes
from neutrino.domain.models import Subnet, SubnetPool
from neutrino.domain.services import address_scopes, subnet_pools


def _bad(msg: str) -> errors.BadRequest:
    return errors.BadRequest(resource="subnets", msg=msg)


def _pool_of_request(session: Session, ctx: Context, data: dict[str, Any]) -> SubnetPool | None:
    pool_id = data.get("subnetpool_id")
    use_default = data.get("use_default_subnetpool", False)
    if pool_id and use_default:
        raise _bad("subnetpool_id and use_default_subnetpool cannot both be specified")
    if pool_id:
        return subnet_pools.get(session, ctx, pool_id, lock=True)
    if not use_default:
        return None
    cidr = data.get("cidr")
    version = prefixes.network(cidr).version if cidr else data["ip_version"]
    pool = subnet_pools.default_pool(session, ctx, version)
    if pool is None:
        raise _bad(f"No default subnetpool found for IPv{version}")
    return subnet_pools.get(session, ctx, pool.id, lock=True)


def resolve(session: Session, ctx: Context, data: dict[str, Any]) -> tuple[dict[str, Any], SubnetPool | None]:
    """The request with its cidr (and ``subnetpool_id``) filled in, and the pool it came from.
    A request without a pool is returned as it is."""
    cidr, prefixlen = data.get("cidr"), data.get("prefixlen")
    if cidr and prefixlen is not None:
        raise _bad("cidr and prefixlen must not be supplied together")
    if (data.get("subnetpool_id") or data.get("use_default_subnetpool")) and not cidr and data.get("allocation_pools"):
        raise _bad("allocation_pools allowed only for specific subnet requests.")
    pool = _pool_of_request(session, ctx, data)
    if pool is None:
        if not cidr:
            raise _bad("a subnetpool must be specified in the absence of a cidr")
        return data, None
    if data["ip_version"] != pool.ip_version:
        raise _bad(f"Cannot allocate IPv{data['ip_version']} subnet from IPv{pool.ip_version} subnet pool")
    gateway = data.get("gateway_ip")
    if not cidr and gateway:
        # a gateway without a cidr asks for the /prefixlen around it
        cidr = str(prefixes.network(f"{gateway}/{prefixlen or pool.default_prefixlen}"))
    wanted = prefixes.network(cidr).prefixlen if cidr else (pool.default_prefixlen if prefixlen is None else prefixlen)
    prefixes.check_prefixlen(wanted, pool.min_prefixlen, pool.max_prefixlen)
    # Neutron counts the addresses the pool's owner holds in it against default_quota
    prefixes.check_quota(pool.ip_version, pool.default_quota, subnet_pools.allocated_cidrs(
        session, pool.id, pool.project_id), wanted)
    taken = subnet_pools.allocated_cidrs(session, pool.id)
    if cidr:
        cidr = prefixes.allocate_specific(pool.cidrs, taken, cidr)
    else:
        cidr = prefixes.allocate_any(pool.cidrs, taken, wanted)
    return {**data, "cidr": cidr, "subnetpool_id": pool.id}, pool


def check_network_affinity(session: Session, network_id: str, ip_version: int, pool: SubnetPool | None) -> None:
    """Subnets of one IP version on a network come from one pool, or from pools of one
    address scope; a subnet without a pool may not join pooled ones of its version."""
    scope = address_scopes.network_scope(session, network_id, ip_version)
    if scope is not None and pool is not None and pool.address_scope_id != scope:
        raise errors.NetworkAddressScopeAffinityError()
    for pool_id, version in session.execute(
        select(Subnet.subnetpool_id, Subnet.ip_version).where(Subnet.network_id == network_id)
    ):
        if pool is not None:
            if pool_id != pool.id and version == pool.ip_version and scope is None:
                raise errors.NetworkSubnetPoolAffinityError()
        elif pool_id and version == ip_version:
            raise errors.NetworkSubnetPoolAffinityError()
