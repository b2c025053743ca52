"""QoS policies: create, read, update, delete; each project's default policy; the rules.

Neutron's default policy rules (docs/neutron-behaviour.md, "QoS"): only an admin creates,
changes or deletes policies and rules; a project sees its own policies and shared ones; a
policy that is not visible is QosPolicyNotFound (404), a visible one the caller may not change
is PolicyNotAuthorized (403). A policy used by a port or a network cannot be deleted
(QosPolicyInUse, 409). At most one policy per project is its default (``is_default``): networks
created in the project without a ``qos_policy_id`` get it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context, current
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import QosDefaultPolicy, QosNetworkBinding, QosPolicy, QosPortBinding, QosRule
from neutrino.domain.models.base import new_id
from neutrino.domain.qos import rules as qos_rules
from neutrino.domain.models.rbac import ACCESS_SHARED, WILDCARD
from neutrino.domain.rbac import access, qos_policy_type
from neutrino.domain.services import common
from neutrino.domain.wiring import Domain

COLUMNS = {
    "id": QosPolicy.id,
    "name": QosPolicy.name,
    "project_id": QosPolicy.project_id,
    "tenant_id": QosPolicy.project_id,
    "description": QosPolicy.description,
    "shared": QosPolicy.shared,
    "revision_number": QosPolicy.revision_number,
    "created_at": QosPolicy.created_at,
    "updated_at": QosPolicy.updated_at,
}


def visible(session: Session, ctx: Context, policy: QosPolicy) -> bool:
    """Its owner's, an admin's, or shared with the caller's project (or everyone) by RBAC."""
    return ctx.owns(policy.project_id) or access.has_grant(session, qos_policy_type.NAME, policy.id, ctx.project_id)


def get(session: Session, ctx: Context, policy_id: str) -> QosPolicy:
    policy = session.get(QosPolicy, policy_id)
    if policy is None or not visible(session, ctx, policy):
        raise errors.QosPolicyNotFound(policy_id=policy_id)
    return policy


def writable(session: Session, ctx: Context, policy_id: str, action: str) -> QosPolicy:
    policy = get(session, ctx, policy_id)
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=action)
    return policy


def list_(session: Session, ctx: Context, cfg: Domain, q: ListQuery) -> list[QosPolicy]:
    stmt = select(QosPolicy)
    if not ctx.is_admin:
        stmt = stmt.where(or_(QosPolicy.project_id == ctx.project_id,
                              access.granted(qos_policy_type.NAME, QosPolicy.id, ctx.project_id)))
    if "is_default" in q.filters:
        defaults = select(QosDefaultPolicy.qos_policy_id)
        wanted = {str(v).lower() in ("true", "1") for v in q.filters["is_default"]}
        if wanted == {True}:
            stmt = stmt.where(QosPolicy.id.in_(defaults))
        elif wanted == {False}:
            stmt = stmt.where(QosPolicy.id.notin_(defaults))
    stmt = apply_filters(stmt, QosPolicy, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, QosPolicy, q, COLUMNS)
    return list(session.scalars(stmt))


def _set_default(session: Session, policy: QosPolicy, is_default: bool) -> bool:
    row = session.get(QosDefaultPolicy, policy.project_id)
    if is_default:
        if row is not None and row.qos_policy_id != policy.id:
            raise errors.QoSPolicyDefaultAlreadyExists(project_id=policy.project_id)
        if row is None:
            session.add(QosDefaultPolicy(project_id=policy.project_id, qos_policy_id=policy.id))
            return True
        return False
    if row is not None and row.qos_policy_id == policy.id:
        session.delete(row)
        return True
    return False


def default_policy_id(session: Session, project_id: str) -> str | None:
    row = session.get(QosDefaultPolicy, project_id)
    return row.qos_policy_id if row is not None else None


def create(session: Session, ctx: Context, cfg: Domain, data: dict[str, Any]) -> QosPolicy:
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action="create_policy")
    policy = QosPolicy(id=new_id(), project_id=data["project_id"], name=data.get("name", ""),
                       description=data.get("description", ""), shared=False)  # fmt: skip
    session.add(policy)
    session.flush()
    if data.get("shared"):
        access.add_policy(session, qos_policy_type.NAME, policy.id, policy.project_id, ACCESS_SHARED)
        policy.shared = True
    if data.get("is_default"):
        _set_default(session, policy, True)
        session.flush()
    return policy


def update(
    session: Session, ctx: Context, cfg: Domain, policy_id: str, data: dict[str, Any], if_match: int | None = None
) -> QosPolicy:
    policy = writable(session, ctx, policy_id, "update_policy")
    common.check_revision(policy, if_match)
    changed = common.apply_updates(policy, data, ("name", "description"))
    targets = access.targets_of(session, qos_policy_type.NAME, policy.id, ACCESS_SHARED)
    if "shared" in data and bool(data["shared"]) != (WILDCARD in targets):
        if data["shared"]:
            access.add_policy(session, qos_policy_type.NAME, policy.id, ctx.project_id or policy.project_id,
                              ACCESS_SHARED)  # fmt: skip
        else:
            qos_policy_type.check_losing(session, policy, ACCESS_SHARED, WILDCARD, targets - {WILDCARD})
            access.remove_policies(session, qos_policy_type.NAME, policy.id, ACCESS_SHARED, WILDCARD)
        policy.shared = bool(data["shared"])
        changed = True
    if "is_default" in data:
        changed = _set_default(session, policy, bool(data["is_default"])) or changed
    if changed:
        policy.bump_revision()
    session.flush()
    return policy


def delete(session: Session, ctx: Context, cfg: Domain, policy_id: str, if_match: int | None = None) -> None:
    policy = writable(session, ctx, policy_id, "delete_policy")
    common.check_revision(policy, if_match)
    for model, key, kind in ((QosNetworkBinding, QosNetworkBinding.network_id, "network"),
                             (QosPortBinding, QosPortBinding.port_id, "port")):  # fmt: skip
        user = session.scalar(select(key).where(model.qos_policy_id == policy.id).limit(1))
        if user is not None:
            raise errors.QosPolicyInUse(policy_id=policy.id, object_type=kind, object_id=user)
    common.delete_tags(session, policy.id)
    access.delete_policies_of(session, qos_policy_type.NAME, policy.id)
    session.delete(policy)
    session.flush()


# --- rules ------------------------------------------------------------------------------------


def rule_dict(rule: QosRule, *, full: bool = False) -> dict[str, Any]:
    """A rule as its sub-resource shows it; ``full``: as listed in its policy (with type and
    policy id)."""
    d: dict[str, Any] = {"id": rule.id}
    for p in qos_rules.RULE_TYPES[rule.type].params:
        d[p.name] = getattr(rule, p.name)
    if full:
        d.update(qos_policy_id=rule.qos_policy_id, type=rule.type)
    return d


def rules_of(session: Session, policy_ids: Iterable[str]) -> dict[str, list[QosRule]]:
    out: dict[str, list[QosRule]] = {}
    ids = list(policy_ids)
    if ids:
        for rule in session.scalars(select(QosRule).where(QosRule.qos_policy_id.in_(ids)).order_by(QosRule.type, QosRule.id)):
            out.setdefault(rule.qos_policy_id, []).append(rule)
    return out


def render(session: Session, cfg: Domain, policies: list[QosPolicy], fresh: bool = False) -> list[dict[str, Any]]:
    rules = rules_of(session, [p.id for p in policies])
    defaults = set(session.scalars(select(QosDefaultPolicy.qos_policy_id).where(
        QosDefaultPolicy.qos_policy_id.in_([p.id for p in policies])))) if policies else set()  # fmt: skip
    tags = {} if fresh else common.tags_by_resource(session, [p.id for p in policies])
    viewer = current()
    project = viewer.project_id if viewer is not None else None
    out = []
    for p in policies:
        # as Neutron: shared means shared with the viewer's project (or with every project)
        shared = access.has_grant(session, qos_policy_type.NAME, p.id, project)
        d = {"id": p.id, "name": p.name, "shared": shared, "is_default": p.id in defaults,
             "rules": [rule_dict(r, full=True) for r in rules.get(p.id, [])]}  # fmt: skip
        d.update(common.standard_fields(p, tags.get(p.id, [])))
        out.append(d)
    return out


def _rule(session: Session, policy: QosPolicy, rule_type: qos_rules.RuleType, rule_id: str) -> QosRule:
    rule = session.get(QosRule, rule_id)
    if rule is None or rule.qos_policy_id != policy.id or rule.type != rule_type.name:
        raise errors.QosRuleNotFound(rule_id=rule_id, policy_id=policy.id)
    return rule


def _check_unique(session: Session, policy: QosPolicy, rule_type: qos_rules.RuleType, values: dict[str, Any],
                  skip: str | None = None) -> None:  # fmt: skip
    for other in rules_of(session, [policy.id]).get(policy.id, []):
        if other.id == skip or other.type != rule_type.name:
            continue
        if qos_rules.mixes_any_direction(rule_type.name, values.get("direction"), other.direction):
            raise errors.QoSRuleParameterConflict(rule_value=values["direction"], policy_id=policy.id,
                                                  existing_rule=other.type, existing_value=other.direction)  # fmt: skip
        if not rule_type.directional or other.direction == values.get("direction"):
            attrs = ["qos_policy_id", *(["direction"] if rule_type.directional else [])]
            vals = [policy.id, *([values["direction"]] if rule_type.directional else [])]
            raise errors.NeutronDbObjectDuplicateEntry(object_type=f"Qos{rule_type.name.title().replace('_', '')}Rule",
                                                       attributes=attrs, values=vals)  # fmt: skip


def list_rules(session: Session, ctx: Context, policy_id: str, rule_type: qos_rules.RuleType) -> list[dict[str, Any]]:
    policy = get(session, ctx, policy_id)
    return [rule_dict(r) for r in rules_of(session, [policy.id]).get(policy.id, []) if r.type == rule_type.name]


def show_rule(session: Session, ctx: Context, policy_id: str, rule_type: qos_rules.RuleType, rule_id: str) -> dict[str, Any]:
    return rule_dict(_rule(session, get(session, ctx, policy_id), rule_type, rule_id))


def create_rule(session: Session, ctx: Context, policy_id: str, rule_type: qos_rules.RuleType, values: dict[str, Any]) -> dict[str, Any]:
    if not ctx.is_admin:  # Neutron enforces an admin-only create before it looks the policy up
        raise errors.PolicyNotAuthorized(action=f"create_policy_{rule_type.singular}")
    policy = writable(session, ctx, policy_id, f"create_policy_{rule_type.singular}")
    _check_unique(session, policy, rule_type, values)
    rule = QosRule(id=new_id(), qos_policy_id=policy.id, type=rule_type.name, **values)
    session.add(rule)
    policy.bump_revision()
    session.flush()
    return rule_dict(rule)


def update_rule(session: Session, ctx: Context, policy_id: str, rule_type: qos_rules.RuleType, rule_id: str,
                values: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    policy = writable(session, ctx, policy_id, f"update_policy_{rule_type.singular}")
    rule = _rule(session, policy, rule_type, rule_id)
    merged = {p.name: values.get(p.name, getattr(rule, p.name)) for p in rule_type.params}
    _check_unique(session, policy, rule_type, merged, skip=rule.id)
    for key, value in values.items():
        setattr(rule, key, value)
    policy.bump_revision()
    session.flush()
    return rule_dict(rule)


def delete_rule(session: Session, ctx: Context, policy_id: str, rule_type: qos_rules.RuleType, rule_id: str) -> None:
    policy = writable(session, ctx, policy_id, f"delete_policy_{rule_type.singular}")
    session.delete(_rule(session, policy, rule_type, rule_id))
    policy.bump_revision()
    session.flush()
