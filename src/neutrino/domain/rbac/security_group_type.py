"""RBAC on security groups (rbac-security-groups): ``access_as_shared`` lets a project read the
group and put it on its ports. A policy whose removal would strand such ports is in use.

Neutron's wildcard check counts the owner's own ports as depending on the ``*`` policy (so an
admin could not unshare a group its owner uses); neutrino does not: the owner needs no policy.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import Port, SecurityGroup, SecurityGroupPortBinding
from neutrino.domain.models.rbac import ACCESS_SHARED, WILDCARD
from neutrino.domain.rbac.object_type import ObjectType


def _find(session: Session, ctx: Context, group_id: str) -> SecurityGroup:
    # Neutron looks the group up as admin: another project's group is "not yours" (400), not 404
    group = session.get(SecurityGroup, group_id)
    if group is None:
        raise errors.SecurityGroupNotFound(id=group_id)
    return group


def _check_losing(session: Session, group: SecurityGroup, action: str, losing: str, remaining: set[str]) -> None:
    if losing == group.project_id:
        return
    stmt = (
        select(Port.project_id)
        .join(SecurityGroupPortBinding, SecurityGroupPortBinding.port_id == Port.id)
        .where(SecurityGroupPortBinding.security_group_id == group.id)
    )
    if losing == WILDCARD:
        stmt = stmt.where(Port.project_id.notin_((remaining - {WILDCARD}) | {group.project_id}))
    else:
        if WILDCARD in remaining:
            return
        stmt = stmt.where(Port.project_id == losing)
    if session.scalar(stmt.limit(1)) is not None:
        raise errors.RbacPolicyInUse(object_id=group.id, details=f"project_id={losing}")


TYPE = ObjectType(
    name="security_group",
    actions=(ACCESS_SHARED,),
    find=_find,
    noun="objects",
    check_losing=_check_losing,
)
