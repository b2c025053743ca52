"""RBAC policies for QoS policies (``/v2.0/rbac-policies`` with object_type ``qos_policy``).

Neutron's model (docs/neutron-behaviour.md, "QoS"): an entry ``access_as_shared`` lets one
project (``target_tenant``) or every project (``*``) use a policy; a policy's ``shared`` is its
wildcard entry. An entry cannot go (nor be retargeted) while a project that uses the policy (on
its networks or ports) would lose access: RbacPolicyInUse (409). Only an admin or the policy's
owner makes entries (else InvalidInput); a project sees only the entries it made. Networks
have no RBAC here, so only ``qos_policy`` is a valid object type.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import Network, Port, QosNetworkBinding, QosPolicy, QosPolicyRbac, QosPortBinding
from neutrino.domain.models.base import new_id
from neutrino.domain.wiring import Domain

OBJECT_TYPE, SHARED, WILDCARD = "qos_policy", "access_as_shared", "*"
COLUMNS = {
    "id": QosPolicyRbac.id,
    "project_id": QosPolicyRbac.project_id,
    "tenant_id": QosPolicyRbac.project_id,
    "object_id": QosPolicyRbac.object_id,
    "action": QosPolicyRbac.action,
    "target_tenant": QosPolicyRbac.target_tenant,
}


def shared_with(session: Session, policy_id: str, project_id: str | None) -> bool:
    targets = [WILDCARD, *([project_id] if project_id else [])]
    stmt = select(QosPolicyRbac.id).where(QosPolicyRbac.object_id == policy_id, QosPolicyRbac.action == SHARED,
                                          QosPolicyRbac.target_tenant.in_(targets))  # fmt: skip
    return session.scalar(stmt.limit(1)) is not None


def shared_ids_clause(project_id: str | None) -> Any:
    """Policies shared with ``project_id`` (or with everyone), as a subquery of ids."""
    targets = [WILDCARD, *([project_id] if project_id else [])]
    return select(QosPolicyRbac.object_id).where(QosPolicyRbac.action == SHARED, QosPolicyRbac.target_tenant.in_(targets))


def bound_projects(session: Session, policy_id: str) -> set[str]:
    nets = select(Network.project_id).join(QosNetworkBinding, QosNetworkBinding.network_id == Network.id).where(
        QosNetworkBinding.qos_policy_id == policy_id)
    ports = select(Port.project_id).join(QosPortBinding, QosPortBinding.port_id == Port.id).where(
        QosPortBinding.qos_policy_id == policy_id)
    return set(session.scalars(nets)) | set(session.scalars(ports))


def check_unshare(session: Session, policy: QosPolicy, target: str) -> None:
    """Neutron's ``_validate_rbac_policy_delete``: may the share to ``target`` go?"""
    if target == policy.project_id:
        return
    entries = list(session.scalars(select(QosPolicyRbac).where(QosPolicyRbac.object_id == policy.id,
                                                               QosPolicyRbac.action == SHARED)))  # fmt: skip
    users = bound_projects(session, policy.id)
    if target != WILDCARD:
        if any(e.target_tenant == WILDCARD for e in entries) or target not in users:
            return
    elif users <= {e.target_tenant for e in entries if e.target_tenant != WILDCARD}:
        return
    raise errors.RbacPolicyInUse(object_id=policy.id, details=f"project_id={target}")


def add_wildcard(session: Session, policy: QosPolicy, project_id: str) -> None:
    session.add(QosPolicyRbac(id=new_id(), project_id=project_id, object_id=policy.id, action=SHARED,
                              target_tenant=WILDCARD))  # fmt: skip
    policy.shared = True


def remove_wildcard(session: Session, policy: QosPolicy) -> None:
    check_unshare(session, policy, WILDCARD)
    for entry in session.scalars(select(QosPolicyRbac).where(QosPolicyRbac.object_id == policy.id,
                                                             QosPolicyRbac.target_tenant == WILDCARD)):  # fmt: skip
        session.delete(entry)
    policy.shared = False


# --- the rbac-policies resource ---------------------------------------------------------------


def get(session: Session, ctx: Context, rbac_id: str) -> QosPolicyRbac:
    entry = session.get(QosPolicyRbac, rbac_id)
    if entry is None or not ctx.owns(entry.project_id):
        raise errors.RbacPolicyNotFound(id=rbac_id, object_type=OBJECT_TYPE)
    return entry


def list_(session: Session, ctx: Context, cfg: Domain, q: ListQuery) -> list[QosPolicyRbac]:
    stmt = select(QosPolicyRbac)
    if not ctx.is_admin:
        stmt = stmt.where(QosPolicyRbac.project_id == ctx.project_id)
    if "object_type" in q.filters and OBJECT_TYPE not in q.filters["object_type"]:
        return []
    stmt = apply_filters(stmt, QosPolicyRbac, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, QosPolicyRbac, q, COLUMNS)
    return list(session.scalars(stmt))


def _policy_for(session: Session, ctx: Context, object_id: str) -> QosPolicy:
    policy = session.get(QosPolicy, object_id)
    if policy is None:
        raise errors.RbacPolicyNotFound(id=object_id, object_type=OBJECT_TYPE)
    if not ctx.is_admin and policy.project_id != ctx.project_id:
        raise errors.InvalidInput(error_message="Only admins can manipulate policies on objects they do not own")
    return policy


def _check_target(target: Any) -> str:
    import uuid

    if target == WILDCARD:
        return WILDCARD
    try:
        uuid.UUID(str(target))
    except ValueError:
        raise errors.InvalidInput(error_message=f"'{target}' is not a valid target project ID; expected a UUID or '*'") from None
    return str(target)


def create(session: Session, ctx: Context, cfg: Domain, data: dict[str, Any]) -> QosPolicyRbac:
    ctx.require_write("create_rbac_policy")
    object_type = str(data.get("object_type") or "").strip().lower()
    if object_type != OBJECT_TYPE:
        raise errors.InvalidInput(error_message=f"'{data.get('object_type')}' is not a valid RBAC object type")
    if data.get("action") != SHARED:
        raise errors.InvalidInput(error_message=f"Invalid action '{data.get('action')}' for object type '{OBJECT_TYPE}'. "
                                                f"Valid actions: ['{SHARED}']")  # fmt: skip
    policy = _policy_for(session, ctx, data["object_id"])
    entry = QosPolicyRbac(id=new_id(), project_id=data["project_id"], object_id=policy.id, action=SHARED,
                          target_tenant=_check_target(data.get("target_tenant")))  # fmt: skip
    session.add(entry)
    if entry.target_tenant == WILDCARD:
        policy.shared = True
    try:
        session.flush()
    except IntegrityError:
        raise errors.DuplicateRbacPolicy() from None
    return entry


def update(session: Session, ctx: Context, cfg: Domain, rbac_id: str, data: dict[str, Any], if_match: int | None = None) -> QosPolicyRbac:
    entry = get(session, ctx, rbac_id)
    policy = _policy_for(session, ctx, entry.object_id)
    if "target_tenant" in data:
        target = _check_target(data["target_tenant"])
        if target != entry.target_tenant and target != WILDCARD:
            check_unshare(session, policy, entry.target_tenant)
        if entry.target_tenant == WILDCARD and target != WILDCARD:
            policy.shared = False
        entry.target_tenant = target
        policy.shared = policy.shared or target == WILDCARD
    try:
        session.flush()
    except IntegrityError:
        raise errors.DuplicateRbacPolicy() from None
    return entry


def delete(session: Session, ctx: Context, cfg: Domain, rbac_id: str, if_match: int | None = None) -> None:
    entry = get(session, ctx, rbac_id)
    policy = session.get(QosPolicy, entry.object_id)
    if policy is not None:
        check_unshare(session, policy, entry.target_tenant)
        if entry.target_tenant == WILDCARD:
            policy.shared = False
    session.delete(entry)
    session.flush()


def render(session: Session, cfg: Domain, entries: list[QosPolicyRbac], fresh: bool = False) -> list[dict[str, Any]]:
    return [{"id": e.id, "project_id": e.project_id, "tenant_id": e.project_id, "object_type": OBJECT_TYPE,
             "object_id": e.object_id, "action": e.action, "target_tenant": e.target_tenant} for e in entries]  # fmt: skip
