"""Security groups: create, read, update, delete, and each project's ``default`` group.

Every project has a group named ``default`` (description "Default security group"); its
rules, and those of every new group, come from the template (``default_sg_rules``), by
default: traffic between the default group's members in, everything out. Neutron creates it lazily, the
first time the project lists groups, creates a network or creates or updates a port; so does
``ensure_default_security_group``. Its row in ``default_security_groups`` (primary key: the
project) makes that safe when two requests race: the loser's insert fails, its transaction
is retried and then finds the winner's group. The default group is not charged to quota
(Neutron creates it even for a project at its limit), but it counts as used.
A user may not name a group ``default``; only an admin may delete a project's default group.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, false, or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context, current
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import DefaultSecurityGroup, SecurityGroup, SecurityGroupPortBinding, SecurityGroupRule
from neutrino.domain.models.base import new_id
from neutrino.domain.rbac import access
from neutrino.domain.secgroups import rules as pure
from neutrino.domain.services import common, default_sg_rules
from neutrino.domain.services import security_group_rules as sg_rules
from neutrino.domain.config import DomainConfig

DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default security group"

COLUMNS = {
    "id": SecurityGroup.id,
    "name": SecurityGroup.name,
    "project_id": SecurityGroup.project_id,
    "description": SecurityGroup.description,
    "stateful": SecurityGroup.stateful,
    "revision_number": SecurityGroup.revision_number,
    "created_at": SecurityGroup.created_at,
    "updated_at": SecurityGroup.updated_at,
}

_DEFAULT_OF = select(DefaultSecurityGroup.security_group_id).where(
    DefaultSecurityGroup.project_id == bindparam("project_id")
)


# --- the default group --------------------------------------------------------------------


def default_group_id(session: Session, project_id: str) -> str | None:
    found = session.connection().execute(_DEFAULT_OF, {"project_id": project_id}).scalar()
    return str(found) if found is not None else None


def ensure_default_security_group(session: Session, ctx_or_project_id: Context | str | None) -> str | None:
    """The id of the project's default group, created (with its four rules) if missing.
    ``None`` for no project (e.g. a router gateway port has none)."""
    project = ctx_or_project_id.project_id if isinstance(ctx_or_project_id, Context) else ctx_or_project_id
    if not project:
        return None
    found = default_group_id(session, project)
    if found is not None:
        return found
    group = _insert_group(session, project, DEFAULT_NAME, DEFAULT_DESCRIPTION, stateful=True)
    # a concurrent creator makes this insert fail: the retried transaction then finds its group
    session.add(DefaultSecurityGroup(project_id=project, security_group_id=group.id))
    session.flush()
    specs = pure.from_templates(default_sg_rules.templates(session, default_group=True), group.id)
    sg_rules.insert_rules(session, group_id=group.id, project_id=project, specs=specs)
    return group.id


def _insert_group(session: Session, project: str, name: str, description: str, *, stateful: bool) -> SecurityGroup:
    group = SecurityGroup(id=new_id(), project_id=project, name=name, description=description, stateful=stateful)
    session.add(group)
    session.flush()
    return group


# --- CRUD ---------------------------------------------------------------------------------


def get(session: Session, ctx: Context, group_id: str, *, lock: bool = False) -> SecurityGroup:
    """The group if the caller owns it or an access_as_shared policy opens it to its project."""
    group = session.get(SecurityGroup, group_id, with_for_update=lock or None)
    if group is None or not (
        ctx.owns(group.project_id) or access.has_grant(session, "security_group", group.id, ctx.project_id)
    ):
        raise errors.SecurityGroupNotFound(id=group_id)
    return group


def _writable(session: Session, ctx: Context, group_id: str, action: str) -> SecurityGroup:
    group = get(session, ctx, group_id)
    ctx.require_write(action)
    common.ensure_owner_or_admin(ctx, group.project_id, action)
    return group


def _shared_with(ctx: Context) -> Any:
    """Neutron's ``shared`` of a group: a policy opens it to the caller's project or to all."""
    return access.granted("security_group", SecurityGroup.id, ctx.project_id)


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[SecurityGroup]:
    stmt = select(SecurityGroup)
    if not ctx.is_admin:
        stmt = stmt.where(or_(SecurityGroup.project_id == ctx.project_id, _shared_with(ctx)))
    if "shared" in q.filters:
        wanted = set(q.filters["shared"])
        if wanted == {True}:
            stmt = stmt.where(_shared_with(ctx))
        elif wanted == {False}:
            stmt = stmt.where(~_shared_with(ctx))
        elif not wanted:
            stmt = stmt.where(false())
    stmt = apply_filters(stmt, SecurityGroup, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, SecurityGroup, q, COLUMNS)
    return list(session.scalars(stmt))


def _check_name(name: Any) -> None:
    if isinstance(name, str) and name.lower() == DEFAULT_NAME:
        raise errors.SecurityGroupDefaultAlreadyExists()


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> SecurityGroup:
    ctx.require_write("create_security_group")
    _check_name(data.get("name"))
    project = data["project_id"]
    templates = default_sg_rules.templates(session, default_group=False)
    common.enforce_quota(session, cfg, project, "security_group", SecurityGroup)
    common.enforce_quota(session, cfg, project, "security_group_rule", SecurityGroupRule, adding=len(templates))
    ensure_default_security_group(session, project)
    group = _insert_group(
        session, project, data.get("name", ""), data.get("description", ""), stateful=data.get("stateful", True)
    )
    specs = pure.from_templates(templates, group.id)
    sg_rules.insert_rules(session, group_id=group.id, project_id=project, specs=specs)
    return group


def _in_use(session: Session, group_id: str) -> bool:
    stmt = select(SecurityGroupPortBinding.port_id).where(SecurityGroupPortBinding.security_group_id == group_id)
    return session.scalar(stmt.limit(1)) is not None


def update(
    session: Session, ctx: Context, cfg: DomainConfig, group_id: str, data: dict[str, Any],
    if_match: int | None = None,
) -> SecurityGroup:
    group = _writable(session, ctx, group_id, "update_security_group")
    common.check_revision(group, if_match)
    if "name" in data:
        _check_name(data["name"])
        if group.name == DEFAULT_NAME:
            raise errors.SecurityGroupCannotUpdateDefault()
    if "stateful" in data and data["stateful"] != group.stateful and _in_use(session, group.id):
        raise errors.SecurityGroupInUse(id=group.id)
    if common.apply_updates(group, data, ("name", "description", "stateful")):
        group.bump_revision()
    session.flush()
    return group


def delete(
    session: Session, ctx: Context, cfg: DomainConfig, group_id: str, if_match: int | None = None
) -> None:
    group = _writable(session, ctx, group_id, "delete_security_group")
    common.check_revision(group, if_match)
    if _in_use(session, group.id):
        raise errors.SecurityGroupInUse(id=group.id)
    if group.name == DEFAULT_NAME and not ctx.is_admin:
        raise errors.SecurityGroupCannotRemoveDefault()
    # its rules, rules of other groups naming it as remote, and its default_security_groups
    # row go with it (ON DELETE CASCADE); a port binding would block it (no cascade)
    common.delete_tags(session, group.id)
    access.delete_policies_of(session, "security_group", group.id)
    session.delete(group)
    session.flush()


def render(session: Session, cfg: DomainConfig, groups: list[SecurityGroup], fresh: bool = False) -> list[dict[str, Any]]:
    ids = [g.id for g in groups]
    rules = sg_rules.rules_by_group(session, ids)
    tags = {} if fresh else common.tags_by_resource(session, ids)
    ctx = current()
    shared = set() if fresh or not ids else set(
        session.scalars(
            select(SecurityGroup.id).where(SecurityGroup.id.in_(ids), _shared_with(ctx or Context(project_id=None)))
        )
    )
    out = []
    for g in groups:
        d = {
            "id": g.id,
            "name": g.name,
            "stateful": g.stateful,
            "shared": g.id in shared,
            "security_group_rules": rules.get(g.id, []),
        }
        d.update(common.standard_fields(g, tags.get(g.id, [])))
        out.append(d)
    return out
