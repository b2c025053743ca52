"""Subnet pools: CRUD, prefix add/remove, and their address scope association.

The prefix arithmetic is pure (``domain/ipam/subnet_pools.py``); this module reads and writes
rows and applies Neutron's rules around them (docs/neutron-behaviour.md, "Subnet pools and
address scopes"):

* any member creates a pool; only an admin makes it ``shared`` or ``is_default`` (403), and
  there is one default pool per IP version; others' pools are invisible (404) unless an RBAC
  policy shares them (rbac-subnetpool: ``shared`` at creation is the ``*`` policy, and the
  column caches it; the API's ``shared`` also counts a policy for the caller's project);
* prefixes may grow on update, never shrink (400); ``remove_prefixes`` takes out space no
  subnet uses; a pool with subnets cannot be deleted (400, SubnetPoolDeleteError);
* a pool joins an address scope the caller can see (its own, or one an RBAC policy opens to
  it), of its IP version, whose other pools it does not overlap (409); a pool in a scope the
  caller does not own cannot be changed by the caller (400).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.engine import connection_of
from neutrino.domain.config import DomainConfig
from neutrino.domain.context import Context, current
from neutrino.domain.ipam import subnet_pools as prefixes
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import Subnet, SubnetPool, SubnetPoolPrefix
from neutrino.domain.rbac import access
from neutrino.domain.services import address_scopes, common

COLUMNS = {
    "id": SubnetPool.id,
    "name": SubnetPool.name,
    "project_id": SubnetPool.project_id,
    "description": SubnetPool.description,
    "ip_version": SubnetPool.ip_version,
    "default_prefixlen": SubnetPool.default_prefixlen,
    "min_prefixlen": SubnetPool.min_prefixlen,
    "max_prefixlen": SubnetPool.max_prefixlen,
    "default_quota": SubnetPool.default_quota,
    "is_default": SubnetPool.is_default,
    "shared": SubnetPool.shared,
    "address_scope_id": SubnetPool.address_scope_id,
    "revision_number": SubnetPool.revision_number,
    "created_at": SubnetPool.created_at,
    "updated_at": SubnetPool.updated_at,
}

SHAPE_KEYS = ("min_prefixlen", "max_prefixlen", "default_prefixlen")


def get(session: Session, ctx: Context, pool_id: str, *, lock: bool = False) -> SubnetPool:
    """The pool if the caller may see it; ``lock`` (PostgreSQL: FOR UPDATE) makes concurrent
    allocations from one pool take turns, so each sees the others' subnets."""
    pool = session.get(SubnetPool, pool_id, with_for_update=lock or None)
    if pool is None or not (
        ctx.owns(pool.project_id) or pool.shared or access.has_grant(session, "subnetpool", pool.id, ctx.project_id)
    ):
        raise errors.SubnetPoolNotFound(subnetpool_id=pool_id)
    return pool


def visible(ctx: Context) -> Any:
    """The SQL condition of the pools the caller may see."""
    return or_(
        SubnetPool.project_id == ctx.project_id,
        SubnetPool.shared.is_(True),
        access.granted("subnetpool", SubnetPool.id, ctx.project_id),
    )


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[SubnetPool]:
    stmt = select(SubnetPool)
    if not ctx.is_admin:
        stmt = stmt.where(visible(ctx))
    if "shared" in q.filters:
        stmt = stmt.where(access.shared_filter("subnetpool", SubnetPool.id, SubnetPool.shared, ctx.project_id, q.filters["shared"]))
        q = replace(q, filters={k: v for k, v in q.filters.items() if k != "shared"})
    stmt = apply_filters(stmt, SubnetPool, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, SubnetPool, q, COLUMNS)
    return list(session.scalars(stmt))


def default_pool(session: Session, ctx: Context | None, ip_version: int) -> SubnetPool | None:
    """The default pool of this IP version (among those ``ctx`` sees; all for None)."""
    stmt = select(SubnetPool).where(SubnetPool.is_default.is_(True), SubnetPool.ip_version == ip_version)
    if ctx is not None and not ctx.is_admin:
        stmt = stmt.where(visible(ctx))
    return session.scalars(stmt.limit(1)).first()


def allocated_cidrs(session: Session, pool_id: str, project_id: str | None = None) -> list[str]:
    stmt = select(Subnet.cidr).where(Subnet.subnetpool_id == pool_id)
    if project_id is not None:
        stmt = stmt.where(Subnet.project_id == project_id)
    return list(session.scalars(stmt))


# --- rules -----------------------------------------------------------------------------------


def _admin_only(ctx: Context, action: str, attribute: str) -> None:
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=f"(rule:{action} and rule:{action}:{attribute})")


def _check_one_default(session: Session, ip_version: int) -> None:
    if default_pool(session, None, ip_version) is not None:
        raise errors.InvalidInput(
            error_message="A default subnetpool for this IP family has already been set. "
            "Only one default may exist per IP family"
        )


def _check_scope(
    session: Session, ctx: Context, scope_id: str | None, pool_id: str | None, cidrs: list[str], ip_version: int,
    *, moved: bool = True,
) -> None:
    """May the pool (with these prefixes) be in this scope? ``moved``: it was in another one
    (Neutron also checks the networks when the scope stays, so that renaming a pool whose
    network takes subnets from two pools of one scope fails; neutrino checks them on a move)."""
    if scope_id is None:
        return
    # Neutron's is_accessible: owner, admin, or an RBAC policy for the caller or '*' (404 else)
    scope = address_scopes.get(session, ctx, scope_id)
    if scope.ip_version != ip_version:
        raise errors.IllegalSubnetPoolIpVersionAssociationToAddressScope(
            subnetpool_id=pool_id, address_scope_id=scope_id, ip_version=scope.ip_version
        )
    if pool_id is not None and moved:
        _check_networks_stay_in_one_scope(session, pool_id, ip_version)
    others = session.scalars(
        select(SubnetPoolPrefix.cidr)
        .join(SubnetPool, SubnetPool.id == SubnetPoolPrefix.subnetpool_id)
        .where(SubnetPool.address_scope_id == scope_id, SubnetPool.id != (pool_id or ""))
    )
    if prefixes.intersects(cidrs, list(others)):
        raise errors.AddressScopePrefixConflict()


def _check_networks_stay_in_one_scope(session: Session, pool_id: str, ip_version: int) -> None:
    """Re-scoping a pool must not split a network: every subnet (of this version) of the
    networks holding its subnets must come from it."""
    networks = select(Subnet.network_id).where(Subnet.subnetpool_id == pool_id)
    stray = session.scalar(
        select(Subnet.id)
        .where(Subnet.network_id.in_(networks), Subnet.ip_version == ip_version)
        .where(or_(Subnet.subnetpool_id.is_(None), Subnet.subnetpool_id != pool_id))
        .limit(1)
    )
    if stray is not None:
        raise errors.NetworkAddressScopeAffinityError()


def _set_prefixes(pool: SubnetPool, cidrs: tuple[str, ...] | list[str]) -> None:
    pool.prefixes = [SubnetPoolPrefix(cidr=c, position=i) for i, c in enumerate(cidrs)]


# --- CRUD ------------------------------------------------------------------------------------


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> SubnetPool:
    ctx.require_write("create_subnetpool")
    if data.get("shared"):
        _admin_only(ctx, "create_subnetpool", "shared")
    if data.get("is_default"):
        _admin_only(ctx, "create_subnetpool", "is_default")
    shape = prefixes.read_shape(data["prefixes"], **{k: data.get(k) for k in SHAPE_KEYS})
    if data.get("is_default"):
        _check_one_default(session, shape.ip_version)
    scope_id = data.get("address_scope_id")
    _check_scope(session, ctx, scope_id, None, list(shape.prefixes), shape.ip_version)
    common.enforce_quota(session, cfg, data["project_id"], "subnetpool", SubnetPool)
    pool = SubnetPool(
        project_id=data["project_id"],
        name=data["name"],
        description=data.get("description", ""),
        ip_version=shape.ip_version,
        min_prefixlen=shape.min_prefixlen,
        max_prefixlen=shape.max_prefixlen,
        default_prefixlen=shape.default_prefixlen,
        shared=bool(data.get("shared", False)),
        is_default=bool(data.get("is_default", False)),
        default_quota=data.get("default_quota"),
        address_scope_id=scope_id,
    )
    _set_prefixes(pool, shape.prefixes)
    session.add(pool)
    session.flush()
    if pool.shared:
        access.add_policy(session, "subnetpool", pool.id, pool.project_id, access.ACCESS_SHARED)
    return pool


def _writable(session: Session, ctx: Context, pool_id: str, action: str, *, lock: bool = False) -> SubnetPool:
    pool = get(session, ctx, pool_id, lock=lock)
    ctx.require_write(action)
    common.ensure_owner_or_admin(ctx, pool.project_id, action)
    return pool


def update(
    session: Session, ctx: Context, cfg: DomainConfig, pool_id: str, data: dict[str, Any],
    if_match: int | None = None,
) -> SubnetPool:
    pool = _writable(session, ctx, pool_id, "update_subnetpool")
    common.check_revision(pool, if_match)
    if "is_default" in data:
        _admin_only(ctx, "update_subnetpool", "is_default")
    cidrs = prefixes.grown_prefixes(pool.cidrs, data["prefixes"]) if "prefixes" in data else pool.cidrs
    shape = prefixes.read_shape(cidrs, **{k: data.get(k, getattr(pool, k)) for k in SHAPE_KEYS})
    is_default = data.get("is_default", pool.is_default)
    if is_default and not pool.is_default:
        _check_one_default(session, shape.ip_version)
    if pool.address_scope_id and not ctx.is_admin:
        scope_owner = address_scopes.get(session, ctx, pool.address_scope_id).project_id
        if scope_owner != ctx.project_id:
            raise errors.IllegalSubnetPoolUpdate(
                reason=f"subnetpool {pool.id} cannot be updated when associated with shared "
                f"address scope {pool.address_scope_id}"
            )
    scope_id = data.get("address_scope_id", pool.address_scope_id)
    _check_scope(session, ctx, scope_id, pool.id, list(shape.prefixes), shape.ip_version,
                 moved=scope_id != pool.address_scope_id)
    changed = common.apply_updates(pool, data, ("name", "description", "default_quota", "address_scope_id"))
    changed = common.apply_updates(pool, {"is_default": is_default}, ("is_default",)) or changed
    changed = common.apply_updates(pool, {k: getattr(shape, k) for k in SHAPE_KEYS}, SHAPE_KEYS) or changed
    if list(shape.prefixes) != pool.cidrs:
        _set_prefixes(pool, shape.prefixes)
        changed = True
    if changed:
        pool.bump_revision()
    session.flush()
    return pool


def delete(session: Session, ctx: Context, cfg: DomainConfig, pool_id: str, if_match: int | None = None) -> None:
    # locked: an allocation from the pool running now commits its subnet first, and is seen
    pool = _writable(session, ctx, pool_id, "delete_subnetpool", lock=True)
    common.check_revision(pool, if_match)
    if session.scalar(select(Subnet.id).where(Subnet.subnetpool_id == pool.id).limit(1)) is not None:
        raise errors.SubnetPoolDeleteError(reason="Subnet pool has existing allocations")
    common.delete_tags(session, pool.id)
    access.delete_policies_of(session, "subnetpool", pool.id)
    session.delete(pool)
    session.flush()


# --- subnetpool-prefix-ops -------------------------------------------------------------------


def add_prefixes(session: Session, ctx: Context, cfg: DomainConfig, pool_id: str, added: list[str]) -> list[str]:
    """``PUT .../add_prefixes``: an update whose new prefix list is the old plus these."""
    pool = _writable(session, ctx, pool_id, "add_prefixes")
    if added:
        pool = update(session, ctx, cfg, pool_id, {"prefixes": [*pool.cidrs, *added]})
    return pool.cidrs


def remove_prefixes(session: Session, ctx: Context, cfg: DomainConfig, pool_id: str, removed: list[str]) -> list[str]:
    """``PUT .../remove_prefixes``: take out space no subnet of the pool uses."""
    pool = _writable(session, ctx, pool_id, "remove_prefixes", lock=True)
    if not removed:
        return pool.cidrs
    remaining = prefixes.shrunk_prefixes(pool.cidrs, removed, allocated_cidrs(session, pool.id))
    if remaining != pool.cidrs:
        _set_prefixes(pool, remaining)
        pool.bump_revision()
        session.flush()
    return pool.cidrs


def _shared_to_caller(session: Session, ids: list[str]) -> set[str]:
    """Which of these pools a policy shares with the requesting project itself."""
    ctx = current()
    if ctx is None or not ctx.project_id or not ids:
        return set()
    return access.shared_with(connection_of(session), "subnetpool", ids, ctx.project_id)


def render(session: Session, cfg: DomainConfig, pools: list[SubnetPool], fresh: bool = False) -> list[dict[str, Any]]:
    """Neutron's shape: the prefix lengths are strings."""
    tags = {} if fresh else common.tags_by_resource(session, [p.id for p in pools])
    shared_to_caller = _shared_to_caller(session, [p.id for p in pools if not p.shared])
    out = []
    for p in pools:
        d = {
            "id": p.id,
            "name": p.name,
            "ip_version": p.ip_version,
            "prefixes": p.cidrs,
            "default_prefixlen": str(p.default_prefixlen),
            "min_prefixlen": str(p.min_prefixlen),
            "max_prefixlen": str(p.max_prefixlen),
            "default_quota": p.default_quota,
            "is_default": p.is_default,
            "shared": bool(p.shared) or p.id in shared_to_caller,
            "address_scope_id": p.address_scope_id,
        }
        d.update(common.standard_fields(p, tags.get(p.id, [])))
        out.append(d)
    return out
