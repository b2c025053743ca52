"""Security group rules: create, read and delete (Neutron has no rule update).

A rule belongs to a group; adding or removing one is a change of the group (its
revision_number goes up). Rules are validated by the pure ``secgroups.rules`` module; here are
the checks that need the database: the group and the remote group (or remote address group)
exist and are visible,
the project's quota, and no other rule of the group allows the same traffic (409).
Visibility: an admin sees every rule, a member the rules of its own groups and its own rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import SecurityGroup, SecurityGroupRule
from neutrino.domain.models.base import new_id, utcnow
from neutrino.domain.secgroups import rules as pure
from neutrino.domain.services import address_groups, common
from neutrino.domain.config import DomainConfig

RULES = SecurityGroupRule.__table__

COLUMNS = {
    "id": SecurityGroupRule.id,
    "project_id": SecurityGroupRule.project_id,
    "description": SecurityGroupRule.description,
    "security_group_id": SecurityGroupRule.security_group_id,
    "direction": SecurityGroupRule.direction,
    "ethertype": SecurityGroupRule.ethertype,
    "protocol": SecurityGroupRule.protocol,
    "port_range_min": SecurityGroupRule.port_range_min,
    "port_range_max": SecurityGroupRule.port_range_max,
    "remote_ip_prefix": SecurityGroupRule.remote_ip_prefix,
    "remote_group_id": SecurityGroupRule.remote_group_id,
    "remote_address_group_id": SecurityGroupRule.remote_address_group_id,
    "revision_number": SecurityGroupRule.revision_number,
    "created_at": SecurityGroupRule.created_at,
    "updated_at": SecurityGroupRule.updated_at,
}


def _group(session: Session, ctx: Context, group_id: Any, *, lock: bool = False) -> SecurityGroup:
    group = session.get(SecurityGroup, group_id, with_for_update=lock or None) if isinstance(group_id, str) else None
    if group is None or not ctx.owns(group.project_id):
        raise errors.SecurityGroupNotFound(id=group_id)
    return group


def get(session: Session, ctx: Context, rule_id: str) -> SecurityGroupRule:
    rule = session.get(SecurityGroupRule, rule_id)
    if rule is None:
        raise errors.SecurityGroupRuleNotFound(id=rule_id)
    if not ctx.owns(rule.project_id):
        owner = session.scalar(select(SecurityGroup.project_id).where(SecurityGroup.id == rule.security_group_id))
        if owner != ctx.project_id:
            raise errors.SecurityGroupRuleNotFound(id=rule_id)
    return rule


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[SecurityGroupRule]:
    stmt = select(SecurityGroupRule)
    if not ctx.is_admin:
        own_groups = select(SecurityGroup.id).where(SecurityGroup.project_id == ctx.project_id)
        stmt = stmt.where(
            or_(SecurityGroupRule.project_id == ctx.project_id, SecurityGroupRule.security_group_id.in_(own_groups))
        )
    stmt = apply_filters(stmt, SecurityGroupRule, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, SecurityGroupRule, q, COLUMNS)
    return list(session.scalars(stmt))


def insert_rules(
    session: Session, *, group_id: str, project_id: str, specs: Iterable[pure.RuleSpec], description: str = ""
) -> list[str]:
    """Store rules already validated (the templates of a new group, or one checked rule)."""
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "project_id": project_id,
            "security_group_id": group_id,
            "direction": s.direction,
            "ethertype": s.ethertype,
            "protocol": s.protocol,
            "port_range_min": s.port_range_min,
            "port_range_max": s.port_range_max,
            "remote_ip_prefix": s.remote_ip_prefix,
            "remote_group_id": s.remote_group_id,
            "remote_address_group_id": s.remote_address_group_id,
            "description": description,
            "created_at": now,
            "updated_at": now,
            "revision_number": 0,
        }
        for s in specs
    ]
    if rows:
        session.connection().execute(insert(RULES), rows)
    return [r["id"] for r in rows]


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> SecurityGroupRule:
    ctx.require_write("create_security_group_rule")
    spec = pure.normalise(data)
    if spec.remote_group_id is not None:
        _group(session, ctx, spec.remote_group_id)
    if spec.remote_address_group_id is not None:
        address_groups.check_visible(session, ctx, spec.remote_address_group_id)
    # locked (PostgreSQL): two identical rules created at once are checked one after the other
    group = _group(session, ctx, data.get("security_group_id"), lock=True)
    project = data["project_id"]
    common.enforce_quota(session, cfg, project, "security_group_rule", SecurityGroupRule)
    key = pure.rule_key(spec, group.id)
    for existing in session.scalars(select(SecurityGroupRule).where(SecurityGroupRule.security_group_id == group.id)):
        if pure.rule_key(existing, group.id) == key:
            raise errors.SecurityGroupRuleExists(rule_id=existing.id)
    [rule_id] = insert_rules(
        session, group_id=group.id, project_id=project, specs=[spec], description=data.get("description", "")
    )
    group.bump_revision()
    session.flush()
    rule = session.get(SecurityGroupRule, rule_id)
    assert rule is not None
    return rule


def delete(
    session: Session, ctx: Context, cfg: DomainConfig, rule_id: str, if_match: int | None = None
) -> None:
    rule = get(session, ctx, rule_id)
    ctx.require_write("delete_security_group_rule")
    common.check_revision(rule, if_match)
    group = session.get(SecurityGroup, rule.security_group_id, with_for_update=True)
    session.delete(rule)
    if group is not None:
        group.bump_revision()
    session.flush()


def _as_dict(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "security_group_id": r.security_group_id,
        "direction": r.direction,
        "ethertype": r.ethertype,
        "protocol": r.protocol,
        "port_range_min": r.port_range_min,
        "port_range_max": r.port_range_max,
        "remote_ip_prefix": r.remote_ip_prefix,
        "normalized_cidr": pure.normalized_cidr(r.remote_ip_prefix),
        "remote_group_id": r.remote_group_id,
        "remote_address_group_id": r.remote_address_group_id,
        "tenant_id": r.project_id,
        "project_id": r.project_id,
        "description": r.description,
        "created_at": common.ts(r.created_at),
        "updated_at": common.ts(r.updated_at),
        "revision_number": r.revision_number,
    }


def rules_by_group(session: Session, group_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The rendered rules of many groups (a group's ``security_group_rules``), oldest first."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(group_ids), 500):
        chunk = group_ids[start : start + 500]
        stmt = (
            select(RULES)
            .where(RULES.c.security_group_id.in_(chunk))
            .order_by(RULES.c.created_at, RULES.c.id)
        )
        for row in session.connection().execute(stmt):
            out[row.security_group_id].append(_as_dict(row))
    return out


def render(session: Session, cfg: DomainConfig, rules: list[SecurityGroupRule], fresh: bool = False) -> list[dict[str, Any]]:
    return [_as_dict(r) for r in rules]
