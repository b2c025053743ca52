"""Neutron's generic RbacPolicyInUse rule for the types whose users are plain rows (subnet
pools, address scopes, address groups): a project that holds something on the object (its
"bound" projects) may not lose its access.

Taking away a project's own policy is refused when that project is bound and no ``*`` policy
remains; taking away ``*`` is refused when a bound project is left without a policy of its own.
Neutron counts the owner among the bound projects when ``*`` goes; neutrino does not (the owner
needs no policy), as for security groups.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.models.rbac import WILDCARD


def check_bound(
    session: Session, obj: Any, losing: str, remaining: set[str], users: Any, project_column: Any
) -> None:
    """``users``: a SELECT of the rows that use ``obj``; ``project_column``: their project."""
    if losing == obj.project_id:
        return
    if losing == WILDCARD:
        stmt = users.where(project_column.notin_((remaining - {WILDCARD}) | {obj.project_id}))
    else:
        if WILDCARD in remaining:
            return
        stmt = users.where(project_column == losing)
    if session.scalar(stmt.limit(1)) is not None:
        raise errors.RbacPolicyInUse(object_id=obj.id, details=f"project_id={losing}")
