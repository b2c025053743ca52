"""RBAC on address scopes (rbac-address-scope): ``access_as_shared`` lets a project see the
scope and put its subnet pools in it. A policy whose removal would strand a project's pools in
the scope is in use.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import AddressScope, SubnetPool
from neutrino.domain.models.rbac import ACCESS_SHARED, WILDCARD
from neutrino.domain.rbac import access
from neutrino.domain.rbac.bound import check_bound
from neutrino.domain.rbac.object_type import ObjectType


def _find(session: Session, ctx: Context, scope_id: str) -> AddressScope:
    # looked up as admin, as Neutron does: another project's scope is "not yours" (400)
    scope = session.get(AddressScope, scope_id)
    if scope is None:
        raise errors.AddressScopeNotFound(address_scope_id=scope_id)
    return scope


def _check_losing(session: Session, scope: AddressScope, action: str, losing: str, remaining: set[str]) -> None:
    users = select(SubnetPool.id).where(SubnetPool.address_scope_id == scope.id)
    check_bound(session, scope, losing, remaining, users, SubnetPool.project_id)


def _after_change(session: Session, ctx: Context, obj: AddressScope, action: str, event: str) -> None:
    # the column caches "a '*' policy exists", whichever way the policy came or went
    obj.shared = WILDCARD in access.targets_of(session, "address_scope", obj.id, ACCESS_SHARED)


TYPE = ObjectType(
    name="address_scope",
    actions=(ACCESS_SHARED,),
    find=_find,
    check_losing=_check_losing,
    after_change=_after_change,
)
