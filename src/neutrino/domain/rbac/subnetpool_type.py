"""RBAC on subnet pools (rbac-subnetpool): ``access_as_shared`` lets a project see the pool and
allocate subnets from it. A policy whose removal would strand a project's subnets allocated
from the pool is in use; a pool in an address scope is opened only to projects that can
reach that scope (Neutron's RbacPolicyInitError, 400).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import AddressScope, Subnet, SubnetPool
from neutrino.domain.models.rbac import ACCESS_SHARED, WILDCARD
from neutrino.domain.rbac import access
from neutrino.domain.rbac.bound import check_bound
from neutrino.domain.rbac.object_type import ObjectType


def _find(session: Session, ctx: Context, pool_id: str) -> SubnetPool:
    # Neutron looks the pool up as admin: another project's pool is "not yours" (400), not 404
    pool = session.get(SubnetPool, pool_id)
    if pool is None:
        raise errors.SubnetPoolNotFound(subnetpool_id=pool_id)
    return pool


def _check_losing(session: Session, pool: SubnetPool, action: str, losing: str, remaining: set[str]) -> None:
    users = select(Subnet.id).where(Subnet.subnetpool_id == pool.id)
    check_bound(session, pool, losing, remaining, users, Subnet.project_id)


def _check_target(session: Session, pool: SubnetPool, action: str, target: str) -> None:
    """The target must reach the pool's scope: a policy on the scope for it or for '*' (the
    scope's owner needs none)."""
    if pool.address_scope_id is None:
        return
    scope = session.get(AddressScope, pool.address_scope_id)
    if scope is not None and target != WILDCARD and scope.project_id == target:
        return
    if not access.has_grant(session, "address_scope", pool.address_scope_id, None if target == WILDCARD else target):
        raise errors.RbacPolicyInitError(
            object_id=pool.id, reason="target project doesn't have access to associated address scope"
        )


def _after_change(session: Session, ctx: Context, obj: SubnetPool, action: str, event: str) -> None:
    # the column caches "a '*' policy exists", whichever way the policy came or went
    obj.shared = WILDCARD in access.targets_of(session, "subnetpool", obj.id, ACCESS_SHARED)


TYPE = ObjectType(
    name="subnetpool",
    actions=(ACCESS_SHARED,),
    find=_find,
    check_losing=_check_losing,
    after_change=_after_change,
    check_target=_check_target,
)
