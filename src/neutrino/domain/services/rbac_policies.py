"""RBAC policies (``/v2.0/rbac-policies``): create, read, retarget, delete, with Neutron's rules.

Policy (Neutron's defaults): a project sees and changes only the policies it owns; only an
admin may target ``*`` (restrict_wildcard); only the owner of an object (or an admin) may share
it. Each object type's own checks and side effects live in ``domain/rbac/`` (registry).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.config import DomainConfig
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models.base import new_id
from neutrino.domain.models.rbac import WILDCARD, RbacPolicy
from neutrino.domain.rbac import access
from neutrino.domain.rbac.registry import ObjectType, object_types
from neutrino.domain.services import common

COLUMNS = {
    "id": RbacPolicy.id,
    "project_id": RbacPolicy.project_id,
    "object_type": RbacPolicy.object_type,
    "object_id": RbacPolicy.object_id,
    "action": RbacPolicy.action,
    "target_tenant": RbacPolicy.target_project,
}


def get(session: Session, ctx: Context, policy_id: str) -> RbacPolicy:
    policy = session.get(RbacPolicy, policy_id)
    if policy is None or not ctx.owns(policy.project_id):
        raise errors.RbacPolicyNotFound(id=policy_id, object_type=policy.object_type if policy else "unknown")
    return policy


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[RbacPolicy]:
    stmt = select(RbacPolicy)
    if not ctx.is_admin:
        stmt = stmt.where(RbacPolicy.project_id == ctx.project_id)
    stmt = apply_filters(stmt, RbacPolicy, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, RbacPolicy, q, COLUMNS)
    return list(session.scalars(stmt))


def _no_wildcard(ctx: Context, target: str, action: str) -> None:
    if target == WILDCARD and not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=f"{action}:target_tenant")


def _object_of(session: Session, ctx: Context, kind: ObjectType, object_id: str) -> Any:
    obj = kind.find(session, ctx, object_id)
    if not ctx.is_admin and obj.project_id != ctx.project_id:
        raise errors.InvalidInput(error_message=f"Only admins can manipulate policies on {kind.noun} they do not own")
    return obj


def _type(name: str) -> ObjectType:
    kind = object_types().get(name)
    if kind is None:
        raise errors.InvalidInput(error_message=f"'{name}' is not a valid RBAC object type")
    return kind


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> RbacPolicy:
    ctx.require_write("create_rbac_policy")
    kind = _type(data["object_type"])
    action = data["action"]
    if action not in kind.actions:
        raise errors.InvalidActionForType(
            action=action, object_type=kind.name, valid_actions=", ".join(kind.actions)
        )
    target = data["target_tenant"]
    _no_wildcard(ctx, target, "create_rbac_policy")
    obj = _object_of(session, ctx, kind, data["object_id"])
    common.enforce_quota(session, cfg, data["project_id"], "rbac_policy", RbacPolicy)
    if target in access.targets_of(session, kind.name, obj.id, action):
        raise errors.DuplicateRbacPolicy()
    kind.check_target(session, obj, action, target)
    kind.before_create(session, ctx, obj, action, "create")
    policy = RbacPolicy(
        id=new_id(), project_id=data["project_id"], object_type=kind.name, object_id=obj.id,
        action=action, target_project=target,
    )
    session.add(policy)
    session.flush()
    kind.after_change(session, ctx, obj, action, "create")
    session.flush()
    return policy


def update(
    session: Session, ctx: Context, cfg: DomainConfig, policy_id: str, data: dict[str, Any],
    if_match: int | None = None,
) -> RbacPolicy:
    policy = get(session, ctx, policy_id)
    ctx.require_write("update_rbac_policy")
    if "target_tenant" not in data:
        return policy
    target = data["target_tenant"]
    _no_wildcard(ctx, target, "update_rbac_policy")
    if target == policy.target_project:
        return policy
    kind = _type(policy.object_type)
    obj = _object_of(session, ctx, kind, policy.object_id)
    targets = access.targets_of(session, kind.name, obj.id, policy.action)
    if target in targets:
        raise errors.DuplicateRbacPolicy()
    remaining = (targets - {policy.target_project}) | {target}
    kind.check_losing(session, obj, policy.action, policy.target_project, remaining)
    policy.target_project = target
    session.flush()
    kind.after_change(session, ctx, obj, policy.action, "update")
    session.flush()
    return policy


def delete(
    session: Session, ctx: Context, cfg: DomainConfig, policy_id: str, if_match: int | None = None
) -> None:
    policy = get(session, ctx, policy_id)
    ctx.require_write("delete_rbac_policy")
    kind = _type(policy.object_type)
    obj = kind.find(session, Context.admin(ctx.project_id), policy.object_id)
    targets = access.targets_of(session, kind.name, obj.id, policy.action)
    kind.check_losing(session, obj, policy.action, policy.target_project, targets - {policy.target_project})
    action = policy.action
    session.delete(policy)
    session.flush()
    kind.after_change(session, ctx, obj, action, "delete")
    session.flush()


def render(session: Any, cfg: DomainConfig, rows: list[RbacPolicy], fresh: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "project_id": p.project_id,
            "tenant_id": p.project_id,
            "object_type": p.object_type,
            "object_id": p.object_id,
            "action": p.action,
            "target_tenant": p.target_project,
        }
        for p in rows
    ]
