"""The object types an RBAC policy may name: a table other features extend.

Each entry says which actions the type takes and carries its hooks: how to find the object
as the caller sees it, which projects would lose access that they still use (Neutron's
RbacPolicyInUse) and what to recompute once the policies changed (a network's ``shared`` and
``router:external``). Adding a type (subnet pools, address scopes) is one ``ObjectType`` and
one line in ``OBJECT_TYPES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from neutrino.domain.context import Context

# find(session, ctx, object_id) -> the object (with .id and .project_id), or its NotFound error
Finder = Callable[[Session, Context, str], Any]
# check_losing(session, obj, action, losing_target, remaining_targets): RbacPolicyInUse when a
# project would lose access it still uses; remaining_targets: the targets left for that action
LossCheck = Callable[[Session, Any, str, str, set[str]], None]
# after_change(session, ctx, obj, action, event): event is "create", "update" or "delete"
AfterChange = Callable[[Session, Context, Any, str, str], None]


def _nothing(*_args: Any) -> None:
    return None


@dataclass(frozen=True)
class ObjectType:
    name: str
    actions: tuple[str, ...]
    find: Finder
    noun: str = "objects"
    """How Neutron's "Only admins can manipulate policies on <noun> they do not own" names it."""
    check_losing: LossCheck = _nothing
    before_create: AfterChange = _nothing
    after_change: AfterChange = _nothing


def object_types() -> dict[str, ObjectType]:
    """Every registered type, by name (imported late: the types import the services)."""
    from neutrino.domain.rbac import network_type, security_group_type

    return {t.name: t for t in (network_type.TYPE, security_group_type.TYPE)}
