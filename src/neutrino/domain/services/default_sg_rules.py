"""The template of the rules a new security group starts with (``security-groups-default-rules``).

Each template rule says whether it goes into the project's ``default`` group
(``used_in_default_sg``) and into the groups a user creates (``used_in_non_default_sg``); a
``remote_group_id`` of ``PARENT`` becomes the new group's own id. The migration stores
Neutron's legacy four (egress for both families in every group, ingress from the group's
members in the default group only). Rules are validated as security group rules are; a rule
equal to one already in the same template (the default groups' or the custom groups') is a 409.
Only an admin creates and deletes templates; every user may read them. There is no update.
Changing the template does not touch existing groups.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.config import DomainConfig
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import DefaultSecurityGroupRule
from neutrino.domain.models.base import new_id
from neutrino.domain.secgroups import rules as pure
from neutrino.domain.services import common

T = DefaultSecurityGroupRule
COLUMNS = {
    "id": T.id,
    "description": T.description,
    "direction": T.direction,
    "ethertype": T.ethertype,
    "protocol": T.protocol,
    "port_range_min": T.port_range_min,
    "port_range_max": T.port_range_max,
    "remote_ip_prefix": T.remote_ip_prefix,
    "remote_group_id": T.remote_group_id,
    "remote_address_group_id": T.remote_address_group_id,
    "used_in_default_sg": T.used_in_default_sg,
    "used_in_non_default_sg": T.used_in_non_default_sg,
}
_KEY_GROUP = "template"
"""The rule key's group slot: templates of one kind are compared with each other."""


def _admin_only(ctx: Context, action: str) -> None:
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=action)


def get(session: Session, ctx: Context, rule_id: str) -> DefaultSecurityGroupRule:
    rule = session.get(T, rule_id) if isinstance(rule_id, str) else None
    if rule is None:
        raise errors.DefaultSecurityGroupRuleNotFound(id=rule_id)
    return rule


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[DefaultSecurityGroupRule]:
    stmt = apply_filters(select(T), T, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, T, q, COLUMNS)
    return list(session.scalars(stmt))


def templates(session: Session, *, default_group: bool) -> list[DefaultSecurityGroupRule]:
    """The template rows that apply to a new default group, or to a new custom group."""
    column = T.used_in_default_sg if default_group else T.used_in_non_default_sg
    return list(session.scalars(select(T).where(column.is_(True)).order_by(T.created_at, T.id)))


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> DefaultSecurityGroupRule:
    _admin_only(ctx, "create_default_security_group_rule")
    spec = pure.normalise(data)
    in_default = bool(data.get("used_in_default_sg", False))
    in_custom = bool(data.get("used_in_non_default_sg", True))
    key = pure.rule_key(spec, _KEY_GROUP)
    for applies, flag in ((in_default, T.used_in_default_sg), (in_custom, T.used_in_non_default_sg)):
        if not applies:
            continue
        for existing in session.scalars(select(T).where(flag.is_(True))):
            if pure.rule_key(existing, _KEY_GROUP) == key:
                raise errors.DefaultSecurityGroupRuleExists(rule_id=existing.id)
    rule = T(
        id=new_id(),
        direction=spec.direction,
        ethertype=spec.ethertype,
        protocol=spec.protocol,
        port_range_min=spec.port_range_min,
        port_range_max=spec.port_range_max,
        remote_ip_prefix=spec.remote_ip_prefix,
        remote_group_id=spec.remote_group_id,
        remote_address_group_id=spec.remote_address_group_id,
        description=data.get("description", ""),
        used_in_default_sg=in_default,
        used_in_non_default_sg=in_custom,
    )
    session.add(rule)
    session.flush()
    return rule


def delete(session: Session, ctx: Context, cfg: DomainConfig, rule_id: str, if_match: int | None = None) -> None:
    rule = get(session, ctx, rule_id)
    _admin_only(ctx, "delete_default_security_group_rule")
    session.delete(rule)
    session.flush()


def render(
    session: Session, cfg: DomainConfig, rules: list[DefaultSecurityGroupRule], fresh: bool = False
) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "direction": r.direction,
            "ethertype": r.ethertype,
            "protocol": r.protocol,
            "port_range_min": r.port_range_min,
            "port_range_max": r.port_range_max,
            "remote_ip_prefix": r.remote_ip_prefix,
            "remote_group_id": r.remote_group_id,
            "remote_address_group_id": r.remote_address_group_id,
            "description": r.description,
            "used_in_default_sg": r.used_in_default_sg,
            "used_in_non_default_sg": r.used_in_non_default_sg,
        }
        for r in rules
    ]
