"""RBAC on address groups (rbac-address-group): ``access_as_shared`` lets a project see the
group and name it in its security group rules (``remote_address_group_id``); only the owner
changes it. A policy whose removal would strand a project's rules naming the group is in use.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import AddressGroup, SecurityGroupRule
from neutrino.domain.models.rbac import ACCESS_SHARED
from neutrino.domain.rbac.bound import check_bound
from neutrino.domain.rbac.object_type import ObjectType


def _find(session: Session, ctx: Context, group_id: str) -> AddressGroup:
    # looked up as admin, as Neutron does: another project's group is "not yours" (400)
    group = session.get(AddressGroup, group_id)
    if group is None:
        raise errors.AddressGroupNotFound(address_group_id=group_id)
    return group


def _check_losing(session: Session, group: AddressGroup, action: str, losing: str, remaining: set[str]) -> None:
    users = select(SecurityGroupRule.id).where(SecurityGroupRule.remote_address_group_id == group.id)
    check_bound(session, group, losing, remaining, users, SecurityGroupRule.project_id)


TYPE = ObjectType(
    name="address_group",
    actions=(ACCESS_SHARED,),
    find=_find,
    check_losing=_check_losing,
)
