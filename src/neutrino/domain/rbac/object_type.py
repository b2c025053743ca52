"""What an RBAC object type is: its actions and the hooks Neutron runs around its policies."""

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
# check_target(session, obj, action, target): may the object be opened to this target (on create)?
TargetCheck = Callable[[Session, Any, str, str], None]


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
    check_target: TargetCheck = _nothing
