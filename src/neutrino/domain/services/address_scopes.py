"""Address scopes: CRUD, and the scope of a network derived from its subnets' pools.

An address scope names an address space in which addresses are unique: the subnet pools it
holds may not overlap, and (in Neutron's L3 agent) traffic between networks of one scope is
routed without NAT. A network takes, per IP version, the scope of the pool its subnets were
allocated from (``ipv4_address_scope`` / ``ipv6_address_scope``, read-only).

Policy as Neutron's defaults (docs/neutron-behaviour.md, "Subnet pools and address scopes"):
any member creates one, only an admin creates or marks one shared, a shared scope cannot be
unshared, one with pools cannot be deleted (409). Others' scopes are invisible (404) unless an
RBAC policy opens them (rbac-address-scope): ``shared`` on create or update is the ``*``
policy and the column caches it; the API's ``shared`` also counts a policy for the caller.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.config import DomainConfig
from neutrino.db.by_ids import ByIds
from neutrino.db.engine import connection_of
from neutrino.domain.context import Context, current
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import AddressScope, Subnet, SubnetPool
from neutrino.domain.rbac import access
from neutrino.domain.services.extensions import Extension

COLUMNS = {
    "id": AddressScope.id,
    "name": AddressScope.name,
    "project_id": AddressScope.project_id,
    "shared": AddressScope.shared,
    "ip_version": AddressScope.ip_version,
}


def get(session: Session, ctx: Context, scope_id: str) -> AddressScope:
    scope = session.get(AddressScope, scope_id)
    if scope is None or not (
        ctx.owns(scope.project_id) or scope.shared or access.has_grant(session, "address_scope", scope.id, ctx.project_id)
    ):
        raise errors.AddressScopeNotFound(address_scope_id=scope_id)
    return scope


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[AddressScope]:
    stmt = select(AddressScope)
    if not ctx.is_admin:
        stmt = stmt.where(
            or_(
                AddressScope.project_id == ctx.project_id,
                AddressScope.shared.is_(True),
                access.granted("address_scope", AddressScope.id, ctx.project_id),
            )
        )
    if "shared" in q.filters:
        stmt = stmt.where(access.shared_filter("address_scope", AddressScope.id, AddressScope.shared, ctx.project_id, q.filters["shared"]))
        q = replace(q, filters={k: v for k, v in q.filters.items() if k != "shared"})
    stmt = apply_filters(stmt, AddressScope, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, AddressScope, q, COLUMNS)
    return list(session.scalars(stmt))


def _shared_by_admin_only(ctx: Context, action: str) -> None:
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=f"(rule:{action} and rule:{action}:shared)")


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> AddressScope:
    ctx.require_write("create_address_scope")
    if data.get("shared"):
        _shared_by_admin_only(ctx, "create_address_scope")
    scope = AddressScope(
        project_id=data["project_id"],
        name=data.get("name", ""),
        shared=bool(data.get("shared", False)),
        ip_version=data["ip_version"],
    )
    session.add(scope)
    session.flush()
    if scope.shared:
        access.add_policy(session, "address_scope", scope.id, scope.project_id, access.ACCESS_SHARED)
    return scope


def update(
    session: Session, ctx: Context, cfg: DomainConfig, scope_id: str, data: dict[str, Any],
    if_match: int | None = None,
) -> AddressScope:
    scope = get(session, ctx, scope_id)
    ctx.require_write("update_address_scope")
    if not ctx.owns(scope.project_id):
        raise errors.PolicyNotAuthorized(action="rule:update_address_scope")
    if "shared" in data:
        _shared_by_admin_only(ctx, "update_address_scope")
        if scope.shared and not data["shared"]:
            raise errors.AddressScopeUpdateError(address_scope_id=scope_id, reason="Shared address scope can't be unshared")
        if data["shared"] and not scope.shared:
            access.add_policy(session, "address_scope", scope.id, scope.project_id, access.ACCESS_SHARED)
        scope.shared = bool(data["shared"])
    if "name" in data:
        scope.name = data["name"]
    session.flush()
    return scope


def delete(
    session: Session, ctx: Context, cfg: DomainConfig, scope_id: str, if_match: int | None = None
) -> None:
    scope = get(session, ctx, scope_id)
    ctx.require_write("delete_address_scope")
    if not ctx.owns(scope.project_id):
        raise errors.PolicyNotAuthorized(action="rule:delete_address_scope")
    if session.scalar(select(SubnetPool.id).where(SubnetPool.address_scope_id == scope_id).limit(1)):
        raise errors.AddressScopeInUse(address_scope_id=scope_id)
    access.delete_policies_of(session, "address_scope", scope.id)
    session.delete(scope)
    session.flush()


def _shared_to_caller(db: Session | Connection, ids: list[str]) -> set[str]:
    """Which of these scopes a policy shares with the requesting project itself."""
    ctx = current()
    if ctx is None or not ctx.project_id or not ids:
        return set()
    return access.shared_with(connection_of(db), "address_scope", ids, ctx.project_id)


def render(session: Session, cfg: DomainConfig, scopes: list[AddressScope], fresh: bool = False) -> list[dict[str, Any]]:
    shared_to_caller = _shared_to_caller(session, [s.id for s in scopes if not s.shared])
    return [
        {
            "id": s.id,
            "name": s.name,
            "shared": bool(s.shared) or s.id in shared_to_caller,
            "ip_version": s.ip_version,
            "project_id": s.project_id,
            "tenant_id": s.project_id,
        }
        for s in scopes
    ]


# --- the scope of a network ------------------------------------------------------------------


def network_scope(db: Session | Connection, network_id: str, ip_version: int) -> str | None:
    """The scope of the network's subnets of this version (they all share one, or none)."""
    found = db.execute(
        select(SubnetPool.address_scope_id)
        .join(Subnet, Subnet.subnetpool_id == SubnetPool.id)
        .where(
            Subnet.network_id == network_id,
            SubnetPool.ip_version == ip_version,
            SubnetPool.address_scope_id.is_not(None),
        )
        .limit(1)
    ).scalar()
    return str(found) if found is not None else None


_NETWORK_SCOPES = ByIds(lambda cond: select(Subnet.network_id, SubnetPool.ip_version, SubnetPool.address_scope_id)
                        .join(SubnetPool, SubnetPool.id == Subnet.subnetpool_id).where(cond(Subnet.network_id)))  # fmt: skip


class NetworkAddressScopes(Extension):
    """``ipv4_address_scope`` and ``ipv6_address_scope`` on networks, batched over a page."""

    name = "address-scope"

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        scopes: dict[tuple[str, int], str] = {}
        for net_id, version, scope_id in _NETWORK_SCOPES.rows(connection_of(db), [r.id for r in rows]):
            if scope_id is not None:
                scopes[(net_id, version)] = scope_id
        for row, d in zip(rows, dicts, strict=True):
            d["ipv4_address_scope"] = scopes.get((row.id, 4))
            d["ipv6_address_scope"] = scopes.get((row.id, 6))
